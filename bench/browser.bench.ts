/**
 * `npm run bench:browser`: the product in real browsers, against the floors measured in the
 * same run. 8 and then 16 peers, each in its own context of one headless Chromium, with the
 * relay `npm start` runs; then a soak of one forced discovery per second among the 16 tabs.
 *
 *   npm run bench:browser -- [--sizes=8,16] [--soak-minutes=10]
 *
 * Figures: join (page load → first open channel, → a routing-table contact), cold and cached
 * discovery, call round trip, publish → receipt at 5 subscribers, PeerConnections created per
 * discovery and per call, the soak; floors: a bare RTCDataChannel round trip between the same
 * pages and one worker round trip by postMessage and by an empty Comlink call.
 */
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, findBrowser } from '../scripts/find-browser.js';
import { listen } from '../src/relay/http.js';
import { startRelayProcess } from './join-relay.js';
import type { BrowserBench } from './browser-page.js';
import { renderReport, type RunFigures, type SoakFigures } from './browser-report.js';
import { mean, percentile, writeSection } from './report.js';
import { isolatedPagesServer } from './isolated-pages.js';
import { pageSays } from './page-says.js';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const SIZES = (arg('sizes') ?? '8,16').split(',').map(Number);
const SOAK_MINUTES = Number(arg('soak-minutes') ?? 10);
const SERVICE = 'bench.echo';
const TOPIC = 'bench.topic';
const SUBSCRIBERS = 5;
const STEP_TIMEOUT_MS = 60_000;

type Fn = (...args: never[]) => unknown;
type BenchKey = { [K in keyof BrowserBench]: BrowserBench[K] extends Fn ? K : never }[keyof BrowserBench];

/** Run one of the page's bench functions (its timing loops run inside the page). */
function run<K extends BenchKey>(
  page: Page,
  name: K,
  ...args: Parameters<BrowserBench[K]>
): Promise<Awaited<ReturnType<BrowserBench[K]>>> {
  const evaluated = page.evaluate(
    ([n, a]) => {
      const b = window.bench as unknown as Record<string, (...x: unknown[]) => unknown>;
      return b[n]!(...a);
    },
    [name, args] as [string, unknown[]],
  ) as Promise<Awaited<ReturnType<BrowserBench[K]>>>;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`page.${name}: no answer within ${STEP_TIMEOUT_MS} ms`)),
      STEP_TIMEOUT_MS,
    );
  });
  return Promise.race([evaluated, deadline]).finally(() => clearTimeout(timer));
}

const read = <K extends 'join' | 'received' | 'lookupHops'>(page: Page, key: K): Promise<BrowserBench[K]> =>
  page.evaluate((k) => window.bench![k], key) as Promise<BrowserBench[K]>;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => Promise<boolean>, timeoutMs = STEP_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function sumStat(pages: Page[], name: string): Promise<number[]> {
  return Promise.all(pages.map(async (p) => (await run(p, 'stats'))[name] ?? 0));
}
const total = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

/** Wait until no tab has created a connection for `quietMs`: the neighbour sets are built. */
async function settle(pages: Page[], quietMs = 4_000): Promise<void> {
  let last = total(await sumStat(pages, 'connections.created'));
  let quietSince = Date.now();
  const deadline = Date.now() + 90_000;
  while (Date.now() - quietSince < quietMs && Date.now() < deadline) {
    await sleep(500);
    const now = total(await sumStat(pages, 'connections.created'));
    if (now !== last) {
      last = now;
      quietSince = Date.now();
    }
  }
}

async function openPeers(
  browser: Browser,
  url: string,
  n: number,
): Promise<{ pages: Page[]; joins: RunFigures['joins'] }> {
  const pages: Page[] = [];
  const joins: RunFigures['joins'] = [];
  for (let i = 0; i < n; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error(`page ${i}: ${e.message}`));
    // The join is waited for by the page's console messages, not by polling it: nothing of
    // Playwright's runs in the page until it has joined (page-says.ts).
    const ready = pageSays(page, 'ready', STEP_TIMEOUT_MS);
    const joined = i > 0 ? pageSays(page, 'first-contact', STEP_TIMEOUT_MS) : undefined;
    await page.goto(url);
    await ready;
    await joined;
    if (i === 0 && !(await page.evaluate(() => crossOriginIsolated)))
      console.warn('bench:browser: pages are not cross-origin isolated (100 µs clock)');
    pages.push(page);
    // The first tab has nobody to meet; every later one joins the mesh the earlier ones formed.
    if (i === 0) continue;
    await until(`tab ${i} to join`, async () => {
      const j = await read(page, 'join');
      return j.firstChannelMs !== undefined && j.firstContactMs !== undefined;
    });
    const j = await read(page, 'join');
    joins.push({
      readyMs: j.readyMs!,
      firstChannelMs: j.firstChannelMs!,
      firstContactMs: j.firstContactMs!,
      phases: { 'script-start': j.scriptStartMs, ...j.phases },
    });
  }
  return { pages, joins };
}

/** Widths of the fan-out floor: one tab (the raw floor again, in the same rounds), a discovery's first round, a publish's subscribers. */
const FAN_WIDTHS = [1, 3, 5];

/** `a`'s message to 1, 3 and 5 of `to` at once, each echoing it, the widths taking turns (bare RTCPeerConnections). */
async function measureFanOut(a: Page, to: Page[]): Promise<Record<number, number[]>> {
  const offers = await run(a, 'fanOffers', to.length);
  const answers: string[] = [];
  for (const [i, page] of to.entries()) answers.push(await run(page, 'fanAnswer', offers[i]!));
  await run(a, 'fanAccept', answers);
  await run(a, 'fanPing', 20, FAN_WIDTHS);
  const fan = await run(a, 'fanPing', 200, FAN_WIDTHS);
  for (const page of [a, ...to]) await run(page, 'fanClose');
  return fan;
}

async function measureFloors(a: Page, b: Page, fanTo: Page[]): Promise<RunFigures['floors']> {
  const offer = await run(a, 'rawOffer');
  const answer = await run(b, 'rawAnswer', offer);
  const setupMs = await run(a, 'rawAccept', answer);
  await run(a, 'rawPing', 50);
  const channelRtt = await run(a, 'rawPing', 500);
  await run(a, 'rawClose');
  await run(b, 'rawClose');
  const fanOut = await measureFanOut(a, fanTo);
  await run(a, 'workerFloors', 100);
  const worker = await run(a, 'workerFloors', 1000);
  await run(a, 'apiRoundTrips', 100);
  const api = await run(a, 'apiRoundTrips', 1000);
  return {
    setupMs,
    channelRtt,
    fanOut,
    postMessage: worker.postMessage,
    comlink: worker.comlink,
    productApi: api,
  };
}

async function runSize(
  browser: Browser,
  base: string,
  relayUrl: string,
  n: number,
): Promise<{ figures: RunFigures; pages: Page[] }> {
  console.log(`bench:browser: ${n} peers`);
  const url = `${base}?relay=${encodeURIComponent(relayUrl)}&realm=bench-${n}-${Date.now()}`;
  const { pages, joins } = await openPeers(browser, url, n);
  const provider = pages[0]!;
  const others = pages.slice(1);
  await run(provider, 'advertise', SERVICE);
  await settle(pages);
  const floors = await measureFloors(pages[1]!, provider, pages.slice(2, 2 + Math.max(...FAN_WIDTHS)));

  // Cold discovery: a real DHT lookup each time, from every tab but the provider.
  const connsBefore = total(await sumStat(pages, 'connections.created'));
  const optionalBefore = total(await sumStat(pages, 'connections.created.optional'));
  const msgsBefore = total(await sumStat(pages, 'messages.in'));
  const hopsBefore = await Promise.all(others.map(async (p) => (await read(p, 'lookupHops')).length));
  const cold: number[] = [];
  for (const p of others) cold.push(...(await run(p, 'discoverTimes', SERVICE, 10, true)));
  const coldLookups = others.length * 10;
  const msgsAfter = total(await sumStat(pages, 'messages.in'));
  const connsAfterDiscovery = total(await sumStat(pages, 'connections.created'));
  const optionalAfterDiscovery = total(await sumStat(pages, 'connections.created.optional'));
  const hops: number[] = [];
  for (const [i, p] of others.entries()) hops.push(...(await read(p, 'lookupHops')).slice(hopsBefore[i]));

  const cached: number[] = [];
  for (const p of others) cached.push(...(await run(p, 'discoverTimes', SERVICE, 50, false)));

  for (const p of others) await run(p, 'callTimes', SERVICE, 3);
  const connsBeforeCalls = total(await sumStat(pages, 'connections.created'));
  const optionalBeforeCalls = total(await sumStat(pages, 'connections.created.optional'));
  const call: number[] = [];
  for (const p of others) call.push(...(await run(p, 'callTimes', SERVICE, 30)));
  const connsAfterCalls = total(await sumStat(pages, 'connections.created'));
  const optionalAfterCalls = total(await sumStat(pages, 'connections.created.optional'));

  const publish = await measurePublish(pages);
  return {
    pages,
    figures: {
      peers: n,
      joins,
      floors,
      cold,
      cached,
      call,
      hops,
      publish,
      messagesPerLookup: (msgsAfter - msgsBefore) / coldLookups,
      connectionsPerDiscovery: (connsAfterDiscovery - connsBefore) / coldLookups,
      connectionsPerCall: (connsAfterCalls - connsBeforeCalls) / call.length,
      optionalTopUps: {
        discovery: optionalAfterDiscovery - optionalBefore,
        calls: optionalAfterCalls - optionalBeforeCalls,
      },
    },
  };
}

async function measurePublish(pages: Page[]): Promise<RunFigures['publish']> {
  // The publisher is the last tab, never one of the subscribers.
  const subscribers = pages.slice(1, Math.min(1 + SUBSCRIBERS, pages.length - 1));
  const publisher = pages[pages.length - 1]!;
  for (const s of subscribers) await run(s, 'subscribe', TOPIC);
  await until(
    'every subscription to be delivered',
    async () => (await run(publisher, 'publishTimed', TOPIC)).delivered === subscribers.length,
  );
  await sleep(200);
  const counts = await Promise.all(subscribers.map(async (s) => (await read(s, 'received')).length));
  const acked: number[] = [];
  let incomplete = 0;
  const rounds = 40;
  for (let i = 0; i < rounds; i++) {
    const r = await run(publisher, 'publishTimed', TOPIC);
    acked.push(r.ms);
    if (r.delivered !== subscribers.length) incomplete++;
    await sleep(25);
  }
  await sleep(500);
  const receipt: number[] = [];
  for (const [i, s] of subscribers.entries()) receipt.push(...(await read(s, 'received')).slice(counts[i]));
  return { subscribers: subscribers.length, receipt, acked, rounds, incomplete };
}

async function soak(pages: Page[], minutes: number): Promise<SoakFigures> {
  console.log(`bench:browser: soak, ${minutes} min, one forced discovery per second among ${pages.length} tabs`);
  const before = await sumStat(pages, 'connections.created');
  const seeker = pages[1]!;
  let ok = 0;
  let failed = 0;
  const latencies: number[] = [];
  const end = Date.now() + minutes * 60_000;
  while (Date.now() < end) {
    const started = Date.now();
    try {
      latencies.push(...(await run(seeker, 'discoverTimes', SERVICE, 1, true)));
      ok++;
    } catch {
      failed++;
    }
    await sleep(Math.max(0, 1_000 - (Date.now() - started)));
  }
  const after = await sumStat(pages, 'connections.created');
  const perTab = after.map((a, i) => a - before[i]!);
  return { minutes, tabs: pages.length, lookups: ok, failed, perTab, latencies };
}

async function main(): Promise<void> {
  const { server, close: closePages } = await isolatedPagesServer('bench/browser.bench.html');
  const relay = await startRelayProcess();
  await listen(server, 0, '127.0.0.1');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bench/browser.bench.html`;
  const browser = await chromium.launch({ executablePath: await findBrowser(), args: CHROMIUM_ARGS });
  const version = browser.version();
  const runs: RunFigures[] = [];
  let soakFigures: SoakFigures | undefined;
  try {
    for (const [i, n] of SIZES.entries()) {
      const { figures, pages } = await runSize(browser, base, relay.url, n);
      runs.push(figures);
      printRun(figures);
      if (i === SIZES.length - 1 && SOAK_MINUTES > 0) soakFigures = await soak(pages, SOAK_MINUTES);
      await Promise.all(pages.map((p) => p.context().close()));
    }
  } finally {
    await browser.close();
    await relay.close();
    await closePages();
  }
  const command = `npm run bench:browser${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const body = renderReport(version, runs, soakFigures);
  console.log(body);
  writeSection('Browser', command, body);
}

function printRun(f: RunFigures): void {
  console.log(
    `  ${f.peers} peers: join p50 ${percentile(
      f.joins.map((j) => j.firstChannelMs),
      50,
    ).toFixed(0)} ms, cold p50 ${percentile(f.cold, 50).toFixed(2)} ms, ` +
      `cached p50 ${percentile(f.cached, 50).toFixed(3)} ms, call p50 ${percentile(f.call, 50).toFixed(2)} ms, raw rtt p50 ${percentile(f.floors.channelRtt, 50).toFixed(3)} ms, ` +
      `hops mean ${mean(f.hops).toFixed(2)}`,
  );
}

await main();
process.exit(0);
