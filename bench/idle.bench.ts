/**
 * `npm run bench:idle`: what a tab costs while nothing happens. N tabs of one kind (a blank
 * page, the library with no UI, the demo), each in its own browser context of one headless
 * Chromium, meshed through one relay, then left idle; the kinds run one after the other in
 * the same browser, so the blank tabs are the floor of the same run.
 *
 *   npm run bench:idle -- [--tabs=16] [--idle-seconds=60] [--kinds=blank,lib,demo,lib-hidden,demo-hidden]
 *
 * Figures come from the browser's own counters: CDP Performance.getMetrics (TaskDuration,
 * style recalculations, layouts) of each page over the idle window, CPU time of every
 * Chromium process (SystemInfo.getProcessInfo), and a trace of the same window: the tasks
 * each page's main thread and worker ran (every task is a wake-up) and how long they took
 * (a dedicated worker has no Performance domain of its own).
 * `-hidden` kinds are the same pages with a second, blank tab brought to the front of each
 * context, so the measured page is hidden as a background tab is.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type CDPSession, type Page } from 'puppeteer-core';
import { build } from 'vite';
import { CHROMIUM_ARGS, findBrowser } from '../scripts/find-browser.js';
import { listen } from '../src/relay/http.js';
import { startRelay } from '../src/relay/relay.js';
import { createStaticServer } from '../src/relay/static-server.js';
import { renderIdleReport, type KindFigures, type TabFigures, type ThreadLoad } from './idle-report.js';
import { writeSection } from './report.js';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const TABS = Number(arg('tabs') ?? 16);
const IDLE_S = Number(arg('idle-seconds') ?? 60);
const KINDS = (arg('kinds') ?? 'blank,lib,demo,lib-hidden,demo-hidden').split(',');
/** After the mesh forms: joins, bucket refreshes and first saves settle before the window opens. */
const SETTLE_S = Number(arg('settle-seconds') ?? 20);
const MESH_TIMEOUT_MS = 120_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A step that does not finish in time fails the run, naming itself, instead of hanging it. */
async function step<T>(name: string, work: Promise<T>, ms = 120_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

interface Tab {
  page: Page;
  /** A blank page of the same context in front of `page` (the `-hidden` kinds). */
  cover?: Page;
  pageCdp: CDPSession;
}

type Metrics = Record<string, number>;

async function metrics(cdp: CDPSession | undefined): Promise<Metrics | undefined> {
  if (!cdp) return undefined;
  try {
    const { metrics: list } = await cdp.send('Performance.getMetrics');
    return Object.fromEntries(list.map((m) => [m.name, m.value]));
  } catch {
    return undefined;
  }
}

async function processCpuSeconds(browserCdp: CDPSession): Promise<number> {
  const info = (await browserCdp.send('SystemInfo.getProcessInfo')) as { processInfo: Array<{ cpuTime: number }> };
  return info.processInfo.reduce((a, p) => a + p.cpuTime, 0);
}

async function openTab(browser: Browser, url: string | undefined, hidden: boolean): Promise<Tab> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  const pageCdp = await page.createCDPSession();
  await pageCdp.send('Performance.enable', { timeDomain: 'threadTicks' });
  if (url) await page.goto(url);
  const tab: Tab = { page, pageCdp };
  if (hidden) {
    tab.cover = await context.newPage();
    await tab.cover.bringToFront();
  }
  return tab;
}

/** Every peer tab has its peer and at least min(n - 1, 3) open channels. */
async function waitForMesh(tabs: Tab[]): Promise<void> {
  const want = Math.min(tabs.length - 1, 3);
  const deadline = Date.now() + MESH_TIMEOUT_MS;
  for (;;) {
    const counts = await Promise.all(
      tabs.map((t) =>
        t.page.evaluate(async () => {
          const w = window as unknown as { peer?: { peers(): Promise<unknown[]> }; peerError?: { message: string } };
          if (w.peerError) throw new Error(w.peerError.message);
          return w.peer ? (await w.peer.peers()).length : -1;
        }),
      ),
    );
    if (counts.every((c) => c >= want)) return;
    if (Date.now() > deadline)
      throw new Error(`no mesh within ${MESH_TIMEOUT_MS} ms: open channels ${counts.join(',')}`);
    await sleep(250);
  }
}

const visibility = (t: Tab): Promise<string> => t.page.evaluate(() => document.visibilityState);

/** Chromium's `toplevel` trace category has one event per task a thread runs: each is a wake-up. */
async function startTrace(browserCdp: CDPSession): Promise<void> {
  await browserCdp.send('Tracing.start', {
    traceConfig: { includedCategories: ['toplevel'] },
    transferMode: 'ReturnAsStream',
  });
}

/**
 * Tasks and busy time of the measured pages' renderer threads: a peer page's renderer is the
 * one running a dedicated worker (the blank pages of the `-hidden` kinds run none); with no
 * peer pages (the blank kind), every renderer.
 */
async function endTrace(
  browserCdp: CDPSession,
  seconds: number,
  peers: boolean,
): Promise<{ main: ThreadLoad[]; worker: ThreadLoad[]; rest: ThreadLoad[] }> {
  const done = new Promise<string>((resolve) =>
    browserCdp.once('Tracing.tracingComplete', (e: { stream?: string }) => resolve(e.stream ?? '')),
  );
  await browserCdp.send('Tracing.end');
  const stream = await done;
  const chunks: string[] = [];
  for (;;) {
    const chunk = (await browserCdp.send('IO.read', { handle: stream, size: 1 << 20 })) as {
      data: string;
      eof: boolean;
      base64Encoded?: boolean;
    };
    chunks.push(chunk.base64Encoded ? Buffer.from(chunk.data, 'base64').toString('utf8') : chunk.data);
    if (chunk.eof) break;
  }
  await browserCdp.send('IO.close', { handle: stream });
  const parsed = JSON.parse(chunks.join('')) as { traceEvents?: TraceEvent[] } | TraceEvent[];
  const events = Array.isArray(parsed) ? parsed : (parsed.traceEvents ?? []);
  const names = new Map<string, string>();
  for (const e of events)
    if (e.ph === 'M' && e.name === 'thread_name') names.set(`${e.pid}:${e.tid}`, e.args?.name ?? '');
  const pidOf = (key: string): number => Number(key.split(':')[0]);
  const renderers = new Set([...names].filter(([, n]) => n === 'CrRendererMain').map(([k]) => pidOf(k)));
  const withWorker = new Set([...names].filter(([, n]) => n.startsWith('DedicatedWorker')).map(([k]) => pidOf(k)));
  const measured = peers ? withWorker : renderers;
  const tasks = new Map<string, { n: number; us: number }>();
  for (const e of events) {
    // One ThreadControllerImpl::RunTask (toplevel) per task a Chromium thread runs.
    if (e.ph !== 'X' || e.name !== 'ThreadControllerImpl::RunTask' || !measured.has(e.pid)) continue;
    const key = `${e.pid}:${e.tid}`;
    const t = tasks.get(key) ?? { n: 0, us: 0 };
    t.n += 1;
    // Thread time where the trace has it: on a shared machine, wall time counts the waits for a core.
    t.us += e.tdur ?? e.dur ?? 0;
    tasks.set(key, t);
  }
  const load = (t: { n: number; us: number } | undefined): ThreadLoad => ({
    tasksPerS: (t?.n ?? 0) / seconds,
    busyMsPerS: (t?.us ?? 0) / 1000 / seconds,
  });
  const threads = (keep: (name: string) => boolean): ThreadLoad[] =>
    [...names].filter(([k, n]) => measured.has(pidOf(k)) && keep(n)).map(([k]) => load(tasks.get(k)));
  // The rest of each renderer (IO, WebRTC network thread, ...), summed per process.
  const rest = [...measured].map((pid) => {
    let n = 0;
    let us = 0;
    for (const [k, t] of tasks) {
      const name = names.get(k) ?? '';
      if (pidOf(k) === pid && name !== 'CrRendererMain' && !name.startsWith('DedicatedWorker')) {
        n += t.n;
        us += t.us;
      }
    }
    return load({ n, us });
  });
  return {
    main: threads((n) => n === 'CrRendererMain'),
    worker: threads((n) => n.startsWith('DedicatedWorker')),
    rest,
  };
}

interface TraceEvent {
  ph: string;
  name: string;
  cat?: string;
  pid: number;
  tid: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

async function measureKind(browser: Browser, base: string, kind: string): Promise<KindFigures> {
  const hidden = kind.endsWith('-hidden');
  const page = kind.replace(/-hidden$/, '');
  const url = page === 'blank' ? undefined : page === 'demo' ? `${base}/` : `${base}/bench/idle.bench.html`;
  const browserCdp = await browser.target().createCDPSession();
  const tabs: Tab[] = [];
  try {
    for (let i = 0; i < TABS; i++) tabs.push(await openTab(browser, url, hidden));
    if (url) await waitForMesh(tabs);
    const states = await Promise.all(tabs.map(visibility));
    console.log(
      `  ${kind}: ${TABS} tabs ${url ? 'meshed' : 'open'} (visibility: ${[...new Set(states)].join(', ')}); settling ${SETTLE_S} s`,
    );
    await sleep(SETTLE_S * 1000);
    const before = await step('metrics', Promise.all(tabs.map((t) => metrics(t.pageCdp))));
    const cpu0 = await step('process CPU', processCpuSeconds(browserCdp));
    await step('trace start', startTrace(browserCdp));
    const t0 = Date.now();
    await sleep(IDLE_S * 1000);
    const cpu1 = await step('process CPU', processCpuSeconds(browserCdp));
    const seconds = (Date.now() - t0) / 1000;
    const after = await step('metrics', Promise.all(tabs.map((t) => metrics(t.pageCdp))));
    const threads = await step('trace', endTrace(browserCdp, seconds, url !== undefined));
    const perTab: TabFigures[] = tabs.map((_, i) => {
      const p0 = before[i];
      const p1 = after[i];
      const d = (k: string): number => (p1?.[k] ?? 0) - (p0?.[k] ?? 0);
      return {
        pageTaskPct: (100 * d('TaskDuration')) / seconds,
        styleRecalcsPerS: d('RecalcStyleCount') / seconds,
        layoutsPerS: d('LayoutCount') / seconds,
        pageHeapMB: (p1?.['JSHeapUsedSize'] ?? 0) / 2 ** 20,
      };
    });
    const stillMeshed = url
      ? await step(
          'open channels',
          Promise.all(tabs.map((t) => t.page.evaluate(async () => (await window.peer!.peers()).length))),
        )
      : [];
    const figures: KindFigures = {
      kind,
      tabs: TABS,
      idleSeconds: seconds,
      processCorePctPerTab: (100 * (cpu1 - cpu0)) / seconds / TABS,
      perTab,
      main: threads.main,
      worker: threads.worker,
      rest: threads.rest,
      openChannelsAfter: stillMeshed,
    };
    return figures;
  } finally {
    await Promise.all(tabs.map((t) => t.page.browserContext().close()));
    await browserCdp.detach();
  }
}

async function main(): Promise<void> {
  const outDir = await mkdtemp(join(tmpdir(), 'macula-idle-bench-'));
  await build({
    logLevel: 'warn',
    build: {
      outDir,
      emptyOutDir: true,
      sourcemap: false,
      rolldownOptions: { input: ['index.html', 'bench/idle.bench.html'] },
    },
  });
  const server = createStaticServer(outDir);
  const relay = await startRelay({ server, limits: { socketsPerAddress: 512 } });
  await listen(server, 0, '127.0.0.1');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const load = loadavg()[0]!;
  const browser = await puppeteer.launch({ executablePath: await findBrowser(), headless: true, args: CHROMIUM_ARGS });
  const version = await browser.version();
  const results: KindFigures[] = [];
  try {
    for (const kind of KINDS) {
      const figures = await measureKind(browser, base, kind);
      results.push(figures);
      console.log(`  ${kind}: all processes ${figures.processCorePctPerTab.toFixed(2)}% of a core per tab`);
    }
  } finally {
    await browser.close();
    await relay.close();
    server.close();
    server.closeAllConnections();
    await rm(outDir, { recursive: true, force: true });
  }
  const command = `npm run bench:idle${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const body = renderIdleReport(version, load, results);
  console.log(body);
  writeSection('Idle', command, body);
}

await main();
