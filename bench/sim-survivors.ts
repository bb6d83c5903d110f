/**
 * What a simulated run allocates that outlives a scavenge, by allocation site.
 *
 *   node --max-semi-space-size=64 --import tsx bench/sim-survivors.ts <nodes> <seed> [mode] [top]
 *
 * Runs bench/sim-scenario.ts under V8's sampling heap profiler and prints the sampled bytes
 * by the function (and line) that allocated them. `mode` picks which samples V8 keeps:
 *   - `promoted` (default): objects still alive at the end or collected by a mark-compact:
 *     everything that was promoted to the old generation (what a scavenge frees is left out);
 *   - `live`: objects still alive at the end (the swarm itself);
 *   - `all`: every allocation, freed by scavenges too.
 * `promoted` less `live` at the same site is what died old: per-event state that a scavenge
 * found alive and copied out, and that then had to be found dead by marking the whole heap.
 * Sampled bytes are estimates (one sample per ~32 KB allocated); compare sites, not totals
 * of two runs. Under tsx every module is one line; run an unminified esbuild bundle of this
 * file for lines (`npx esbuild bench/sim-survivors.ts --bundle --platform=node --format=esm
 * --outfile=/tmp/survivors.mjs`): a bundle's lines are named by the module comment above them.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Session } from 'node:inspector/promises';
import { fingerprintScenario } from './sim-scenario.js';

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

const n = Number(process.argv[2] ?? 1000);
const seed = Number(process.argv[3] ?? n);
const mode = process.argv[4] ?? 'promoted';
const top = Number(process.argv[5] ?? 40);
if (!['promoted', 'live', 'all'].includes(mode)) throw new Error(`mode: promoted, live or all, not ${mode}`);

const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
await session.post('HeapProfiler.startSampling', {
  samplingInterval: 32_768,
  includeObjectsCollectedByMajorGC: mode !== 'live',
  includeObjectsCollectedByMinorGC: mode === 'all',
});
const { swarm } = await fingerprintScenario(n, seed);
const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: ProfileNode } };

/** In an esbuild bundle, the module each line belongs to (esbuild heads each with `// path`). */
const modules = new Map<string, Array<[number, string]>>();
const moduleOf = (url: string, line: number): string => {
  if (!url.startsWith('file://') || !url.endsWith('.mjs')) return url.replace(/^.*\/(src|bench)\//, '$1/');
  let heads = modules.get(url);
  if (heads === undefined) {
    heads = [];
    readFileSync(fileURLToPath(url), 'utf8')
      .split('\n')
      .forEach((text, i) => {
        const m = /^\/\/ ((src|bench|node_modules)\/\S+)$/.exec(text);
        if (m) heads!.push([i, m[1]!]);
      });
    modules.set(url, heads);
  }
  let name = url;
  for (const [at, path] of heads) if (at <= line) name = path;
  return name;
};

/** Bytes by allocation site: the allocating frame, and the frame that called it (one level of context). */
const bySite = new Map<string, number>();
let total = 0;
const walk = (node: ProfileNode, caller: string): void => {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = moduleOf(url, lineNumber);
  const here = `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
  if (node.selfSize > 0) {
    const key = `${here}  <- ${caller}`;
    bySite.set(key, (bySite.get(key) ?? 0) + node.selfSize);
    total += node.selfSize;
  }
  for (const child of node.children) walk(child, `${functionName || '(anonymous)'}:${lineNumber + 1}`);
};
walk(profile.head, '');
console.log(
  `${n} nodes, seed ${seed}, ${swarm.queue.processed} events, mode ${mode}: ${(total / 2 ** 20).toFixed(1)} MB sampled, ${(total / swarm.queue.processed) | 0 || (total / swarm.queue.processed).toFixed(2)} B per event`,
);
for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(
    `${((100 * bytes) / total).toFixed(1).padStart(5)}%  ${(bytes / 2 ** 20).toFixed(1).padStart(7)} MB  ${site}`,
  );
