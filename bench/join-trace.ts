/**
 * `npm run bench:join`: where a tab's join spends its time, from navigation to its first open
 * channel, across the joining tab, the relay and the tab that answers. 8 peers as in
 * `npm run bench:browser`, each in its own context and opened in turn, with `?join=1`
 * (join-hooks.ts): each page notes its relay socket's messages, its RTCPeerConnections' steps
 * and its navigation and resource timing on the clock the pages share, and this script lines
 * up each joining tab's notes with those of the tab its first channel went to. The relay runs
 * in a process of its own (join-relay.ts) and notes its sockets' messages on the same clock.
 * It prints its tables; it writes nothing (BENCHMARKS.md quotes it by hand).
 *
 *   npm run bench:join -- [--peers=8] [--rounds=1]
 *
 * `--rounds=n` opens the peers n times (a new realm each time), for more joins per figure.
 */
import type { AddressInfo } from 'node:net';
import { chromium, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, findBrowser } from '../scripts/find-browser.js';
import { listen } from '../src/relay/http.js';
import { percentile } from './report.js';
import type { JoinEvent } from './join-hooks.js';
import { isolatedPagesServer } from './isolated-pages.js';
import { startRelayProcess, type RelayProcess } from './join-relay.js';
import { pageSays } from './page-says.js';

/** The relay's side, on the same clock as the pages (join-relay-process.ts): each message in and out of its sockets, by type. */
let relayNotes: JoinEvent[] = [];

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const PEERS = Number(arg('peers') ?? 8);
const ROUNDS = Number(arg('rounds') ?? 1);
const TIMEOUT_MS = 60_000;

interface PageNotes {
  origin: number;
  events: JoinEvent[];
  navigation: Record<string, number>;
  resources: JoinEvent[];
  nodeId: string;
  phases: Record<string, number>;
}

/** Checkpoints of one join, ms since the joining tab's navigation started; absent when not seen. */
type Join = Map<string, number>;

const find = (es: JoinEvent[], from: number, match: (e: JoinEvent) => boolean): JoinEvent | undefined =>
  es.find((e) => e.t >= from && match(e));

/** Line one joining tab's notes up with the answering tab's. */
function lineUp(joiner: PageNotes, all: PageNotes[]): Join {
  const at = new Map<string, number>();
  const o = joiner.origin;
  const put = (name: string, t: number | undefined): void => {
    if (t !== undefined && !at.has(name)) at.set(name, t - o);
  };
  const n = joiner.navigation;
  put('HTML: request sent', n['requestStart']);
  put('HTML: response in', n['responseEnd']);
  const scripts = joiner.resources.filter((r) => r.ev.startsWith('fetched:') && /\.js:(script|link|other)$/.test(r.ev));
  const mainScripts = scripts.filter((r) => r.t - o <= (joiner.phases['script-start'] ?? Infinity));
  if (mainScripts.length > 0) put('page scripts fetched', Math.max(...mainScripts.map((r) => r.t)));
  put('DOM interactive', n['domInteractive']);
  put('script-start (page module runs)', o + joiner.phases['script-start']!);
  const ev = joiner.events;
  put('worker made', find(ev, 0, (e) => e.ev === 'worker:new')?.t);
  const subtleCalls = ev.filter((e) => e.ev.startsWith('subtle:') && !e.ev.endsWith(':start'));
  put('identity: first WebCrypto answer', subtleCalls[0]?.t);
  put('identity: Web Lock asked', find(ev, 0, (e) => e.ev === 'lock:start')?.t);
  put('identity: Web Lock granted', find(ev, 0, (e) => e.ev === 'lock:granted')?.t);
  put('identity (mark)', o + (joiner.phases['identity'] ?? NaN));
  put('relay socket made', find(ev, 0, (e) => e.ev === 'ws:new')?.t);
  put('relay socket open', find(ev, 0, (e) => e.ev === 'ws:open')?.t);
  put('challenge in', find(ev, 0, (e) => e.ev === 'ws<challenge')?.t);
  put('hello out', find(ev, 0, (e) => e.ev === 'ws>hello')?.t);
  const welcome = find(ev, 0, (e) => e.ev === 'ws<welcome');
  if (welcome !== undefined) {
    put('relay: hello in', [...relayNotes].reverse().find((e) => e.ev === 'relay<hello' && e.t <= welcome.t)?.t);
    put('relay: welcome out', [...relayNotes].reverse().find((e) => e.ev === 'relay>welcome' && e.t <= welcome.t)?.t);
  }
  put('welcome in', welcome?.t);
  put('worker-ready (mark)', o + (joiner.phases['worker-ready'] ?? NaN));
  const first = find(ev, 0, (e) => e.ev.startsWith('first-channel:'));
  if (first === undefined || welcome === undefined) return at;
  // The first channel is the first of the tab's connections whose data channel opened; the k-th
  // offer made is the k-th offer sent (signals leave in order), which names the peer it went to.
  const pc = find(ev, 0, (e) => e.ev === 'pc:dc-open')?.pc;
  const offersMade = ev.filter((e) => e.ev === 'pc:set-local:offer');
  const offersSent = ev.filter((e) => e.ev.startsWith('ws>signal:') && e.ev.endsWith(':offer'));
  const k = offersMade.findIndex((e) => e.pc === pc);
  const peer8 = offersSent[k]?.ev.split(':')[1];
  const answerer = all.find((p) => peer8 !== undefined && p.nodeId.startsWith(peer8));
  if (pc === undefined || answerer === undefined || peer8 === undefined) return at;
  const mine = ev.filter((e) => e.pc === pc);
  const step = (name: string, match: (e: JoinEvent) => boolean): void => put(name, mine.find(match)?.t);
  step('dial: connection made', (e) => e.ev === 'pc:new');
  step('dial: offer made', (e) => e.ev === 'pc:offer');
  step('dial: offer set as local description', (e) => e.ev === 'pc:set-local:offer');
  const sentOffer = offersSent[k]!;
  put('dial: offer out to the relay (signed)', sentOffer.t);
  const me8 = joiner.nodeId.slice(0, 8);
  const relayIn = find(relayNotes, sentOffer.t - 5, (e) => e.ev === `relay<signal:${peer8}:offer`);
  put('relay: offer in', relayIn?.t);
  put(
    'relay: offer forwarded',
    find(relayNotes, relayIn?.t ?? Infinity, (e) => e.ev === `relay>signal:${me8}:offer`)?.t,
  );
  const theirs = answerer.events;
  const offerIn = find(theirs, sentOffer.t - 50, (e) => e.ev === `ws<signal:${me8}:offer`);
  put('answerer: offer in from the relay', offerIn?.t);
  if (offerIn !== undefined) {
    const theirPc = find(theirs, offerIn.t, (e) => e.ev === 'pc:new')?.pc;
    const their = theirs.filter((e) => e.pc === theirPc);
    const step2 = (name: string, match: (e: JoinEvent) => boolean): void => put(name, their.find(match)?.t);
    step2('answerer: connection made (offer checked)', (e) => e.ev === 'pc:new');
    step2('answerer: offer set as remote description', (e) => e.ev === 'pc:set-remote:offer');
    step2('answerer: answer made', (e) => e.ev === 'pc:answer');
    step2('answerer: answer set as local description', (e) => e.ev === 'pc:set-local:answer');
    put(
      'answerer: answer out to the relay (signed)',
      find(theirs, offerIn.t, (e) => e.ev === `ws>signal:${me8}:answer`)?.t,
    );
    step2('answerer: first local candidate', (e) => e.ev.startsWith('pc:candidate:'));
    step2('answerer: ICE connected', (e) => e.ev === 'pc:ice:connected');
    step2('answerer: data channel open', (e) => e.ev === 'pc:dc-open');
  }
  const answerIn = find(relayNotes, sentOffer.t, (e) => e.ev === `relay<signal:${me8}:answer`);
  put('relay: answer in', answerIn?.t);
  put(
    'relay: answer forwarded',
    find(relayNotes, answerIn?.t ?? Infinity, (e) => e.ev === `relay>signal:${peer8}:answer`)?.t,
  );
  put('dial: answer in from the relay', find(ev, sentOffer.t, (e) => e.ev === `ws<signal:${peer8}:answer`)?.t);
  step('dial: answer set as remote description', (e) => e.ev === 'pc:set-remote:answer');
  step('dial: first local candidate', (e) => e.ev.startsWith('pc:candidate:'));
  put('dial: first candidate out', find(ev, sentOffer.t, (e) => e.ev === `ws>signal:${peer8}:candidate`)?.t);
  put('dial: first candidate in', find(ev, sentOffer.t, (e) => e.ev === `ws<signal:${peer8}:candidate`)?.t);
  step('dial: ICE checking', (e) => e.ev === 'pc:ice:checking');
  step('dial: ICE connected', (e) => e.ev === 'pc:ice:connected');
  step('dial: DTLS connected (connectionState)', (e) => e.ev === 'pc:state:connected');
  step('dial: data channel open', (e) => e.ev === 'pc:dc-open');
  put('first channel (peer:connect in the page)', first.t);
  return at;
}

/** Candidate kinds and counts of the whole run, to see what ICE had to work with. */
function candidateKinds(all: PageNotes[]): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const p of all)
    for (const e of p.events)
      if (e.ev.startsWith('pc:candidate:')) kinds[e.ev.slice(13)] = (kinds[e.ev.slice(13)] ?? 0) + 1;
  return kinds;
}

async function openRound(
  base: string,
  relay: RelayProcess,
  browser: import('@playwright/test').Browser,
  round: number,
): Promise<Join[]> {
  const url = `${base}?join=1&relay=${encodeURIComponent(relay.url)}&realm=join-${Date.now()}-${round}`;
  const pages: Page[] = [];
  for (let i = 0; i < PEERS; i++) {
    const page = await (await browser.newContext()).newPage();
    page.on('pageerror', (e) => console.error(`page ${i}: ${e.message}`));
    // Waited for by the page's console messages: nothing of Playwright's runs in the page during its join.
    const ready = pageSays(page, 'ready', TIMEOUT_MS);
    const joined = i > 0 ? pageSays(page, 'first-channel', TIMEOUT_MS) : undefined;
    await page.goto(url);
    await ready;
    await joined;
    pages.push(page);
  }
  await new Promise((r) => setTimeout(r, 500));
  const notes: PageNotes[] = await Promise.all(
    pages.map(async (p) => {
      const j = await p.evaluate(() => window.bench!.joinEvents());
      const nodeId = await p.evaluate(() => window.bench!.nodeId);
      const join = await p.evaluate(() => window.bench!.join);
      return { ...j, nodeId, phases: { 'script-start': join.scriptStartMs, ...join.phases } };
    }),
  );
  if (round === 0) console.log('candidates gathered, by kind:', JSON.stringify(candidateKinds(notes)));
  await Promise.all(pages.map((p) => p.context().close()));
  relayNotes = await relay.notes();
  return notes.slice(1).map((n) => lineUp(n, notes));
}

async function main(): Promise<void> {
  const { server, close: closePages } = await isolatedPagesServer('bench/browser.bench.html');
  const relay = await startRelayProcess({ notes: true });
  console.log(`relay in a process of its own: ${relay.url}`);
  await listen(server, 0, '127.0.0.1');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bench/browser.bench.html`;
  const browser = await chromium.launch({ executablePath: await findBrowser(), args: CHROMIUM_ARGS });
  const joins: Join[] = [];
  try {
    for (let r = 0; r < ROUNDS; r++) joins.push(...(await openRound(base, relay, browser, r)));
  } finally {
    await browser.close();
    await relay.close();
    await closePages();
  }
  // Checkpoints in the order the joins pass them (their median times), then each step's own duration within each join.
  const names: string[] = [];
  for (const j of joins) for (const k of j.keys()) if (!names.includes(k)) names.push(k);
  const median = (name: string): number => percentile(joins.map((j) => j.get(name) ?? NaN).filter(Number.isFinite), 50);
  names.sort((a, b) => median(a) - median(b));
  const f = (xs: number[], p: number): string => (xs.length === 0 ? '' : percentile(xs, p).toFixed(1));
  const rows = names.map((name, i) => {
    const at = joins.map((j) => j.get(name)).filter((v): v is number => v !== undefined && Number.isFinite(v));
    const prev = names[i - 1];
    const d =
      prev === undefined ? [] : joins.flatMap((j) => (j.has(name) && j.has(prev) ? [j.get(name)! - j.get(prev)!] : []));
    return `| ${name} | ${f(at, 50)} | ${f(at, 95)} | ${f(d, 50)} | ${f(d, 95)} | ${at.length} |`;
  });
  // The hops of one join, each measured within the join (the table below differences medians of different joins).
  const segments: Array<[string, string]> = [
    ['script-start (page module runs)', 'relay socket open'],
    ['relay socket open', 'challenge in'],
    ['hello out', 'relay: hello in'],
    ['relay: hello in', 'relay: welcome out'],
    ['relay: welcome out', 'welcome in'],
    ['script-start (page module runs)', 'welcome in'],
    ['welcome in', 'dial: offer out to the relay (signed)'],
    ['dial: offer set as local description', 'dial: first local candidate'],
    ['dial: offer out to the relay (signed)', 'relay: offer in'],
    ['relay: offer forwarded', 'answerer: offer in from the relay'],
    ['answerer: offer in from the relay', 'answerer: answer out to the relay (signed)'],
    ['answerer: answer out to the relay (signed)', 'relay: answer in'],
    ['relay: answer forwarded', 'dial: answer in from the relay'],
    ['dial: answer in from the relay', 'dial: answer set as remote description'],
    ['dial: answer set as remote description', 'dial: data channel open'],
    ['welcome in', 'dial: data channel open'],
  ];
  console.log('| step, within each join | p50 ms | p95 | joins |\n| --- | --- | --- | --- |');
  for (const [a, b] of segments) {
    const d = joins.flatMap((j) => (j.has(a) && j.has(b) ? [j.get(b)! - j.get(a)!] : []));
    console.log(`| ${a} → ${b} | ${f(d, 50)} | ${f(d, 95)} | ${d.length} |`);
  }
  console.log('');
  // Each join on its own, for what medians of different joins hide.
  for (const [i, j] of joins.slice(0, Number(arg('show') ?? 2)).entries()) {
    console.log(`join ${i + 1}:`);
    for (const [name, t] of [...j].sort((a, b) => a[1] - b[1])) console.log(`  ${t.toFixed(1).padStart(8)}  ${name}`);
  }
  console.log(`Chromium ${browser.version()}, ${PEERS} tabs × ${ROUNDS} round(s): ${joins.length} joins\n`);
  console.log(
    [
      '| checkpoint | p50 ms since navigation | p95 | p50 step from the row above | p95 | joins |',
      '| --- | --- | --- | --- | --- | --- |',
      ...rows,
    ].join('\n'),
  );
}

await main();
process.exit(0);
