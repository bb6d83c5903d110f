/**
 * `npm run bench:trace`: where the time of one cold discovery, one call and one publish goes,
 * across the main threads, the workers and the channels of real tabs. 8 peers as in
 * `npm run bench:browser`, but their pages load with `?trace=1` (trace-hooks.ts): each notes
 * every message crossing its boundaries on a clock the pages share, and this script lines the
 * notes of the tabs involved up into steps. The pages also time the steps' own work alone
 * (trace-costs.ts). It prints its tables; it writes nothing (BENCHMARKS.md quotes it by hand).
 *
 *   npm run bench:trace -- [--rounds=60]
 */
import type { AddressInfo } from 'node:net';
import { chromium, type Page, type Worker } from '@playwright/test';
import { CHROMIUM_ARGS, findBrowser } from '../scripts/find-browser.js';
import { listen } from '../src/relay/http.js';
import { startRelay } from '../src/relay/relay.js';
import { percentile } from './report.js';
import type { TraceEvent } from './trace-hooks.js';
import type { WorkerTraceEvent } from './trace-worker-hooks.js';
import { isolatedPagesServer } from './isolated-pages.js';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const ROUNDS = Number(arg('rounds') ?? 60);
const PEERS = 8;
const SUBSCRIBERS = 5;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Tagged = TraceEvent & { page: number };
/** What a page's worker noted (trace-worker-hooks.ts). */
type WTagged = WorkerTraceEvent & { page: number };
const PUBLISH = 0x10;
const REPLY = 0x21;
/** Per round, each step's duration (ms) by name. */
type Steps = Map<string, number[]>;

const evaluate = <T>(page: Page, code: string): Promise<T> => page.evaluate(code) as Promise<T>;

function add(steps: Steps, name: string, ms: number): void {
  if (!steps.has(name)) steps.set(name, []);
  steps.get(name)!.push(ms);
}

/** The first event of `page` at or after `from` that `match` accepts. */
function next(events: Tagged[], from: number, page: number, match: (e: Tagged) => boolean): Tagged | undefined {
  return events.find((e) => e.t >= from && e.page === page && match(e));
}

/** Bytes of a frame event (tags end in `<n>B`). */
const bytes = (e: Tagged): number => Number(/(\d+)B$/.exec(e.tag)?.[1] ?? 0);
/**
 * The smallest request or answer (a direct CALL or its REPLY) is over 25 bytes; a hop's
 * acknowledgement or a liveness ping is under 20: those are not part of the exchange.
 */
const MIN_EXCHANGE_BYTES = 25;
const big = (e: Tagged): boolean => bytes(e) >= MIN_EXCHANGE_BYTES;
const frameIn = (e: Tagged): boolean => e.ev === 'port>' && e.tag.startsWith('frame:') && big(e);
const frameOut = (e: Tagged): boolean => e.ev === 'port<' && e.tag.startsWith('send:') && big(e);

/**
 * One request/answer exchange between the requester `r` and the tabs that answer it over
 * channels: split into what the requester's page and worker did, the channel each way, and
 * what each answering tab did (its main thread and worker together, and the worker alone).
 */
function exchange(events: Tagged[], r: number, steps: Steps, apiName: string): void {
  // The app's own call where the page notes it (a call's CALL may leave before any Comlink call), else the Comlink call.
  const start =
    events.find((e) => e.page === r && e.ev === 'app>' && e.tag === apiName) ??
    events.find((e) => e.page === r && e.ev === 'api>' && e.tag.includes(apiName));
  if (start === undefined) return;
  // The app's promise (noted by the page): the worker's Comlink answer may come after it.
  const end =
    events.find((e) => e.page === r && e.ev === 'app<' && e.t >= start.t) ??
    [...events].reverse().find((e) => e.page === r && e.ev === 'api<');
  if (end === undefined) return;
  const sent = events.filter((e) => e.page === r && e.ev === 'dc>' && big(e) && e.t >= start.t && e.t <= end.t);
  if (sent.length === 0) return;
  add(steps, 'total (API call to result, in the page)', end.t - start.t);
  const firstOut = next(events, start.t, r, frameOut);
  if (firstOut === undefined || firstOut.t > sent[0]!.t)
    add(
      steps,
      `requester: API call → ${apiName === 'discover' ? 'first FIND_VALUE' : apiName === 'publish' ? 'first PUBLISH' : 'CALL'} on the channel, sent by the page (no worker)`,
      sent[0]!.t - start.t,
    );
  else {
    add(steps, 'requester: API call → first frame out of its worker', firstOut.t - start.t);
    add(steps, 'requester main: frame from worker → channel send', sent[0]!.t - firstOut.t);
  }
  add(steps, 'requester: first → last frame sent', sent[sent.length - 1]!.t - sent[0]!.t);
  let lastBack: Tagged | undefined;
  for (const out of sent) {
    const arrive = events.find(
      (e) => e.ev === 'dc<' && e.page !== r && e.channel === out.channel && big(e) && e.t >= out.t,
    );
    if (arrive === undefined) continue;
    const p = arrive.page;
    const back = events.find(
      (e) => e.page === p && e.ev === 'dc>' && e.channel === out.channel && big(e) && e.t >= arrive.t,
    );
    if (back === undefined) continue;
    const home = events.find(
      (e) => e.page === r && e.ev === 'dc<' && e.channel === out.channel && big(e) && e.t >= back.t && e.t <= end.t,
    );
    add(steps, 'channel, one way (request)', arrive.t - out.t);
    add(steps, 'answering tab: channel in → channel out', back.t - arrive.t);
    const posted = next(events, arrive.t, p, frameIn);
    const answered = next(events, arrive.t, p, frameOut);
    // A CALL straight from a neighbour is answered by the page itself: the worker hands it the call, no frame comes back.
    const handedOver =
      posted &&
      events.find((e) => e.page === p && e.ev === 'port<' && e.tag === 'invoke' && e.t >= posted.t && e.t <= back.t);
    // A CALL the page admitted itself (page-admissions.ts): the REPLY leaves before the frame goes to the worker.
    if (posted === undefined || posted.t >= back.t) {
      add(steps, '  … its page admitted it: channel in → REPLY on the channel (no worker)', back.t - arrive.t);
      const returned = next(events, back.t, p, (e) => e.ev === 'dc>end');
      if (returned)
        add(steps, "  … … then the REPLY's send call itself (Chromium's network thread)", returned.t - back.t);
    } else if (posted && handedOver && !(answered && answered.t <= back.t)) {
      add(steps, '  … its main: channel in → frame posted to worker', posted.t - arrive.t);
      add(
        steps,
        '  … its worker (2 postMessage hops included): frame in → call handed to the page',
        handedOver.t - posted.t,
      );
      add(steps, '  … its page: handler and REPLY → channel send', back.t - handedOver.t);
    } else if (posted && answered && answered.t <= back.t) {
      add(steps, '  … its main: channel in → frame posted to worker', posted.t - arrive.t);
      add(steps, '  … its worker (2 postMessage hops included): frame in → frame out', answered.t - posted.t);
      add(steps, '  … its main: frame from worker → channel send', back.t - answered.t);
      const handler = events.find(
        (e) => e.page === p && e.ev === 'port<' && e.tag.includes('invoke') && e.t >= posted.t && e.t <= answered.t,
      );
      const result = handler && next(events, handler.t, p, (e) => e.ev === 'port>' && !e.tag.startsWith('frame:'));
      if (handler && result) {
        add(steps, '  … … worker: frame in → handler call reaches the page', handler.t - posted.t);
        add(steps, '  … … page: handler call → result posted', result.t - handler.t);
        add(steps, '  … … worker: result → reply frame out', answered.t - result.t);
      }
    }
    if (home) {
      add(steps, 'channel, one way (answer)', home.t - back.t);
      if (lastBack === undefined || home.t > lastBack.t) lastBack = home;
    }
  }
  if (lastBack) {
    add(steps, 'requester: last answer in → API result', end.t - lastBack.t);
    const posted = next(events, lastBack.t, r, frameIn);
    const viaWorker = events.some((e) => e.page === r && e.ev === 'api<' && e.t >= lastBack.t && e.t <= end.t);
    if (!viaWorker) {
      add(steps, '  … settled by the page from the answer (no worker on the way)', end.t - lastBack.t);
      // The page reads the REPLY and settles the app's promise, then posts the frame on to its worker.
      if (posted && posted.t <= end.t) {
        add(steps, '  … … main: channel in → answer read, frame posted on to the worker', posted.t - lastBack.t);
        add(steps, "  … … main: → the app's promise settled", end.t - posted.t);
      }
    } else if (posted) {
      add(steps, '  … main: channel in → frame posted to worker', posted.t - lastBack.t);
      add(steps, '  … worker and Comlink: frame in → result in the page', end.t - posted.t);
    }
  }
}

function table(title: string, steps: Steps): string {
  const rows = [...steps].map(
    ([name, xs]) => `| ${name} | ${percentile(xs, 50).toFixed(3)} | ${percentile(xs, 95).toFixed(3)} | ${xs.length} |`,
  );
  return [`#### ${title}`, '', '| step | p50 ms | p95 ms | samples |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** Each page's DHT worker, started from bench/trace-worker.ts (the benchmark's floors start workers of their own). */
function dhtWorker(page: Page): Worker {
  const w = page.workers().find((x) => x.url().includes('trace-worker'));
  if (w === undefined) throw new Error(`no traced DHT worker in ${page.url()}`);
  return w;
}

let workerEvents: WTagged[] = [];

async function traced(pages: Page[], op: () => Promise<unknown>): Promise<Tagged[]> {
  const workers = pages.map(dhtWorker);
  await Promise.all(workers.map((w) => w.evaluate('globalThis.__workerTrace.start()')));
  await Promise.all(pages.map((p) => evaluate(p, 'window.bench.traceStart()')));
  await op();
  // Late answers (the other paths of a lookup) land after the result: give them a moment.
  await sleep(20);
  const all = await Promise.all(pages.map((p) => evaluate<TraceEvent[]>(p, 'window.bench.traceStop()')));
  const inWorkers = await Promise.all(
    workers.map((w) => w.evaluate('globalThis.__workerTrace.stop()') as Promise<WorkerTraceEvent[]>),
  );
  workerEvents = inWorkers.flatMap((es, page) => es.map((e) => ({ ...e, page }))).sort((a, b) => a.t - b.t);
  return all.flatMap((es, page) => es.map((e) => ({ ...e, page }))).sort((a, b) => a.t - b.t);
}

/**
 * A publish, inside the workers (trace-worker-hooks.ts): the publisher's worker from the API
 * call to its PUBLISHes, and each subscriber's from the PUBLISH in to its acknowledgement out,
 * split at the WebCrypto calls. Postings and deliveries are matched on the shared clock.
 */
function publishInWorkers(events: Tagged[], wevents: WTagged[], r: number, steps: Steps): void {
  const start =
    events.find((e) => e.page === r && e.ev === 'app>' && e.tag === 'publish') ??
    events.find((e) => e.page === r && e.ev === 'api>' && e.tag.includes('publish'));
  const end = events.find((e) => e.page === r && e.ev === 'app<' && start !== undefined && e.t >= start.t);
  if (start === undefined || end === undefined) return;
  // Sent by the publisher's page itself (page-publishes.ts): its WebCrypto signature, then the sends.
  // The page's hooks tag a WebCrypto call by its method's description (trace-hooks.ts, describe: 'sign' is '4ch').
  const pageSign = events.find((e) => e.page === r && e.ev === 'crypto(' && e.tag === '4ch' && e.t >= start.t);
  const pageSigned = pageSign && events.find((e) => e.page === r && e.ev === 'crypto)' && e.t >= pageSign.t);
  const firstSent = pageSigned && events.find((e) => e.page === r && e.ev === 'dc>' && big(e) && e.t >= pageSigned.t);
  if (pageSign && pageSigned && firstSent && firstSent.t <= end.t) {
    add(
      steps,
      'P publisher page: API call → WebCrypto sign asked (copy, encoding, signed bytes)',
      pageSign.t - start.t,
    );
    add(steps, 'P publisher page: sign asked → answer in the page', pageSigned.t - pageSign.t);
    add(steps, 'P publisher page: answer → first PUBLISH on the channel', firstSent.t - pageSigned.t);
    const notice = events.find(
      (e) => e.page === r && e.ev === 'port>' && e.tag.startsWith('published') && e.t >= firstSent.t,
    );
    if (notice)
      add(
        steps,
        'P publisher page: first PUBLISH on the channel → notice posted to its worker',
        notice.t - firstSent.t,
      );
  }
  const w = wevents.filter((e) => e.page === r && e.t >= start.t && e.t <= end.t);
  const call = w.find((e) => e.ev === 'w<' && e.tag.includes('publish'));
  const apiIn = events.find((e) => e.page === r && e.ev === 'api>' && e.tag.includes('publish') && e.t >= start.t);
  if (apiIn) add(steps, 'publisher page: app → its Comlink call', apiIn.t - start.t);
  const called = call && w.find((e) => e.ev === 'w<end' && e.t >= call.t && e.tag === call.tag);
  const signAsked = w.find((e) => e.ev === 'crypto(' && e.tag === 'sign');
  const signed = signAsked && w.find((e) => e.ev === 'crypto)' && e.call === signAsked.call);
  const sends = w.filter((e) => e.ev === 'w>' && e.kind === PUBLISH);
  if (call) add(steps, 'W publisher: API call → its worker has it (Comlink, one postMessage)', call.t - start.t);
  if (call && called) add(steps, 'W publisher worker: that task, synchronous part', called.t - call.t);
  if (call && signAsked && signed) {
    add(steps, 'W publisher worker: call in → WebCrypto sign asked', signAsked.t - call.t);
    add(steps, 'W publisher worker: sign asked → answer in the worker', signed.t - signAsked.t);
    if (sends[0]) add(steps, 'W publisher worker: signature → first PUBLISH posted', sends[0].t - signed.t);
  } else if (call && sends[0])
    add(steps, 'W publisher worker: call in → first PUBLISH posted (no WebCrypto)', sends[0].t - call.t);
  if (sends.length > 1) add(steps, 'W publisher worker: first → last PUBLISH posted', sends.at(-1)!.t - sends[0]!.t);
  const firstOut = sends[0] && events.find((e) => e.page === r && e.ev === 'port<' && e.t >= sends[0]!.t);
  if (sends[0] && firstOut) add(steps, 'W publisher: first PUBLISH posted → its page has it', firstOut.t - sends[0].t);
  add(
    steps,
    'W imports of a key per publish, all workers',
    wevents.filter((e) => e.ev === 'crypto(' && e.tag === 'importKey').length,
  );
  for (let p = 0; p < 8; p++) {
    if (p === r) continue;
    // Taken by the page itself (page-publications.ts): its acknowledgement leaves before the frame goes to its worker.
    const arrived = events.find((e) => e.page === p && e.ev === 'dc<' && big(e) && e.t >= start.t && e.t <= end.t);
    const ackOut = arrived && events.find((e) => e.page === p && e.ev === 'dc>' && e.t >= arrived.t && e.t <= end.t);
    const pagePosted =
      arrived && events.find((e) => e.page === p && e.ev === 'port>' && e.tag.startsWith('frame:') && e.t >= arrived.t);
    if (arrived && ackOut && pagePosted && ackOut.t <= pagePosted.t) {
      const asked = events.find((e) => e.page === p && e.ev === 'crypto(' && e.t >= arrived.t && e.t <= ackOut.t);
      const answer = asked && events.find((e) => e.page === p && e.ev === 'crypto)' && e.t >= asked.t);
      add(steps, 'P subscriber page: channel in → acknowledgement on the channel', ackOut.t - arrived.t);
      if (asked && answer) {
        add(
          steps,
          'P subscriber page: channel in → WebCrypto verify asked (read, fresh, signed bytes)',
          asked.t - arrived.t,
        );
        add(steps, 'P subscriber page: verify asked → answer in the page', answer.t - asked.t);
        add(steps, 'P subscriber page: answer → acknowledgement on the channel', ackOut.t - answer.t);
      }
      add(steps, 'P subscriber page: acknowledgement out → frame posted to its worker', pagePosted.t - ackOut.t);
      const sendReturned = events.find((e) => e.page === p && e.ev === 'dc>end' && e.t >= ackOut.t);
      if (sendReturned)
        add(steps, "P subscriber page: … of which the acknowledgement's send call", sendReturned.t - ackOut.t);
      continue;
    }
    const posted = events.find(
      (e) => e.page === p && e.ev === 'port>' && e.tag.startsWith('frame:') && e.t >= start.t && e.t <= end.t && big(e),
    );
    if (posted === undefined) continue;
    const mine = wevents.filter((e) => e.page === p && e.t >= posted.t && e.t <= end.t);
    const inn = mine.find((e) => e.ev === 'w<' && e.kind === PUBLISH);
    if (inn === undefined) continue;
    const task = mine.find((e) => e.ev === 'w<end' && e.kind === PUBLISH && e.t >= inn.t);
    const asked = mine.find((e) => e.ev === 'crypto(' && e.tag === 'verify' && e.t >= inn.t);
    const answered = asked && mine.find((e) => e.ev === 'crypto)' && e.call === asked.call);
    const ack = mine.find((e) => e.ev === 'w>' && e.kind === REPLY && e.t >= inn.t);
    const deliver = mine.find((e) => e.ev === 'w>' && e.tag.includes('deliver') && e.t >= inn.t);
    add(steps, 'W subscriber: frame posted by its page → its worker has it', inn.t - posted.t);
    if (task) add(steps, 'W subscriber worker: frame task, synchronous part (preverify looks in)', task.t - inn.t);
    if (asked && answered) {
      add(steps, 'W subscriber worker: frame in → WebCrypto verify asked', asked.t - inn.t);
      add(steps, 'W subscriber worker: verify asked → answer in the worker', answered.t - asked.t);
      if (ack)
        add(
          steps,
          'W subscriber worker: answer → acknowledgement posted (core: checks, deliver, REPLY)',
          ack.t - answered.t,
        );
      const between = mine.filter((e) => e.ev === 'w<' && e.t > asked.t && e.t < answered.t).length;
      add(steps, 'W subscriber worker: other messages handled while verify was out', between);
    } else if (ack) add(steps, 'W subscriber worker: frame in → acknowledgement posted (no WebCrypto)', ack.t - inn.t);
    if (ack && deliver) add(steps, 'W subscriber worker: delivery posted − acknowledgement posted', deliver.t - ack.t);
    const back =
      ack && events.find((e) => e.page === p && e.ev === 'port<' && e.tag.startsWith('send:') && e.t >= ack.t);
    if (ack && back) add(steps, 'W subscriber: acknowledgement posted → its page has it', back.t - ack.t);
    const delivered = events.find(
      (e) => e.page === p && e.ev === 'port<' && e.tag.includes('deliver') && e.t >= posted.t,
    );
    if (delivered)
      add(steps, "W subscriber: frame posted to worker → app's callback message in the page", delivered.t - posted.t);
  }
}

async function main(): Promise<void> {
  const { server, close: closePages } = await isolatedPagesServer('bench/browser.bench.html');
  const relay = await startRelay({ server, limits: { socketsPerAddress: 512 } });
  await listen(server, 0, '127.0.0.1');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bench/browser.bench.html?trace=1&realm=trace-${Date.now()}`;
  const browser = await chromium.launch({ executablePath: await findBrowser(), args: CHROMIUM_ARGS });
  try {
    const pages: Page[] = [];
    for (let i = 0; i < PEERS; i++) {
      const page = await (await browser.newContext()).newPage();
      await page.goto(url);
      await page.waitForFunction(() => window.bench !== undefined);
      if (i > 0) await page.waitForFunction(() => window.bench!.join.firstContactMs !== undefined);
      pages.push(page);
    }
    const [provider, requester] = [pages[0]!, pages[1]!];
    await evaluate(provider, `window.bench.advertise('bench.echo')`);
    await sleep(6_000);
    await evaluate(requester, `window.bench.discoverTimes('bench.echo', 10, true)`);
    await evaluate(requester, `window.bench.callTimes('bench.echo', 10)`);

    const discovery: Steps = new Map();
    const call: Steps = new Map();
    const publish: Steps = new Map();
    for (let i = 0; i < ROUNDS; i++) {
      const d = await traced(pages, () => evaluate(requester, `window.bench.discoverTimes('bench.echo', 1, true)`));
      exchange(d, 1, discovery, 'discover');
      const c = await traced(pages, () => evaluate(requester, `window.bench.callTimes('bench.echo', 1)`));
      exchange(c, 1, call, 'call');
    }
    const publisher = pages.length - 1;
    for (const s of pages.slice(1, 1 + SUBSCRIBERS)) await evaluate(s, `window.bench.subscribe('bench.topic')`);
    for (let i = 0; i < 100; i++) {
      const r = await evaluate<{ delivered: number }>(pages[publisher]!, `window.bench.publishTimed('bench.topic')`);
      if (r.delivered === SUBSCRIBERS) break;
      await sleep(100);
    }
    for (let i = 0; i < ROUNDS; i++) {
      const p = await traced(pages, () => evaluate(pages[publisher]!, `window.bench.publishTimed('bench.topic')`));
      exchange(p, publisher, publish, 'publish');
      publishInWorkers(p, workerEvents, publisher, publish);
      await sleep(25);
    }
    const costs = await evaluate<Record<string, number>>(requester, 'window.bench.pathCosts(300)');
    console.log(`Chromium ${browser.version()}, ${PEERS} tabs, ${ROUNDS} rounds of each\n`);
    console.log(table('Cold discovery (forceRefresh)', discovery) + '\n');
    console.log(table('Call', call) + '\n');
    console.log(table(`Publish to ${SUBSCRIBERS} subscribers`, publish) + '\n');
    console.log(
      ['#### Costs of single steps, timed alone on a page', '', '| step | median ms |', '| --- | --- |']
        .concat(Object.entries(costs).map(([k, v]) => `| ${k} | ${v.toFixed(4)} |`))
        .join('\n'),
    );
  } finally {
    await browser.close();
    await relay.close();
    await closePages();
  }
}

await main();
process.exit(0);
