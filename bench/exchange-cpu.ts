/**
 * `npm run bench:exchange-cpu`: how much CPU one cold discovery, one call and one publish cost,
 * summed over every thread of every process of the browser, from Chromium's own performance
 * trace (each top-level task's thread time). On a machine with fewer cores than the threads an
 * exchange wakes, that sum divided by the cores bounds the exchange's wall time from below,
 * whatever the order the threads run in; and a bare message to as many tabs (no library: the
 * fan-out floor of `npm run bench:browser`) shows what the browser itself costs.
 *
 * 8 peers as in `npm run bench:browser` (each in its own context, the relay in this process).
 * For each kind of exchange, `--rounds` of them back to back are traced; the script prints, per
 * kind, the wall time per exchange and the CPU per exchange by thread kind (renderer main
 * threads, DHT workers, WebRTC and IO threads, the browser and network processes). It writes
 * nothing (BENCHMARKS.md quotes it by hand).
 *
 * With `--functions=N`, also the N JavaScript functions with the most self time per exchange
 * (V8's sampling profiler in every thread of every tab, summed), for the library's exchanges;
 * `--unminified` keeps their names.
 *
 *   npm run bench:exchange-cpu -- [--rounds=100] [--functions=20] [--unminified]
 */
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, findBrowser } from '../scripts/find-browser.js';
import { listen } from '../src/relay/http.js';
import { startRelay } from '../src/relay/relay.js';
import { isolatedPagesServer } from './isolated-pages.js';
import { pageSays } from './page-says.js';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const ROUNDS = Number(arg('rounds') ?? 100);
const FUNCTIONS = Number(arg('functions') ?? 0);
const PEERS = 8;
const SUBSCRIBERS = 5;
const SERVICE = 'bench.echo';
const TOPIC = 'bench.topic';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const evaluate = <T>(page: Page, code: string): Promise<T> => page.evaluate(code) as Promise<T>;

interface TraceEvent {
  ph: string;
  name: string;
  pid: number;
  tid: number;
  id?: string;
  dur?: number;
  tdur?: number;
  args?: { name?: string; data?: unknown };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url?: string; lineNumber: number };
}

/** Self time (ms) by JavaScript function over every sampled thread of the trace (V8's profiler). */
function selfTimes(events: TraceEvent[]): Map<string, number> {
  const out = new Map<string, number>();
  const profiles = new Map<string, { nodes: Map<number, ProfileNode>; last?: number }>();
  for (const e of events) {
    if (e.name !== 'ProfileChunk' || e.id === undefined) continue;
    const slot = `${e.pid}:${e.id}`;
    let p = profiles.get(slot);
    if (p === undefined) profiles.set(slot, (p = { nodes: new Map() }));
    const data = e.args?.data as
      { cpuProfile?: { nodes?: ProfileNode[]; samples?: number[] }; timeDeltas?: number[] } | undefined;
    for (const n of data?.cpuProfile?.nodes ?? []) p.nodes.set(n.id, n);
    const samples = data?.cpuProfile?.samples ?? [];
    const deltas = data?.timeDeltas ?? [];
    // A sample's time is the gap to the next one: the gap before it is charged to the one before.
    samples.forEach((node, i) => {
      if (p.last !== undefined) {
        const f = p.nodes.get(p.last)?.callFrame;
        const name =
          f === undefined
            ? '?'
            : `${f.functionName || '(anonymous)'} ${(f.url ?? '').split('/').pop()}:${f.lineNumber}`;
        out.set(name, (out.get(name) ?? 0) + (deltas[i] ?? 0) / 1000);
      }
      p.last = node;
    });
  }
  out.delete('(idle) :-1');
  return out;
}

/** Top-level tasks: what a thread's run loop runs; their thread time is the thread's CPU. */
const TASKS = new Set(['ThreadControllerImpl::RunTask', 'RunTask', 'ThreadPool_RunTask']);

/** A thread's kind, from its process's and its own name (renderers' threads summed across tabs). */
function kindOf(process: string, thread: string): string {
  if (process === 'Renderer') {
    if (thread === 'CrRendererMain') return 'renderer: page main thread';
    if (thread.startsWith('DedicatedWorker')) return 'renderer: workers';
    if (thread.startsWith('WebRTC')) return `renderer: ${thread}`;
    return `renderer: ${thread.replace(/[0-9]+$/, '').trim() || 'other'}`;
  }
  return `${process || 'other process'}: ${thread.replace(/[0-9]+$/, '').trim() || 'other'}`;
}

/** CPU (ms) by thread kind over a trace, from its top-level tasks' thread durations. */
function cpuByKind(events: TraceEvent[]): Map<string, number> {
  const processes = new Map<number, string>();
  const threads = new Map<string, string>();
  for (const e of events) {
    if (e.ph !== 'M') continue;
    if (e.name === 'process_name') processes.set(e.pid, e.args?.name ?? '');
    if (e.name === 'thread_name') threads.set(`${e.pid}:${e.tid}`, e.args?.name ?? '');
  }
  const out = new Map<string, number>();
  for (const e of events) {
    if (e.ph !== 'X' || !TASKS.has(e.name) || e.tdur === undefined) continue;
    const kind = kindOf(processes.get(e.pid) ?? '', threads.get(`${e.pid}:${e.tid}`) ?? '');
    out.set(kind, (out.get(kind) ?? 0) + e.tdur / 1000);
  }
  return out;
}

async function traced(
  browser: Browser,
  page: Page,
  code: string,
  profile: boolean,
): Promise<{ wallMs: number; cpu: Map<string, number>; functions: Map<string, number> }> {
  const categories = ['toplevel', 'disabled-by-default-devtools.timeline'];
  if (profile) categories.push('v8.execute', 'disabled-by-default-v8.cpu_profiler');
  await browser.startTracing(undefined, { categories });
  const t0 = performance.now();
  await evaluate(page, code);
  const wallMs = performance.now() - t0;
  const buffer = await browser.stopTracing();
  const parsed = JSON.parse(buffer.toString('utf8')) as { traceEvents: TraceEvent[] } | TraceEvent[];
  const events = Array.isArray(parsed) ? parsed : parsed.traceEvents;
  return { wallMs, cpu: cpuByKind(events), functions: profile ? selfTimes(events) : new Map() };
}

async function main(): Promise<void> {
  const { server, close: closePages } = await isolatedPagesServer('bench/browser.bench.html', {
    minify: !process.argv.includes('--unminified'),
  });
  const relay = await startRelay({ server, limits: { socketsPerAddress: 512 } });
  await listen(server, 0, '127.0.0.1');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bench/browser.bench.html?realm=cpu-${Date.now()}`;
  const browser = await chromium.launch({ executablePath: await findBrowser(), args: CHROMIUM_ARGS });
  try {
    const pages: Page[] = [];
    for (let i = 0; i < PEERS; i++) {
      const page = await (await browser.newContext()).newPage();
      const ready = pageSays(page, 'ready', 60_000);
      await page.goto(url);
      await ready;
      pages.push(page);
    }
    const [provider, requester] = [pages[0]!, pages[1]!];
    await evaluate(provider, `window.bench.advertise('${SERVICE}')`);
    const publisher = pages[PEERS - 1]!;
    for (const s of pages.slice(1, 1 + SUBSCRIBERS)) await evaluate(s, `window.bench.subscribe('${TOPIC}')`);
    await sleep(6_000);
    // Warm: caches of providers and subscribers, the JIT, the answering pages' copies.
    await evaluate(requester, `window.bench.discoverTimes('${SERVICE}', 20, true)`);
    await evaluate(requester, `window.bench.callTimes('${SERVICE}', 20)`);
    for (let i = 0; i < 20; i++) await evaluate(publisher, `window.bench.publishTimed('${TOPIC}')`);
    // The bare floor: the requester's channels to three and five other tabs.
    const fanTo = pages.slice(2, 2 + SUBSCRIBERS);
    const offers = await evaluate<string[]>(requester, `window.bench.fanOffers(${fanTo.length})`);
    const answers: string[] = [];
    for (const [i, p] of fanTo.entries())
      answers.push(await evaluate<string>(p, `window.bench.fanAnswer(${JSON.stringify(offers[i])})`));
    await evaluate(requester, `window.bench.fanAccept(${JSON.stringify(answers)})`);
    await evaluate(requester, 'window.bench.fanPing(20, [3, 5])');

    // The library's exchanges (the last three) are the ones profiled.
    const kinds: Array<[string, Page, string]> = [
      ['idle (no exchange, 5 ms each)', requester, `new Promise((r) => setTimeout(r, ${ROUNDS * 5}))`],
      ['bare message to 1 tab, echoed', requester, `window.bench.fanPing(${ROUNDS}, [1])`],
      ['bare message to 3 tabs, all echoed', requester, `window.bench.fanPing(${ROUNDS}, [3])`],
      ['bare message to 5 tabs, all echoed', requester, `window.bench.fanPing(${ROUNDS}, [5])`],
      ['call', requester, `window.bench.callTimes('${SERVICE}', ${ROUNDS})`],
      ['cold discovery (forceRefresh)', requester, `window.bench.discoverTimes('${SERVICE}', ${ROUNDS}, true)`],
      [
        `publish → all ${SUBSCRIBERS} acknowledged`,
        publisher,
        `(async () => { for (let i = 0; i < ${ROUNDS}; i++) await window.bench.publishTimed('${TOPIC}'); })()`,
      ],
    ];
    const results: Array<{ name: string; wallMs: number; cpu: Map<string, number>; functions: Map<string, number> }> =
      [];
    for (const [i, [name, page, code]] of kinds.entries())
      results.push({ name, ...(await traced(browser, page, code, FUNCTIONS > 0 && i >= kinds.length - 3)) });

    const allKinds = [...new Set(results.flatMap((r) => [...r.cpu.keys()]))].sort();
    const per = (v: number): string => (v / ROUNDS).toFixed(3);
    console.log(`Chromium ${browser.version()}, ${PEERS} tabs, ${ROUNDS} exchanges of each kind back to back\n`);
    console.log(`| per exchange, ms | ${results.map((r) => r.name).join(' | ')} |`);
    console.log(`| --- | ${results.map(() => '---').join(' | ')} |`);
    console.log(`| wall | ${results.map((r) => per(r.wallMs)).join(' | ')} |`);
    const total = (r: (typeof results)[number]): number => [...r.cpu.values()].reduce((a, b) => a + b, 0);
    console.log(`| **CPU, all threads** | ${results.map((r) => `**${per(total(r))}**`).join(' | ')} |`);
    for (const kind of allKinds) {
      const row = results.map((r) => r.cpu.get(kind) ?? 0);
      if (row.every((v) => v / ROUNDS < 0.005)) continue;
      console.log(`| ${kind} | ${row.map(per).join(' | ')} |`);
    }
    for (const r of results) {
      if (r.functions.size === 0) continue;
      const top = [...r.functions].sort((a, b) => b[1] - a[1]).slice(0, FUNCTIONS);
      const sampled = [...r.functions.values()].reduce((a, b) => a + b, 0);
      console.log(`\n#### ${r.name}: JavaScript self time per exchange, all threads (${per(sampled)} ms sampled)\n`);
      console.log('| function | ms |\n| --- | --- |');
      for (const [name, msTotal] of top) console.log(`| ${name.replace(/\|/g, '\\|')} | ${per(msTotal)} |`);
    }
  } finally {
    await browser.close();
    await relay.close();
    await closePages();
  }
}

await main();
process.exit(0);
