import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The node's parts hold narrow hosts (context.ts), never the node: no core file imports
 * node/dht-node.ts, and the core's imports, type imports included, form no cycle. Read
 * from the import lines themselves, so a drawing cannot drift from the code.
 */
const core = dirname(fileURLToPath(import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : [];
  });
}

/** Each core file and the core files it imports (`import` and `export ... from`, types included). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(core)) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/g)]
      .map((m) => resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')))
      .filter((target) => target.startsWith(core));
    graph.set(relative(core, file), targets.map((t) => relative(core, t)));
  }
  return graph;
}

function cycles(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next].join(' -> '));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

describe('the core import graph', () => {
  const graph = importGraph();

  it('is read from the code: the node imports its parts', () => {
    expect(graph.get(join('node', 'dht-node.ts'))).toEqual(expect.arrayContaining([join('node', 'gateway.ts'), join('node', 'messenger.ts')]));
  });

  it('has no file but the node itself importing node/dht-node.ts', () => {
    const importers = [...graph].filter(([, targets]) => targets.includes(join('node', 'dht-node.ts'))).map(([file]) => file);
    expect(importers).toEqual([]);
  });

  it('has no cycle, type imports included', () => {
    expect(cycles(graph)).toEqual([]);
  });
});
