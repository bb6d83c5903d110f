/**
 * `npm run bench:join-profile`: what one joining page's threads do from navigation to its first
 * open channel, from Chromium's own performance trace (the timeline Chrome's DevTools records),
 * so that what `npm run bench:join` shows as waits can be named. The pages of `bench:browser`
 * (8 by default, each in its own context and opened in turn, the relay in a process of its own),
 * without `?join=1`: nothing in the page is patched. Every page after the first is traced.
 *
 * For each traced join it adds up, per thread of the joining page's renderer (its main thread,
 * the DHT worker), the top-level tasks' time by what they ran (parsing the HTML, compiling and
 * evaluating scripts, timers, event handlers, garbage collection, ...) in three windows:
 * navigation → `script-start`, `script-start` → the relay welcome, welcome → first channel; and
 * the main thread's busiest JavaScript functions by sampled self time. It prints medians over the
 * joins; it writes nothing (BENCHMARKS.md quotes it by hand).
 *
 *   npm run bench:join-profile -- [--peers=8] [--rounds=1] [--functions=15] [--unminified] [--save=dir]
 */
import { writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, findBrowser } from '../scripts/find-browser.js';
import { listen } from '../src/relay/http.js';
import { isolatedPagesServer } from './isolated-pages.js';
import { startRelayProcess } from './join-relay.js';
import { pageSays } from './page-says.js';
import { percentile } from './report.js';
import { summarise, type TraceEvent, type TracedJoin } from './join-profile-read.js';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const PEERS = Number(arg('peers') ?? 8);
const ROUNDS = Number(arg('rounds') ?? 1);
const FUNCTIONS = Number(arg('functions') ?? 15);
/** A directory to write each traced join to (its trace events and the page's marks), for a closer look. */
const SAVE = arg('save');
const TIMEOUT_MS = 60_000;

const CATEGORIES = [
  'devtools.timeline',
  'disabled-by-default-devtools.timeline',
  'disabled-by-default-devtools.timeline.frame',
  'v8',
  'v8.execute',
  'blink.user_timing',
  'loading',
  'toplevel',
  'disabled-by-default-v8.cpu_profiler',
];

async function traceOne(browser: Browser, url: string): Promise<{ page: Page; join: TracedJoin }> {
  const page = await (await browser.newContext()).newPage();
  await browser.startTracing(page, { categories: CATEGORIES });
  const joined = pageSays(page, 'first-channel', TIMEOUT_MS);
  const ready = pageSays(page, 'ready', TIMEOUT_MS);
  await page.goto(url);
  await joined;
  await ready;
  const marks = await page.evaluate(() => {
    const m: Record<string, number> = { 'script-start': window.bench!.join.scriptStartMs };
    for (const e of performance.getEntriesByType('mark'))
      if (e.name.startsWith('macula:')) m[e.name.slice(7)] ??= e.startTime;
    return m;
  });
  const buffer = await browser.stopTracing();
  const events = (JSON.parse(buffer.toString('utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
  return { page, join: { events, marks } };
}

async function main(): Promise<void> {
  const { server, close: closePages } = await isolatedPagesServer('bench/browser.bench.html', {
    minify: process.argv.includes('--unminified') ? false : true,
  });
  const relay = await startRelayProcess();
  await listen(server, 0, '127.0.0.1');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bench/browser.bench.html`;
  const browser = await chromium.launch({ executablePath: await findBrowser(), args: CHROMIUM_ARGS });
  const summaries: ReturnType<typeof summarise>[] = [];
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const url = `${base}?relay=${encodeURIComponent(relay.url)}&realm=profile-${Date.now()}-${r}`;
      const pages: Page[] = [];
      const first = await (await browser.newContext()).newPage();
      const ready = pageSays(first, 'ready', TIMEOUT_MS);
      await first.goto(url);
      await ready;
      pages.push(first);
      for (let i = 1; i < PEERS; i++) {
        const { page, join } = await traceOne(browser, url);
        pages.push(page);
        summaries.push(summarise(join));
        if (SAVE !== undefined) await writeFile(`${SAVE}/join-${r}-${i}.json`, JSON.stringify(join));
      }
      await Promise.all(pages.map((p) => p.context().close()));
    }
  } finally {
    await browser.close();
    await relay.close();
    await closePages();
  }
  print(summaries);
}

function print(summaries: ReturnType<typeof summarise>[]): void {
  const med = (xs: number[]): string => (xs.length === 0 ? '' : percentile(xs, 50).toFixed(1));
  console.log(`${summaries.length} traced joins; medians, ms\n`);
  console.log('| checkpoint (ms since navigation) | p50 |\n| --- | --- |');
  const checkpoints = [...new Set(summaries.flatMap((s) => Object.keys(s.checkpoints)))];
  const at = (name: string): number[] =>
    summaries.map((s) => s.checkpoints[name]).filter((v): v is number => v !== undefined);
  checkpoints.sort((a, b) => percentile(at(a), 50) - percentile(at(b), 50));
  for (const name of checkpoints) console.log(`| ${name} | ${med(at(name))} |`);
  const gather = (pick: (s: ReturnType<typeof summarise>) => Record<string, number>): Map<string, number[]> => {
    const rows = new Map<string, number[]>();
    for (const s of summaries)
      for (const [key, v] of Object.entries(pick(s))) rows.set(key, [...(rows.get(key) ?? []), v]);
    return rows;
  };
  // A median over the joins that had the row, and the sum over all joins (rows absent from most joins rank by it).
  const total = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  for (const [w, window] of (summaries[0]?.windows.map((x) => x.name) ?? []).entries()) {
    console.log(`\n**${window}**\n`);
    console.log(
      '| thread: task | wall p50 ms | CPU p50 ms | CPU, all joins | joins |\n| --- | --- | --- | --- | --- |',
    );
    const wall = gather((s) => s.windows[w]!.busy);
    const cpu = gather((s) => s.windows[w]!.cpu);
    const sorted = [...wall].sort((a, b) => total(cpu.get(b[0]) ?? []) - total(cpu.get(a[0]) ?? []));
    for (const [key, ms] of sorted.slice(0, 25))
      console.log(
        `| ${key} | ${med(ms)} | ${med(cpu.get(key) ?? [])} | ${total(cpu.get(key) ?? []).toFixed(1)} | ${ms.length} |`,
      );
    console.log(`\nmain thread, ${window}: JavaScript by sampled self time\n`);
    console.log('| function (file:line) | p50 ms | all joins | joins |\n| --- | --- | --- | --- |');
    const fns = gather((s) => s.functions[w]!);
    for (const [key, ms] of [...fns].sort((a, b) => total(b[1]) - total(a[1])).slice(0, FUNCTIONS))
      console.log(`| ${key} | ${med(ms)} | ${total(ms).toFixed(1)} | ${ms.length} |`);
  }
}

await main();
process.exit(0);
