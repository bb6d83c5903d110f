/**
 * Where a simulated node's bytes go.
 *
 *   node --expose-gc --import tsx bench/sim-heap.ts run <nodes> <seed> [snapshot path]
 *     runs bench/sim-scenario.ts, forces a GC, prints heap, typed-array buffers (which V8 keeps
 *     outside the heap that heapUsed counts) and RSS, and writes a heap snapshot
 *   node --max-old-space-size=8000 --import tsx bench/sim-heap.ts report <snapshot path> [depth]
 *     reads the snapshot, builds its dominator tree (bench/heap-graph.ts) and prints what the
 *     swarm retains, per node: by path from its owner (a DhtNode's fields, the network's, the
 *     event queue's) and by constructor.
 *
 * An object's path is its dominator's path and the edge between them (or `~Class` when the
 * dominator holds it only through others), cut at `depth` steps from its owner; its owner is
 * the nearest DhtNode, SimNetwork, EventQueue or Swarm above it in the dominator tree.
 */
import { writeHeapSnapshot } from 'node:v8';
import { className, dominators, edgeLabel, readHeapSnapshot, retainedSizes, type HeapGraph } from './heap-graph.js';
import { fingerprintScenario } from './sim-scenario.js';

const OWNERS: Record<string, string> = {
  DhtNode: 'node',
  SimNetwork: 'network',
  EventQueue: 'queue',
  Swarm: 'swarm',
};

async function run(n: number, seed: number, path: string | undefined): Promise<void> {
  const { swarm } = await fingerprintScenario(n, seed);
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  console.log(
    `${n} nodes: heap after GC ${(m.heapUsed / 2 ** 20).toFixed(1)} MB, typed-array buffers outside it ${(m.arrayBuffers / 2 ** 20).toFixed(1)} MB, rss ${(m.rss / 2 ** 20).toFixed(0)} MB, events ${swarm.queue.processed}`,
  );
  if (path !== undefined) console.log(`snapshot: ${writeHeapSnapshot(path)}`);
  // Keep the swarm alive until the snapshot is written.
  if (swarm.nodes.size < 0) console.log(swarm);
}

function report(path: string, depth: number): void {
  const g = readHeapSnapshot(path);
  const idom = dominators(g);
  const retained = retainedSizes(g, idom);
  // Dominator tree children, parents before children (breadth first from the root).
  const kids = new Map<number, number[]>();
  for (let v = 1; v < g.count; v++) {
    const d = idom[v]!;
    if (d === -1) continue;
    let list = kids.get(d);
    if (list === undefined) kids.set(d, (list = []));
    list.push(v);
  }
  // A DhtNode's parts are also reachable from timers in the event queue and closures in the
  // network, which then dominate them: such a part is still counted as the node's, under the
  // DhtNode field that holds it (or its class, for a part no field holds).
  const fieldOf = new Map<number, string>();
  const partClasses = new Set<string>();
  for (let v = 0; v < g.count; v++) {
    if (className(g, v) !== 'DhtNode') continue;
    for (let e = g.firstEdge[v]!; e < g.firstEdge[v + 1]!; e++) {
      const name = edgeLabel(g, e);
      if (name === '[]' || name === 'map' || name === '__proto__') continue;
      fieldOf.set(g.edgeTo[e]!, name);
      partClasses.add(className(g, g.edgeTo[e]!));
    }
  }
  for (const v of kids.keys())
    if (className(g, v) === 'DhtNode') for (const c of kids.get(v)!) partClasses.add(className(g, c));
  for (const generic of ['Object', 'Map', 'Set', 'Array', 'Uint8Array', 'Float64Array']) partClasses.delete(generic);
  for (const c of [...partClasses]) if (c.startsWith('(')) partClasses.delete(c);
  const label = new Array<string | undefined>(g.count);
  const steps = new Uint8Array(g.count);
  const queue = [0];
  label[0] = '(outside the swarm)';
  steps[0] = 255;
  let nodes = 0;
  for (let i = 0; i < queue.length; i++) {
    const p = queue[i]!;
    for (const c of kids.get(p) ?? []) {
      const owner = OWNERS[className(g, c)];
      if (owner !== undefined) {
        if (owner === 'node') nodes++;
        label[c] = owner;
        steps[c] = 0;
      } else if (steps[p] === 0 && label[p] !== 'node' && (fieldOf.has(c) || partClasses.has(className(g, c)))) {
        label[c] = `node.${fieldOf.get(c) ?? `~${className(g, c)}`}`;
        steps[c] = 1;
      } else if (steps[p]! >= depth) {
        label[c] = label[p];
        steps[c] = steps[p]!;
      } else {
        const edge = steps[p] === 0 && label[p] === 'node' ? fieldOf.get(c) : edgeTo(g, p, c);
        label[c] = `${label[p]}.${edge ?? `~${className(g, c)}`}`;
        steps[c] = steps[p]! + 1;
      }
      queue.push(c);
    }
  }
  const byPath = new Map<string, number>();
  const byClass = new Map<string, number>();
  let total = 0;
  for (let v = 0; v < g.count; v++) {
    const l = label[v];
    if (l === undefined || l.startsWith('(outside')) continue;
    total += g.selfSize[v]!;
    // Every prefix of the path gets the bytes, so each line is a subtotal of the lines below it.
    const parts = l.split('.');
    for (let k = 1; k <= parts.length; k++) add(byPath, parts.slice(0, k).join('.'), g.selfSize[v]!);
    add(byClass, `${parts[0]} ${className(g, v)}`, g.selfSize[v]!);
  }
  const swarmRetained = [...Array(g.count).keys()].filter((v) => className(g, v) === 'Swarm').map((v) => retained[v]!);
  const perNode = (bytes: number): string => `${(bytes / nodes / 1024).toFixed(2)} KB`;
  console.log(
    `${nodes} DhtNodes; bytes under the swarm's owners ${(total / 2 ** 20).toFixed(1)} MB = ${perNode(total)} per node`,
  );
  console.log(`Swarm retains ${swarmRetained.map((b) => (b / 2 ** 20).toFixed(1)).join(', ')} MB`);
  console.log('\nby path (per node; each line includes those indented under it):');
  const paths = [...byPath].filter(([, b]) => b / nodes >= 64).sort(([a], [b]) => (a < b ? -1 : 1));
  for (const [p, b] of paths)
    console.log(`${'  '.repeat(p.split('.').length - 1)}${p.split('.').pop()}  ${perNode(b)}`);
  console.log('\nby constructor (per node, self sizes):');
  const classes = [...byClass].sort(([, a], [, b]) => b - a).slice(0, 40);
  for (const [c, b] of classes) console.log(`  ${perNode(b).padStart(10)}  ${c}`);
}

function add(m: Map<string, number>, key: string, by: number): void {
  m.set(key, (m.get(key) ?? 0) + by);
}

/** The name of an edge from `p` to `c`, preferring a property's name to an element's index. */
function edgeTo(g: HeapGraph, p: number, c: number): string | undefined {
  let found: string | undefined;
  for (let e = g.firstEdge[p]!; e < g.firstEdge[p + 1]!; e++) {
    if (g.edgeTo[e] !== c) continue;
    const name = edgeLabel(g, e);
    if (name !== '[]') return name;
    found = name;
  }
  return found;
}

const [mode, a, b, c] = process.argv.slice(2);
if (mode === 'run') await run(Number(a ?? 1000), Number(b ?? a ?? 1000), c);
else if (mode === 'report' && a !== undefined) report(a, Number(b ?? 3));
else console.error('usage: sim-heap.ts run <nodes> <seed> [snapshot] | report <snapshot> [depth]');
