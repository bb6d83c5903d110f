import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The house rules of docs/ARCHITECTURE.md ("Layers"), read off the import lines so a picture cannot drift from
 * the code: lower folders never import higher ones, the core does no I/O, node parts never hold the node, page
 * code never reaches the Node-only relay, and no import cycle exists (type imports included).
 */

const repo = normalize(join(dirname(fileURLToPath(import.meta.url)), '..'));

interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(repo, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const files = [...sourceFiles('src'), ...sourceFiles('worker')];

/** Every `import … from '…'` and `export … from '…'` of a file; relative targets resolved to repo paths. */
function importsOf(file: string): Import[] {
  const text = readFileSync(join(repo, file), 'utf8');
  const found: Import[] = [];
  for (const m of text.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+['"]([^'"]+)['"]/gms)) {
    const spec = m[3]!;
    const typeOnly = Boolean(m[2]);
    const to = spec.startsWith('.') ? relative(repo, join(repo, dirname(file), spec)).replace(/\.js$/, '.ts') : spec;
    found.push({ from: file, to, typeOnly });
  }
  return found;
}

const imports = files.flatMap(importsOf);

/** The folder a file belongs to for layering: `core/<concept>`, `peer/<thread>`, or the top folder. */
function layerOf(path: string): string {
  const parts = path.split('/');
  if (parts[0] === 'worker') return 'worker';
  if (parts[0] !== 'src') return 'external';
  if (parts.length === 2) return path === 'src/index.ts' ? 'index' : path;
  if (path === 'src/core/context.ts') return 'core/context';
  if (path === 'src/core/counters.ts') return 'core/counters';
  if (parts[1] === 'core' || parts[1] === 'peer') return parts.length > 3 ? `${parts[1]}/${parts[2]}` : parts[1]!;
  return parts[1]!;
}

/** What each layer may import (besides itself). A layer missing here fails the test, so new folders get a rule. */
const allowed: Record<string, string[]> = {
  core: [],
  'core/wire': ['core'],
  'core/records': ['core', 'core/wire'],
  'core/defence': ['core', 'core/wire'],
  // The typed list of counters: its families name wire types, decode errors, flood classes and trust outcomes.
  'core/counters': ['core', 'core/wire', 'core/defence'],
  'core/routing': ['core', 'core/wire', 'core/records', 'core/defence', 'core/counters:type'],
  // The capabilities handed to the node's parts: types only, naming what lookups and routing deal in.
  'core/context': [
    'core',
    'core/wire',
    'core/records',
    'core/routing',
    'core/defence',
    'core/lookup:type',
    'core/counters:type',
  ],
  'core/lookup': ['core', 'core/wire', 'core/records', 'core/routing', 'core/defence', 'core/context:type'],
  'core/node': [
    'core',
    'core/wire',
    'core/records',
    'core/routing',
    'core/defence',
    'core/lookup',
    'core/context',
    'core/counters',
  ],
  'core/registry': [
    'core',
    'core/wire',
    'core/records',
    'core/routing',
    'core/defence',
    'core/lookup',
    'core/node',
    'core/context',
    'core/counters',
  ],
  storage: ['core'],
  // Ed25519 through the platform's WebCrypto, for the worker and the page (the core keeps its pure-JS one).
  crypto: ['core'],
  transport: ['core'],
  signaling: ['core', 'crypto:type'],
  // The bytes bridge names a record's public shape (ProviderInfo) in what the worker tells the page.
  peer: ['core', 'core/records:type'],
  'peer/worker': ['core/*', 'peer', 'crypto'],
  // The page names the worker's API in types only (Comlink's Remote<WorkerApi>); no worker code runs there.
  'peer/main': ['core/*', 'peer', 'transport', 'signaling', 'storage', 'crypto', 'peer/worker:type'],
  index: ['core/*', 'peer/main', 'peer/worker:type'],
  worker: ['peer/worker', 'storage'],
  relay: ['core', 'signaling'],
  // Node: the `macula-web/node` peer composes the page's half and the worker's API with Node's
  // WebRTC, files and ws (Node-only imports are allowed here, never in page or worker code).
  node: ['core/*', 'peer', 'peer/main', 'peer/worker', 'storage', 'transport', 'signaling'],
  // Node: the `macula-web` command runs relays and the demo server, and each relay's own Node peer.
  cli: ['relay', 'node', 'signaling', 'core'],
  // Node (Playwright's side): drives pages whose peer it names in types only.
  testing: ['core/*', 'relay', 'peer/main:type'],
  demo: ['index'],
  sim: ['core/*', 'peer/worker', 'storage'],
};

function mayImport(from: string, to: string, typeOnly: boolean): boolean {
  if (from === to) return true;
  return (allowed[from] ?? []).some((rule) => {
    const [layer, kind] = rule.split(':');
    if (kind === 'type' && !typeOnly) return false;
    if (layer === 'core/*') return to === 'core' || to.startsWith('core/');
    return layer === to;
  });
}

/** Packages the core may use: pure computation, no I/O. */
const corePackages = ['@noble/hashes/', '@noble/curves/', '@msgpack/msgpack'];
/** Code that runs in a page or the worker. */
const browserLayers = [
  'index',
  'demo',
  'peer',
  'peer/main',
  'peer/worker',
  'transport',
  'signaling',
  'storage',
  'worker',
];

describe('layering', () => {
  it('gives every folder a rule', () => {
    const layers = new Set(files.map(layerOf));
    expect([...layers].filter((l) => !(l in allowed))).toEqual([]);
  });

  it('has no arrow from a lower folder to a higher one', () => {
    const wrong = imports
      .filter((i) => i.to.startsWith('src/') || i.to.startsWith('worker/'))
      .filter((i) => !mayImport(layerOf(i.from), layerOf(i.to), i.typeOnly))
      .map((i) => `${i.from} -> ${i.to}`);
    expect(wrong).toEqual([]);
  });

  it('keeps the core free of I/O packages', () => {
    const wrong = imports
      .filter((i) => layerOf(i.from).startsWith('core') && !i.to.startsWith('src/'))
      .filter((i) => !corePackages.some((p) => i.to.startsWith(p)))
      .map((i) => `${i.from} -> ${i.to}`);
    expect(wrong).toEqual([]);
  });

  it('lets no part of the node hold the node', () => {
    const wrong = imports
      .filter((i) => i.to === 'src/core/node/dht-node.ts' && layerOf(i.from).startsWith('core'))
      .map((i) => `${i.from} -> ${i.to}`);
    expect(wrong).toEqual([]);
  });

  it('keeps Node-only code out of the page and the worker', () => {
    const wrong = imports
      .filter((i) => browserLayers.includes(layerOf(i.from)))
      .filter(
        (i) =>
          i.to.startsWith('src/relay/') ||
          i.to.startsWith('src/node/') ||
          i.to.startsWith('node:') ||
          i.to === 'ws' ||
          i.to.startsWith('@roamhq/wrtc'),
      )
      .map((i) => `${i.from} -> ${i.to}`);
    expect(wrong).toEqual([]);
  });

  it('has no import cycle, type imports included', () => {
    const next = new Map<string, string[]>();
    for (const i of imports) if (i.to.startsWith('src/')) next.set(i.from, [...(next.get(i.from) ?? []), i.to]);
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, trail: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const to of next.get(file) ?? []) visit(to, [...trail, file]);
      state.set(file, 'done');
    };
    for (const f of files) visit(f, []);
    expect(cycles).toEqual([]);
  });
});
