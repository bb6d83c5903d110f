/**
 * `npm run bench:hops`: lookups that cross several hops between real tabs, and what a tab
 * costs in memory. bench:browser's meshes are so small that every lookup takes one hop: a
 * neighbour nearly always holds one of the k = 20 replicas. Here every tab runs with the
 * public options `k` (replicas) and `maxNeighbours` (channel cap) turned down, so a mesh of
 * a few dozen tabs routes as a far larger one would (docs/ARCHITECTURE.md, The neighbour-set rule).
 *
 *   npm run bench:hops -- [--sizes=8,48] [--k=2] [--max-neighbours=8] [--lookups=10]
 *
 * Per size, in one headless Chromium, every tab in a browser context of its own: lookup hops,
 * cold discovery beside hops × the raw data-channel round trip measured between two of the
 * same tabs, success, PeerConnections per tab, and the JS heaps of each tab's page and DHT
 * worker after a forced garbage collection (CDP Runtime.getHeapUsage on each target), against
 * the budget in hops-report.ts. Puppeteer, not Playwright: it gives a session on the worker.
 */
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import puppeteer, { type Browser, type CDPSession, type Page } from 'puppeteer-core';
import { CHROMIUM_ARGS, findBrowser } from '../scripts/find-browser.js';
import { listen } from '../src/relay/http.js';
import { startRelay } from '../src/relay/relay.js';
import type { BrowserBench } from './browser-page.js';
import { renderHopsReport, type HopsRun, type TabMemory } from './hops-report.js';
import { mean, percentile, writeSection } from './report.js';
import { isolatedPagesServer } from './isolated-pages.js';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const SIZES = (arg('sizes') ?? '8,48').split(',').map(Number);
const K = Number(arg('k') ?? 2);
const CAP = Number(arg('max-neighbours') ?? 8);
const LOOKUPS = Number(arg('lookups') ?? 10);
const SERVICE = 'bench.echo';
const STEP_TIMEOUT_MS = 120_000;
/** Why channels come and go, summed over the tabs from their start: what a churning mesh shows. */
const CHURN_COUNTERS = [
  'connections.refusedAtCap',
  'connections.busySent',
  'connections.busyReceived',
  'connections.busy',
  'offers.refused.busy',
  'connections.failed',
  'connections.openTimeouts',
  'connections.dropped',
  'neighbours.dead',
  'liveness.pingTimeout',
  'route.ackTimeout',
  'neighbours.junkDisconnect',
  'lookups.failed',
];

type Fn = (...args: never[]) => unknown;
type BenchKey = { [K in keyof BrowserBench]: BrowserBench[K] extends Fn ? K : never }[keyof BrowserBench];
type DataKey = 'join' | 'serviceHops' | 'nodeId';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A step that does not finish in time fails the run, naming itself, instead of hanging it. */
async function step<T>(name: string, work: Promise<T>, ms = STEP_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** Run one of the page's bench functions (its timing loops run inside the page). */
function run<N extends BenchKey>(
  page: Page,
  name: N,
  ...args: Parameters<BrowserBench[N]>
): Promise<Awaited<ReturnType<BrowserBench[N]>>> {
  const evaluated = page.evaluate(
    (n: string, a: unknown[]) => {
      const b = window.bench as unknown as Record<string, (...x: unknown[]) => unknown>;
      return b[n]!(...a);
    },
    name,
    args as unknown[],
  ) as Promise<Awaited<ReturnType<BrowserBench[N]>>>;
  return step(`page.${name}`, evaluated);
}

const read = <N extends DataKey>(page: Page, key: N): Promise<BrowserBench[N]> =>
  page.evaluate((k: string) => (window.bench as unknown as Record<string, unknown>)[k], key) as Promise<
    BrowserBench[N]
  >;

const stat = async (page: Page, name: string): Promise<number> => (await run(page, 'stats'))[name] ?? 0;

async function until(what: string, cond: () => Promise<boolean>, timeoutMs = STEP_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Wait until no tab has created a connection for `quietMs`: the neighbour sets are built. */
async function settle(pages: Page[], quietMs = 5_000): Promise<void> {
  const created = async (): Promise<number> =>
    (await Promise.all(pages.map((p) => stat(p, 'connections.created')))).reduce((a, b) => a + b, 0);
  let last = await created();
  let quietSince = Date.now();
  const deadline = Date.now() + 180_000;
  while (Date.now() - quietSince < quietMs && Date.now() < deadline) {
    await sleep(1_000);
    const now = await created();
    if (now !== last) {
      last = now;
      quietSince = Date.now();
    }
  }
}

async function openTabs(browser: Browser, url: string, n: number): Promise<{ pages: Page[]; joinMs: number[] }> {
  const pages: Page[] = [];
  const joinMs: number[] = [];
  for (let i = 0; i < n; i++) {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error(`page ${i}: ${e instanceof Error ? e.message : String(e)}`));
    await step(`tab ${i} to load`, page.goto(url));
    await step(
      `tab ${i} to start its peer`,
      page.waitForFunction(() => window.bench !== undefined),
    );
    pages.push(page);
    if (i === 0) continue;
    await until(`tab ${i} to open a channel`, async () => (await read(page, 'join')).firstChannelMs !== undefined);
    joinMs.push((await read(page, 'join')).firstChannelMs!);
  }
  return { pages, joinMs };
}

/** A bare RTCDataChannel between two of the tabs, signalled by this process: the floor of one hop. */
async function rawRoundTrips(a: Page, b: Page): Promise<number[]> {
  const offer = await run(a, 'rawOffer');
  const answer = await run(b, 'rawAnswer', offer);
  await run(a, 'rawAccept', answer);
  await run(a, 'rawPing', 50);
  const rtt = await run(a, 'rawPing', 300);
  await run(a, 'rawClose');
  await run(b, 'rawClose');
  return rtt;
}

/** JS heap in use after a full collection, of one target (a page's main thread, or a worker). */
async function heapAfterGc(session: CDPSession): Promise<number> {
  await session.send('HeapProfiler.collectGarbage');
  const { usedSize } = await session.send('Runtime.getHeapUsage');
  return usedSize;
}

async function memory(page: Page): Promise<TabMemory> {
  const session = await page.createCDPSession();
  try {
    const pageHeap = await heapAfterGc(session);
    // The DHT worker: the only worker left once the floors' echo worker was terminated.
    const workers = page.workers();
    let workerHeap = 0;
    for (const w of workers) workerHeap += await heapAfterGc(w.client);
    return { pageHeap, workerHeap, workers: workers.length };
  } finally {
    await session.detach();
  }
}

async function runSize(browser: Browser, base: string, n: number): Promise<HopsRun> {
  console.log(`bench:hops: ${n} tabs, k ${K}, maxNeighbours ${CAP}`);
  const url = `${base}?realm=hops-${n}-${Date.now()}&k=${K}&maxNeighbours=${CAP}`;
  const { pages, joinMs } = await openTabs(browser, url, n);
  try {
    const provider = pages[0]!;
    const providerId = await read(provider, 'nodeId');
    await run(provider, 'advertise', SERVICE);
    await settle(pages);
    const rawRtt = await rawRoundTrips(pages[1]!, provider);

    const others = pages.slice(1);
    const createdBefore = await Promise.all(pages.map((p) => stat(p, 'connections.created')));
    const optionalBefore = await Promise.all(pages.map((p) => stat(p, 'connections.created.optional')));
    const hopsBefore = await Promise.all(others.map(async (p) => (await read(p, 'serviceHops')).length));
    const discoveries: Array<{ ms: number; found: boolean }> = [];
    // One tab at a time, so every lookup runs alone in the mesh.
    for (const p of others) discoveries.push(...(await run(p, 'discoverRuns', SERVICE, LOOKUPS, providerId)));
    const hops: number[] = [];
    for (const [i, p] of others.entries()) hops.push(...(await read(p, 'serviceHops')).slice(hopsBefore[i]));
    const createdAfter = await Promise.all(pages.map((p) => stat(p, 'connections.created')));
    const optionalAfter = await Promise.all(pages.map((p) => stat(p, 'connections.created.optional')));

    const open = await Promise.all(pages.map((p) => stat(p, 'connections.open')));
    const churn: Record<string, number> = {};
    for (const p of pages) {
      const s = await run(p, 'stats');
      for (const name of CHURN_COUNTERS) churn[name] = (churn[name] ?? 0) + (s[name] ?? 0);
    }
    const mem: TabMemory[] = [];
    for (const p of pages) mem.push(await memory(p));
    return {
      tabs: n,
      k: K,
      cap: CAP,
      joinMs,
      rawRtt,
      discoveries,
      hops,
      openPerTab: open,
      createdPerTab: createdAfter,
      createdDuringLookups: createdAfter.reduce((a, c, i) => a + c - createdBefore[i]!, 0),
      optionalDuringLookups: optionalAfter.reduce((a, c, i) => a + c - optionalBefore[i]!, 0),
      memory: mem,
      churn,
    };
  } finally {
    await Promise.all(pages.map((p) => p.browserContext().close()));
  }
}

function printRun(r: HopsRun): void {
  const ok = r.discoveries.filter((d) => d.found).length;
  console.log(
    `  ${r.tabs} tabs: hops p50 ${percentile(r.hops, 50)} p95 ${percentile(r.hops, 95)} mean ${mean(r.hops).toFixed(2)}, ` +
      `cold p50 ${percentile(
        r.discoveries.map((d) => d.ms),
        50,
      ).toFixed(2)} ms, raw p50 ${percentile(r.rawRtt, 50).toFixed(3)} ms, found ${ok}/${r.discoveries.length}, ` +
      `open channels mean ${mean(r.openPerTab).toFixed(1)} max ${Math.max(...r.openPerTab)}, ` +
      `heap page ${(mean(r.memory.map((m) => m.pageHeap)) / 2 ** 20).toFixed(1)} MB worker ${(mean(r.memory.map((m) => m.workerHeap)) / 2 ** 20).toFixed(1)} MB`,
  );
}

async function main(): Promise<void> {
  const { server, close: closePages } = await isolatedPagesServer('bench/browser.bench.html');
  const relay = await startRelay({ server, limits: { socketsPerAddress: 512 } });
  await listen(server, 0, '127.0.0.1');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bench/browser.bench.html`;
  const load = loadavg()[0]!;
  const browser = await puppeteer.launch({ executablePath: await findBrowser(), headless: true, args: CHROMIUM_ARGS });
  const version = await browser.version();
  const runs: HopsRun[] = [];
  try {
    for (const n of SIZES) {
      const r = await runSize(browser, base, n);
      runs.push(r);
      printRun(r);
    }
  } finally {
    await browser.close();
    await relay.close();
    await closePages();
  }
  const command = `npm run bench:hops${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const body = renderHopsReport(version, load, LOOKUPS, runs);
  console.log(body);
  writeSection('Browser: multi-hop', command, body);
}

await main();
process.exit(0);
