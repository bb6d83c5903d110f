/**
 * `npm run test:consumers`: the package as an app gets it. Packs the tarball (its
 * `prepack` builds it), checks it with publint and @arethetypeswrong/cli, installs it into
 * a temporary directory beside Vite, webpack, esbuild and Playwright (npm's cache first:
 * the repo's own install already holds those versions), type-checks the fixture apps with
 * `strict` and `skipLibCheck: false`, builds them with their default configuration, serves
 * each on its own origin (the Vite app also through Vite's dev server), starts the packaged
 * demo with `macula-web demo`, and runs the fixtures' own Playwright specs
 * (e2e/consumers/specs) with the installed `macula-web/testing`.
 * KEEP_CONSUMERS=1 keeps the directory for a look afterwards.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { listen, listeningAddress } from '../src/relay/http.js';
import { createStaticServer } from '../src/relay/static-server.js';
import { kB, SIZE_BUDGET } from '../bench/size-budget.js';
import { staticChunks } from '../bench/static-chunks.js';
import { findBrowser } from './find-browser.js';

const repo = resolve(import.meta.dirname, '..');
const fixtures = join(repo, 'e2e/consumers');
const started = performance.now();
const timings: Array<[string, number]> = [];
const servers: Server[] = [];
const children: ChildProcess[] = [];

async function step<T>(name: string, f: () => T | Promise<T>): Promise<T> {
  const t0 = performance.now();
  console.log(`consumers: ${name}…`);
  const result = await f();
  timings.push([name, (performance.now() - t0) / 1000]);
  return result;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} (in ${cwd}) exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`.slice(-8000),
    );
  }
  return r.stdout;
}

const installedVersion = (name: string): string =>
  (JSON.parse(readFileSync(join(repo, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

async function serveDir(root: string): Promise<string> {
  const server = createStaticServer(root);
  await listen(server, 0, '127.0.0.1');
  servers.push(server);
  return `http://127.0.0.1:${listeningAddress(server).port}/`;
}

/** Starts a server process and resolves with the URL it prints once it listens. */
function startServer(name: string, command: string, args: string[], cwd: string, printed: RegExp): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, NO_COLOR: '1' } });
    children.push(child);
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${out}`)), 30_000);
    const read = (chunk: string): void => {
      out += chunk;
      const url = printed.exec(out)?.[1];
      if (url) {
        clearTimeout(timer);
        resolvePromise(url);
      }
    };
    child.stdout.setEncoding('utf8').on('data', read);
    child.stderr.setEncoding('utf8').on('data', read);
    child.once('exit', (code) => reject(new Error(`${name} exited ${code}: ${out}`)));
  });
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await listen(probe, 0, '127.0.0.1');
  const { port } = listeningAddress(probe);
  await new Promise((done) => probe.close(done));
  return port;
}

const gzipSize = (path: string): number => gzipSync(readFileSync(path), { level: 9 }).length;
const sizeOf = (path: string): string => `${kB(statSync(path).size)} (${kB(gzipSize(path))} gzip)`;

function withinBudget(what: string, path: string, budget: number): void {
  const size = gzipSize(path);
  if (size > budget)
    throw new Error(`${what} is ${kB(size)} gzip, over its budget of ${kB(budget)} (bench/size-budget.ts)`);
}

function jsIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .map((f) => join(dir, f));
}

/**
 * The Vite app's entry chunk: the script its built index.html loads. Not "the first JS file
 * that is not the worker": the package's lazy chunk (the pure-JS Ed25519) sits beside it.
 */
function viteEntry(dist: string): string {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const src = /<script type="module"[^>]*\ssrc="\/?([^"]+\.js)"/.exec(html)?.[1];
  if (src === undefined) throw new Error("the Vite app's index.html loads no module script");
  return join(dist, src);
}

const dir = mkdtempSync(join(tmpdir(), 'macula-consumers-'));
let status = 1;
try {
  const browser = await findBrowser();
  const tarball = await step('npm pack (prepack builds the package)', () => {
    // stdout carries the prepack build's output first, then npm's JSON report.
    const out = run('npm', ['pack', '--json', '--pack-destination', dir], repo);
    const [packed] = JSON.parse(out.slice(out.startsWith('[') ? 0 : out.lastIndexOf('\n[') + 1)) as Array<{
      filename: string;
      size: number;
      entryCount: number;
    }>;
    console.log(`consumers: ${packed!.filename}: ${kB(packed!.size)}, ${packed!.entryCount} files`);
    if (packed!.size > SIZE_BUDGET.tarball)
      throw new Error(
        `the tarball (${kB(packed!.size)}) is over its budget of ${kB(SIZE_BUDGET.tarball)} (bench/size-budget.ts)`,
      );
    return join(dir, packed!.filename);
  });
  await step('publint and attw on the tarball', () => {
    console.log(run(join(repo, 'node_modules/.bin/publint'), ['run', '--strict', tarball], repo).trim());
    run(join(repo, 'node_modules/.bin/attw'), [tarball, '--profile', 'esm-only', '--format', 'table-flipped'], repo);
    console.log('consumers: attw: types resolve for node16 (ESM) and bundlers in every entry point');
  });

  const spec = readFileSync(join(fixtures, 'specs/three-peers.spec.ts'), 'utf8').trimEnd().split('\n').length;
  if (spec >= 20)
    throw new Error(`specs/three-peers.spec.ts has ${spec} lines: the kit promises a 3-peer test in under 20`);

  await step('npm install of the tarball, Vite, webpack, esbuild and Playwright (--prefer-offline)', () => {
    cpSync(fixtures, dir, { recursive: true });
    const dependencies = Object.fromEntries(
      ['vite', 'webpack', 'webpack-cli', 'esbuild', '@playwright/test', '@types/node'].map((n) => [
        n,
        installedVersion(n),
      ]),
    );
    writeFileSync(
      join(dir, 'package.json'),
      `${JSON.stringify({ name: 'consumer-apps', private: true, type: 'module', dependencies: { 'macula-web': `file:${tarball}`, ...dependencies } }, null, 2)}\n`,
    );
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], dir);
  });
  await step('type-check the Vite app and the specs (strict, skipLibCheck false)', () => {
    run(join(repo, 'node_modules/.bin/tsc'), ['-p', join(dir, 'vite-app/tsconfig.json')], dir);
    run(join(repo, 'node_modules/.bin/tsc'), ['-p', join(dir, 'tsconfig.json')], dir);
  });
  await step('vite build (default configuration)', () =>
    run(join(dir, 'node_modules/.bin/vite'), ['build'], join(dir, 'vite-app')),
  );
  await step('webpack (no configuration file)', () =>
    run(join(dir, 'node_modules/.bin/webpack'), [], join(dir, 'webpack-app')),
  );
  await step('esbuild, and the worker copied as README.md says', () => {
    const app = join(dir, 'esbuild-app');
    run(join(dir, 'node_modules/.bin/esbuild'), ['src/main.js', '--bundle', '--format=esm', '--outdir=dist'], app);
    cpSync(join(dir, 'node_modules/macula-web/dist/browser/worker.js'), join(app, 'static/macula-worker.js'));
  });

  // Each app must have emitted the worker next to its own code.
  const viteJs = jsIn(join(dir, 'vite-app/dist/assets'));
  const webpackJs = jsIn(join(dir, 'webpack-app/dist'));
  const viteWorker = viteJs.find((f) => /worker/.test(f));
  if (viteWorker === undefined || viteJs.length < 2)
    throw new Error(`vite build emitted no worker: ${viteJs.join(', ')}`);
  if (webpackJs.length < 2) throw new Error(`webpack emitted no worker chunk: ${webpackJs.join(', ')}`);
  const viteMain = viteEntry(join(dir, 'vite-app/dist'));
  const viteStatic = staticChunks(viteMain);
  if (viteStatic.length > 1) throw new Error(`the Vite app's entry imports chunks: ${viteStatic.join(', ')}`);
  // The rest is loaded on demand (the pure-JS Ed25519, where the browser has no WebCrypto Ed25519).
  const viteLazy = viteJs.filter((f) => f !== viteWorker && f !== viteMain);
  console.log(`consumers: Vite app main ${sizeOf(viteMain)}, worker ${sizeOf(viteWorker)}`);
  for (const f of viteLazy) console.log(`consumers: Vite app on demand ${f.slice(dir.length + 1)} ${sizeOf(f)}`);
  for (const f of webpackJs) console.log(`consumers: webpack ${f.slice(dir.length + 1)} ${sizeOf(f)}`);
  withinBudget("the Vite app's main-thread bundle", viteMain, SIZE_BUDGET.mainGzip);
  withinBudget("the Vite app's worker", viteWorker, SIZE_BUDGET.workerGzip);

  status = await step('Playwright: the apps, the demo and the kit', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CHROMIUM_PATH: browser,
      VITE_APP_URL: await serveDir(join(dir, 'vite-app/dist')),
      WEBPACK_APP_URL: await serveDir(join(dir, 'webpack-app')),
      PLAIN_APP_URL: `${await serveDir(dir)}plain-page/`,
      ESBUILD_APP_URL: await serveDir(join(dir, 'esbuild-app')),
      // The installed bin, as `npx macula-web demo` runs it.
      DEMO_URL: await startServer(
        'macula-web demo',
        join(dir, 'node_modules/.bin/macula-web'),
        ['demo', '--port', '0', '--host', '127.0.0.1'],
        dir,
        /demo on (http:\/\/\S+)/,
      ),
      // The kit's test opens the Vite app through Vite's dev server.
      VITE_DEV_URL: await startServer(
        'vite (dev)',
        join(dir, 'node_modules/.bin/vite'),
        ['--host', '127.0.0.1', '--port', String(await freePort()), '--strictPort'],
        join(dir, 'vite-app'),
        /Local:\s+(http:\/\/\S+)/,
      ),
    };
    env['RELAY_URL'] = `${env['DEMO_URL']!.replace(/^http/, 'ws')}relay`;
    // Not spawnSync: the apps' static servers run in this process and must keep answering.
    const child = spawn(join(dir, 'node_modules/.bin/playwright'), ['test'], { cwd: dir, env, stdio: 'inherit' });
    return new Promise<number>((done) => child.once('exit', (code) => done(code ?? 1)));
  });
} catch (e) {
  console.error(`consumers: ${e instanceof Error ? e.message : String(e)}`);
  status = 1;
} finally {
  for (const child of children) child.kill('SIGTERM');
  for (const s of servers) {
    s.close();
    s.closeAllConnections();
  }
  for (const [name, s] of timings) console.log(`consumers: ${s.toFixed(1).padStart(6)} s  ${name}`);
  console.log(`consumers: ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s  in all`);
  if (process.env['KEEP_CONSUMERS']) console.log(`consumers: kept ${dir}`);
  else if (existsSync(dir) && statSync(dir).isDirectory()) rmSync(dir, { recursive: true, force: true });
}
process.exit(status);
