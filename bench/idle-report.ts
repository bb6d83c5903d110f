/** The Idle section of BENCHMARKS.md, from what bench/idle.bench.ts measured. */
import { machine, mean, percentile, table } from './report.js';

export interface TabFigures {
  /** Main thread busy (CDP Performance.getMetrics TaskDuration) over the idle window, % of one core. */
  pageTaskPct: number;
  styleRecalcsPerS: number;
  layoutsPerS: number;
  pageHeapMB: number;
}

/** One thread over the traced idle window. */
export interface ThreadLoad {
  tasksPerS: number;
  busyMsPerS: number;
}

export interface KindFigures {
  kind: string;
  tabs: number;
  idleSeconds: number;
  /** CPU time of every Chromium process (browser, GPU, network, renderers) over the window, per tab. */
  processCorePctPerTab: number;
  perTab: TabFigures[];
  /** Each measured page's renderer main thread, and each dedicated worker of those pages. */
  main: ThreadLoad[];
  worker: ThreadLoad[];
  /** The other threads of each measured renderer (IO, WebRTC networking), summed per renderer. */
  rest: ThreadLoad[];
  /** Open channels of each peer tab at the end: the mesh survived the idle window. */
  openChannelsAfter: number[];
}

const DESCRIPTIONS: Record<string, string> = {
  blank: 'about:blank',
  lib: 'library only (bench/idle.bench.html: one service, one subscription, IndexedDB)',
  demo: 'the demo (index.html)',
  'lib-hidden': 'library only, tab hidden (another tab of its context in front)',
  'demo-hidden': 'the demo, tab hidden (another tab of its context in front)',
};

const num = (v: number | undefined, digits = 1): string =>
  v === undefined || Number.isNaN(v) ? '–' : v.toFixed(digits);
const pct = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '–' : `${v.toFixed(2)}%`);
const avg = (xs: number[]): number | undefined => (xs.length ? mean(xs) : undefined);
/** Busy milliseconds per second are tenths of a percent of a core. */
const busyPct = (ts: ThreadLoad[]): number | undefined => {
  const a = avg(ts.map((t) => t.busyMsPerS));
  return a === undefined ? undefined : a / 10;
};

export function renderIdleReport(version: string, loadAtStart: number, kinds: KindFigures[]): string {
  const first = kinds[0];
  const rows = kinds.map((k) => {
    const main = busyPct(k.main);
    const worker = busyPct(k.worker);
    return [
      k.kind,
      pct(k.processCorePctPerTab),
      pct(main),
      pct(worker),
      pct(main === undefined ? undefined : main + (worker ?? 0)),
      pct(busyPct(k.rest)),
      pct(avg(k.perTab.map((t) => t.pageTaskPct))),
      `${num(avg(k.main.map((t) => t.tasksPerS)))} (p95 ${num(
        percentile(
          k.main.map((t) => t.tasksPerS),
          95,
        ),
      )})`,
      k.worker.length
        ? `${num(avg(k.worker.map((t) => t.tasksPerS)))} (p95 ${num(
            percentile(
              k.worker.map((t) => t.tasksPerS),
              95,
            ),
          )})`
        : '–',
      num(avg(k.perTab.map((t) => t.styleRecalcsPerS)), 2),
      num(avg(k.perTab.map((t) => t.layoutsPerS)), 2),
      num(avg(k.perTab.map((t) => t.pageHeapMB))),
      k.openChannelsAfter.length ? `${Math.min(...k.openChannelsAfter)}–${Math.max(...k.openChannelsAfter)}` : '–',
    ];
  });
  return [
    `Chromium ${version}, headless; ${first?.tabs ?? 0} tabs per kind, each in its own browser context, meshed through one relay, then ${num(first?.idleSeconds, 0)} s idle; kinds measured one after the other in one browser. Load average at the start: ${loadAtStart.toFixed(2)}: the machine's 2 cores are shared with other work, so compare kinds within this run, not with other runs.`,
    '',
    table(
      [
        'kind',
        'all processes, per tab',
        'main thread',
        'worker',
        'main + worker',
        'rest of renderer',
        'main thread (TaskDuration)',
        'main-thread tasks/s',
        'worker tasks/s',
        'style recalcs/s',
        'layouts/s',
        'page heap MB',
        'open channels at end',
      ],
      rows,
    ),
    '',
    ...kinds.map((k) => `- \`${k.kind}\`: ${DESCRIPTIONS[k.kind] ?? k.kind}.`),
    '- "all processes, per tab": CPU time of every Chromium process (SystemInfo.getProcessInfo: browser, network and GPU processes included) over the idle window, divided by the tabs; it includes the browser-wide cost of each tab (IPC, WebRTC networking in the browser process).',
    "- Main thread, worker, tasks/s: a trace of the idle window (`toplevel` category, one event per task a thread runs; each is a wake-up), for the renderer main thread of each measured page (a peer page's renderer is the one running a dedicated worker), its worker, and the rest of that renderer (IO, WebRTC network thread); busy time in % of one core, averaged over tabs. Dedicated workers have no Performance domain, so the trace is the only per-worker figure; TaskDuration (CDP Performance.getMetrics, thread time) is shown for the page as a check of the traced figure. A blank tab has tasks of its own; the difference is the page's.",
    '- Style recalculations and layouts: RecalcStyleCount and LayoutCount of the page (Performance.getMetrics) over the window.',
    `- Machine: ${machine()}.`,
  ].join('\n');
}
