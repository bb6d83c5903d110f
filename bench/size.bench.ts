/**
 * `npm run bench:size`: what the package costs an app. Builds the package, then reports
 * the main-thread entry (with the chunks it imports statically), the chunks it loads on
 * demand (the pure-JS Ed25519) and the worker raw, minified (esbuild, as an app's build
 * would) and gzipped; which dependencies fill them; and the tarball. Rewrites the Package
 * size section of BENCHMARKS.md.
 */
import { execSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, transform } from 'esbuild';
import { kB, SIZE_BUDGET } from './size-budget.js';
import { staticChunks } from './static-chunks.js';
import { table, writeSection } from './report.js';

const gzip = (data: string | Uint8Array): number => gzipSync(data, { level: 9 }).length;

execSync('npm run build:lib', { stdio: ['ignore', 'ignore', 'inherit'] });

interface EntrySize {
  name: string;
  raw: number;
  rawGzip: number;
  min: number;
  minGzip: number;
  budget: number;
}
/** The files as one: each minified apart, as an app's build would, and their sizes summed. */
async function entry(name: string, files: string[], budget: number): Promise<EntrySize> {
  const sizes = await Promise.all(
    files.map(async (file) => {
      const code = readFileSync(file, 'utf8');
      const min = (await transform(code, { minify: true, format: 'esm', target: 'es2022' })).code;
      return { raw: code.length, rawGzip: gzip(code), min: min.length, minGzip: gzip(min) };
    }),
  );
  const sum = (k: keyof (typeof sizes)[number]): number => sizes.reduce((a, s) => a + s[k], 0);
  return { name, raw: sum('raw'), rawGzip: sum('rawGzip'), min: sum('min'), minGzip: sum('minGzip'), budget };
}

const mainFiles = staticChunks('dist/browser/index.js');
const lazyFiles = readdirSync('dist/browser')
  .map((f) => join('dist/browser', f))
  .filter((f) => f.endsWith('.js') && f !== 'dist/browser/worker.js' && !mainFiles.includes(f));
const names = (files: string[]): string => files.map((f) => `\`${f.slice('dist/browser/'.length)}\``).join(' + ');
const entries = [
  await entry(`main thread (${names(mainFiles)})`, mainFiles, SIZE_BUDGET.mainGzip),
  await entry(`on demand (${names(lazyFiles)}: the pure-JS Ed25519)`, lazyFiles, Infinity),
  await entry('worker (`dist/browser/worker.js`)', ['dist/browser/worker.js'], SIZE_BUDGET.workerGzip),
];

/**
 * Minified bytes per package (or per source folder of ours) in a bundle of the entry's
 * sources. The page's pure-JS Ed25519 is left out (external): it is a chunk loaded on
 * demand, and without it in the bundle esbuild's tree-shaking drops the @noble/curves
 * that nothing else on the page calls.
 */
async function composition(source: string): Promise<Array<[string, number, number]>> {
  const result = await build({
    plugins: [
      {
        name: 'on-demand',
        setup(b) {
          b.onResolve({ filter: /\/pure-ed25519\.js$/ }, (args) => ({ path: args.path, external: true }));
        },
      },
    ],
    entryPoints: [source],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'error',
    outdir: 'out',
  });
  const output = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined)!;
  const parts = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
    const segments = path.split('/');
    const key =
      segments[0] === 'node_modules'
        ? segments.slice(1, segments[1]!.startsWith('@') ? 3 : 2).join('/')
        : `our ${segments.slice(0, Math.min(segments.length - 1, 2)).join('/')}/`;
    parts.set(key, (parts.get(key) ?? 0) + bytesInOutput);
  }
  const total = [...parts.values()].reduce((a, b) => a + b, 0);
  return [...parts]
    .filter(([, v]) => v >= 50)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => [k, v, (100 * v) / total]);
}
const mainParts = await composition('src/index.ts');
const workerParts = await composition('worker/dht.worker.ts');

const [packed] = JSON.parse(
  execSync('npm pack --dry-run --json --ignore-scripts', { stdio: ['ignore', 'pipe', 'ignore'] }).toString(),
) as Array<{
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: Array<{ path: string; size: number }>;
}>;
const byDir = new Map<string, number>();
for (const f of packed!.files) {
  const dir = f.path.startsWith('dist/') ? f.path.split('/').slice(0, 2).join('/') : f.path;
  byDir.set(dir, (byDir.get(dir) ?? 0) + f.size);
}

const within = (v: number, budget: number): string =>
  budget === Infinity ? 'none' : v <= budget ? `within ${kB(budget)}` : `**over ${kB(budget)}**`;
const body = `
${table(
  ['entry', 'raw', 'raw gzip', 'minified', 'minified gzip', 'budget (minified gzip)'],
  entries.map((e) => [e.name, kB(e.raw), kB(e.rawGzip), kB(e.min), kB(e.minGzip), within(e.minGzip, e.budget)]),
)}

The package ships both unminified (readable; the app's build minifies them). The budget is in \`bench/size-budget.ts\`; the consumer tier holds a real Vite app's build to it.

What fills them (minified bytes of a bundle of each entry's sources): the main thread is mostly ${mainParts[0]![0]} (${mainParts[0]![2].toFixed(0)}%), the worker mostly ${workerParts[0]![0]} (${workerParts[0]![2].toFixed(0)}%). simple-peer's prebuilt browser bundle carries its own Buffer, stream and process shims: that is the price of needing no polyfills in the app; driving RTCPeerConnection directly would remove most of it. The worker carries Ed25519 and SHA-256 (@noble) for the core, which signs and checks records synchronously. The main thread carries SHA-256 only (node ids): it signs and checks with WebCrypto's Ed25519 and loads the pure-JS one (@noble/curves and SHA-512, the on-demand chunk) only in a browser without it.

${table(
  ['main thread', 'minified', 'share'],
  mainParts.map(([k, v, p]) => [k, kB(v), `${p.toFixed(0)}%`]),
)}

${table(
  ['worker', 'minified', 'share'],
  workerParts.map(([k, v, p]) => [k, kB(v), `${p.toFixed(0)}%`]),
)}

Tarball (\`npm pack\`): ${kB(packed!.size)} (${within(packed!.size, SIZE_BUDGET.tarball)}), ${kB(packed!.unpackedSize)} unpacked in ${packed!.entryCount} files:

${table(
  ['path', 'unpacked'],
  [...byDir].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, kB(v)]),
)}
`;
console.log(body);
writeSection('Package size', 'npm run bench:size', body);
