/**
 * Turns the figures of `npm run bench:hops` into its BENCHMARKS.md section, with the memory
 * budget of a tab checked (reported, not asserted by any test).
 */
import { mean, percentile, table } from './report.js';

export interface TabMemory {
  /** Bytes of JS heap in use on the page's main thread after a forced GC. */
  pageHeap: number;
  /** The same for the page's workers (the DHT worker). */
  workerHeap: number;
  workers: number;
}

export interface HopsRun {
  tabs: number;
  k: number;
  cap: number;
  /** Per tab after the first: ms from navigation start to its first open channel. */
  joinMs: number[];
  rawRtt: number[];
  discoveries: Array<{ ms: number; found: boolean }>;
  /** Hops of each discovery's lookup (its best path), from the peer's `lookup` events. */
  hops: number[];
  openPerTab: number[];
  createdPerTab: number[];
  createdDuringLookups: number;
  /** Of those, the neighbour policy's paced top-up of route-shortening extras (not the lookups'). */
  optionalDuringLookups: number;
  memory: TabMemory[];
  /** Counters of channel churn, summed over the tabs from their start. */
  churn: Record<string, number>;
}

/**
 * The budget of one tab's JS heaps, page and worker together. A peer lives inside someone
 * else's app, and a phone's browser starts discarding tabs at a few hundred MB per renderer:
 * the peer should take at most a tenth of a modest 160 MB app tab. And with a bounded
 * neighbour set a tab keeps the same few channels however large the mesh grows, so its heap
 * should not grow with the mesh: at most 25% more at the largest size than at the smallest.
 */
export const HEAP_BUDGET_BYTES = 16 * 2 ** 20;
export const HEAP_GROWTH_BUDGET = 1.25;
/** The issue's target for cold discovery: at most 3 raw data-channel round trips per hop. */
const RAW_PER_HOP = 3;

const MB = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MB`;
const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const verdict = (ok: boolean): string => (ok ? 'met' : '**missed**');
const total = (m: TabMemory): number => m.pageHeap + m.workerHeap;

function runTable(r: HopsRun, smallest: HopsRun, largest: HopsRun): string {
  const cold = r.discoveries.map((d) => d.ms);
  const found = r.discoveries.filter((d) => d.found).length;
  const raw = percentile(r.rawRtt, 50);
  const hopsMean = mean(r.hops);
  const perHop = percentile(cold, 50) / (Math.max(1, hopsMean) * raw);
  const perTab = r.memory.map(total);
  const growth = mean(perTab) / mean(smallest.memory.map(total));
  const rows: Array<Array<string | number>> = [
    [
      'lookup hops p50 / p95 / max (mean)',
      `${percentile(r.hops, 50)} / ${percentile(r.hops, 95)} / ${Math.max(...r.hops)} (${hopsMean.toFixed(2)})`,
      r === largest ? 'p50 ≥ 2' : '(at the largest size)',
      r === largest ? verdict(percentile(r.hops, 50) >= 2) : '',
    ],
    ['raw data-channel round trip p50 / p95 (floor)', `${ms(raw)} / ${ms(percentile(r.rawRtt, 95))} ms`, '', ''],
    [
      'cold discovery (forceRefresh) p50 / p95',
      `${ms(percentile(cold, 50))} / ${ms(percentile(cold, 95))} ms`,
      `≤ ${RAW_PER_HOP}× raw per hop`,
      '',
    ],
    [
      '  … p50 / (mean hops × raw p50)',
      `${perHop.toFixed(1)}× (${Math.max(1, hopsMean).toFixed(2)} × ${ms(raw)} ms)`,
      `≤ ${RAW_PER_HOP}×`,
      verdict(perHop <= RAW_PER_HOP),
    ],
    [
      'discoveries that returned the provider',
      `${found} / ${r.discoveries.length} (${((100 * found) / r.discoveries.length).toFixed(1)}%)`,
      '100%',
      verdict(found === r.discoveries.length),
    ],
    [
      'PeerConnections open per tab: mean / max',
      `${mean(r.openPerTab).toFixed(1)} / ${Math.max(...r.openPerTab)}`,
      `≤ ${r.cap} (the cap)`,
      verdict(Math.max(...r.openPerTab) <= r.cap),
    ],
    [
      'PeerConnections created per tab since it opened: mean / max',
      `${mean(r.createdPerTab).toFixed(1)} / ${Math.max(...r.createdPerTab)}`,
      '',
      '',
    ],
    [
      'PeerConnections created while the discoveries ran (all tabs)',
      // A page counts the connections it accepts too: one dial is counted by both tabs.
      `${r.createdDuringLookups} (the policy's paced top-ups of optional neighbours dialled ${r.optionalDuringLookups}, each counted by both tabs)`,
      '0 by lookups',
      verdict(r.createdDuringLookups <= 2 * r.optionalDuringLookups),
    ],
    [
      'join: page load → first open channel p50 / p95',
      `${ms(percentile(r.joinMs, 50))} / ${ms(percentile(r.joinMs, 95))} ms`,
      '',
      '',
    ],
    [
      'JS heap per tab, page: mean / max',
      `${MB(mean(r.memory.map((m) => m.pageHeap)))} / ${MB(Math.max(...r.memory.map((m) => m.pageHeap)))}`,
      '',
      '',
    ],
    [
      'JS heap per tab, DHT worker: mean / max',
      `${MB(mean(r.memory.map((m) => m.workerHeap)))} / ${MB(Math.max(...r.memory.map((m) => m.workerHeap)))}`,
      '',
      '',
    ],
    [
      'JS heap per tab, page + worker: mean / max',
      `${MB(mean(perTab))} / ${MB(Math.max(...perTab))}`,
      `≤ ${MB(HEAP_BUDGET_BYTES)} each`,
      verdict(Math.max(...perTab) <= HEAP_BUDGET_BYTES),
    ],
  ];
  if (r !== smallest) {
    rows.push([
      `  … mean against ${smallest.tabs} tabs`,
      `${growth.toFixed(2)}×`,
      `≤ ${HEAP_GROWTH_BUDGET}×`,
      verdict(growth <= HEAP_GROWTH_BUDGET),
    ]);
  }
  const workers = new Set(r.memory.map((m) => m.workers));
  return [
    `### ${r.tabs} tabs, k = ${r.k}, maxNeighbours = ${r.cap}`,
    '',
    `${r.discoveries.length} forced discoveries of one provider, ${r.discoveries.length / Math.max(1, r.tabs - 1)} from every other tab, one at a time; ` +
      `${r.rawRtt.length} raw channel pings; heaps after a forced GC, ${[...workers].join(' or ')} worker(s) per tab.`,
    '',
    table(['figure', 'value', 'target', ''], rows),
    '',
    `Channel churn, all tabs from their start: ${Object.entries(r.churn)
      .map(([name, v]) => `${name} ${v}`)
      .join(', ')}.`,
  ].join('\n');
}

export function renderHopsReport(browserVersion: string, load: number, lookups: number, runs: HopsRun[]): string {
  const smallest = runs.reduce((a, b) => (b.tabs < a.tabs ? b : a));
  const largest = runs.reduce((a, b) => (b.tabs > a.tabs ? b : a));
  return [
    `Headless Chromium ${browserVersion}, every tab in its own browser context, loopback, the relay of \`npm start\` in the benchmark process (Puppeteer drives the pages, for a CDP session on each DHT worker). ` +
      `Every tab runs createPeer with \`k\` and \`maxNeighbours\` turned down: with the defaults a mesh this small takes one hop per lookup (a neighbour nearly always holds one of the 20 replicas; bench:browser's "lookup hops 1.00"), ` +
      `so these meshes route as a far larger one does. Hops are the best path's of each lookup (the peer's \`lookup\` events); ${lookups} lookups per tab. ` +
      'Memory is CDP `Runtime.getHeapUsage` after `HeapProfiler.collectGarbage`, on the page and on its worker: JS heaps only, not the renderer process (WebRTC lives outside the JS heap). ' +
      `Heap budget per tab: ${MB(HEAP_BUDGET_BYTES)}, page and worker together (a tenth of a modest 160 MB app tab), growing at most ${HEAP_GROWTH_BUDGET}× from the smallest to the largest mesh (a bounded neighbour set should not grow with the mesh). ` +
      `Load average when the benchmark started: ${load.toFixed(2)}.`,
    '',
    ...runs.flatMap((r) => [runTable(r, smallest, largest), '']),
  ].join('\n');
}
