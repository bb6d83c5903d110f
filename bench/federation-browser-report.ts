/**
 * Turns the samples of `npm run bench:federation-browser` into its BENCHMARKS.md section:
 * cold discovery and call, from tabs and from Node peers, split by how far apart the relays
 * the caller and the provider entered through are, with success rates, the cross/same
 * ratios and every failure by its error.
 */
import { renderPlaces, type ProviderPlace } from './federation-channels.js';
import type { Sample } from './federation-sample.js';
import { K } from '../src/core/constants.js';
import { mean, percentile, table } from './report.js';

export interface PairRecord {
  caller: string;
  callerKind: 'tab' | 'node';
  service: string;
  providerKind: 'tab' | 'node';
  /** 0: caller and provider entered through the same relay; 1: neighbouring relays; 2: A and C. */
  relayHops: number;
  /** Warm-up: time until the pair's first successful discovery; undefined when it never came. */
  firstDiscoveryMs: number | undefined;
  /** Warm-up: the pair's first call, made right after that. */
  firstCall: Sample | undefined;
  discover: Sample[];
  call: Sample[];
}

export interface FederationRun {
  browserVersion: string;
  tabs: number;
  nodePeers: number;
  rounds: number;
  plannedRounds: number;
  settleMs: number;
  samplingMs: number;
  deadlines: { discoverMs: number; callMs: number; callAttemptMs: number };
  pairs: PairRecord[];
  hops: Array<{ callerKind: 'tab' | 'node'; relayHops: number; hops: number }>;
  /** Participants no longer on the relay they entered through at the end. */
  movedRelay: string[];
  /** Each provider's closest nodes by XOR at the end, and whether each holds a channel to it. */
  places: ProviderPlace[];
}

const CLASSES: Array<{ label: string; hops: number[] }> = [
  { label: 'same relay', hops: [0] },
  { label: 'neighbouring relays (A–B, B–C)', hops: [1] },
  { label: 'two relays apart (A–C)', hops: [2] },
  { label: 'all cross-relay', hops: [1, 2] },
];
const CALLERS: Array<{ label: string; kind: 'tab' | 'node' }> = [
  { label: 'tabs', kind: 'tab' },
  { label: 'Node peers', kind: 'node' },
];

const ms = (v: number): string =>
  Number.isNaN(v) ? '–' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
const pct = (ok: number, n: number): string => (n === 0 ? '–' : `${((100 * ok) / n).toFixed(1)}%`);

function select(run: FederationRun, kind: 'tab' | 'node', hops: number[]): PairRecord[] {
  return run.pairs.filter((p) => p.callerKind === kind && hops.includes(p.relayHops));
}

function opRows(run: FederationRun, op: 'discover' | 'call'): Array<Array<string | number>> {
  const rows: Array<Array<string | number>> = [];
  for (const caller of CALLERS)
    for (const cls of CLASSES) {
      const pairs = select(run, caller.kind, cls.hops);
      const samples = pairs.flatMap((p) => p[op]);
      const ok = samples.filter((s) => s.ok).map((s) => s.ms);
      const row: Array<string | number> = [
        `from ${caller.label}, ${cls.label}`,
        pairs.length,
        `${ok.length} / ${samples.length} (${pct(ok.length, samples.length)})`,
        ms(percentile(ok, 50)),
        ms(percentile(ok, 95)),
      ];
      if (op === 'discover') {
        const hops = run.hops.filter((h) => h.callerKind === caller.kind && cls.hops.includes(h.relayHops));
        row.push(hops.length === 0 ? '–' : `${mean(hops.map((h) => h.hops)).toFixed(2)} (${hops.length})`);
      } else {
        // Whether the provider was a neighbour: a call to one goes straight over its channel.
        const known = samples.filter((s) => s.direct !== undefined);
        const direct = (xs: Sample[]): number => xs.filter((s) => s.direct).length;
        const failed = known.filter((s) => !s.ok);
        row.push(`${direct(known)} / ${known.length}`, `${direct(failed)} / ${failed.length}`);
      }
      rows.push(row);
    }
  return rows;
}

function okTimes(run: FederationRun, kind: 'tab' | 'node', hops: number[], op: 'discover' | 'call'): number[] {
  return select(run, kind, hops)
    .flatMap((p) => p[op])
    .filter((s) => s.ok)
    .map((s) => s.ms);
}

function ratioRows(run: FederationRun): Array<Array<string | number>> {
  const r = (a: number, b: number): string => (Number.isNaN(a) || Number.isNaN(b) ? '–' : `${(a / b).toFixed(2)}×`);
  return CALLERS.map(({ label, kind }) => {
    const cells: string[] = [`from ${label}`];
    for (const op of ['discover', 'call'] as const) {
      const same = okTimes(run, kind, [0], op);
      const cross = okTimes(run, kind, [1, 2], op);
      cells.push(r(percentile(cross, 50), percentile(same, 50)), r(percentile(cross, 95), percentile(same, 95)));
    }
    return cells;
  });
}

function warmUpRows(run: FederationRun): Array<Array<string | number>> {
  return CALLERS.flatMap(({ label, kind }) =>
    CLASSES.slice(0, 3).map((cls) => {
      const pairs = select(run, kind, cls.hops);
      const seen = pairs.map((p) => p.firstDiscoveryMs).filter((v): v is number => v !== undefined);
      const calls = pairs.map((p) => p.firstCall).filter((s): s is Sample => s !== undefined);
      return [
        `from ${label}, ${cls.label}`,
        pairs.length,
        `${seen.length}`,
        seen.length === 0 ? '–' : `${ms(percentile(seen, 50))} / ${ms(Math.max(...seen))}`,
        `${calls.filter((s) => s.ok).length} / ${calls.length}`,
      ];
    }),
  );
}

function failures(run: FederationRun): string {
  const lines: string[] = [];
  for (const op of ['discover', 'call'] as const) {
    const byError = new Map<string, number>();
    for (const p of run.pairs)
      for (const s of p[op]) if (!s.ok) byError.set(s.error ?? '?', (byError.get(s.error ?? '?') ?? 0) + 1);
    const what = op === 'discover' ? 'Failed discoveries' : 'Failed calls';
    const took = run.pairs.flatMap((p) => p[op].filter((s) => !s.ok).map((s) => s.ms));
    lines.push(
      byError.size === 0
        ? `- ${what}: none.`
        : `- ${what}, by error: ${[...byError].map(([e, n]) => `\`${e}\` ${n}`).join(', ')}; ` +
            `each took p50 ${ms(percentile(took, 50))} ms, max ${ms(Math.max(...took))} ms.`,
    );
  }
  const failing = run.pairs
    .map((p) => ({ p, failed: p.call.filter((s) => !s.ok).length }))
    .filter((x) => x.failed > 0)
    .sort((a, b) => b.failed - a.failed);
  if (failing.length > 0)
    lines.push(
      `- Pairs with failed calls (${failing.length} of ${run.pairs.length}; caller → service, relays apart, failed of sampled): ` +
        failing
          .map(({ p, failed }) => `${p.caller} → ${p.service} (${p.relayHops}): ${failed}/${p.call.length}`)
          .join('; ') +
        '.',
    );
  lines.push(
    `- Each provider at the end of the run, with its 3 closest nodes by XOR (of every tab, Node peer and relay peer): ${renderPlaces(run.places)}.`,
  );
  if (run.movedRelay.length > 0)
    lines.push(`- No longer on the relay they entered through at the end: ${run.movedRelay.join(', ')}.`);
  return lines.join('\n');
}

/** Whether the mesh is small enough for every node to hold every record (what a cold discovery then measures). */
function coverage(run: FederationRun): string {
  const nodes = run.tabs + run.nodePeers + 3;
  return nodes <= K
    ? `With ${nodes} nodes (the tabs, the Node peers and the 3 relays' peers) and records stored at the k = ${K} closest, ` +
        'every node holds a copy of every record: a cold discovery is answered by a neighbour, whichever relay the provider entered through, ' +
        'so it does not cross the relays; a call to a provider that is not a neighbour does (a routed envelope to the provider itself).'
    : `${nodes} nodes, records stored at the k = ${K} closest: a cold discovery may have to cross the relays.`;
}

export function renderFederationReport(run: FederationRun): string {
  const samples = run.pairs.reduce((n, p) => n + p.discover.length, 0);
  return [
    `Headless Chromium ${run.browserVersion}, loopback. Three relays, each a process of its own started by the CLI with its own DHT peer ` +
      `(\`macula-web relay --join\`, from source through tsx), joined in a chain: B joins A, C joins B. ` +
      `${run.tabs} tabs, ${run.tabs / 3} behind each relay, each in its own browser context; ${run.nodePeers} Node peers (\`macula-web/node\`, ` +
      'processes of their own), one behind A and one behind C. Providers: the first tab behind each relay (`fed.tab.A`, `fed.tab.B`, `fed.tab.C`) and both Node peers (`fed.node.A`, `fed.node.C`). ' +
      `Every peer discovers and calls every service but its own: ${run.pairs.length} (caller, service) pairs, each sampled once per round, ` +
      `a cold discovery (\`discover(id, { forceRefresh: true })\`) then a call (\`call(id, args, { timeoutMs: ${run.deadlines.callAttemptMs}, maxAttempts: 1 })\`), ` +
      `${run.rounds} rounds${run.rounds < run.plannedRounds ? ` (of ${run.plannedRounds} planned: the time budget ran out)` : ''}, ${samples} samples of each, ` +
      `timed inside the caller (the page or the Node process). Each sample has a deadline (discovery ${run.deadlines.discoverMs / 1000} s, call ${run.deadlines.callMs / 1000} s); ` +
      'a failure is counted, never timed. Times in ms, p50/p95 of the successful samples. ' +
      `"Relays apart" is where the caller and the provider entered the mesh, not the path their messages took. ` +
      `Before sampling: the mesh was left to settle (no new connection for 5 s: ${(run.settleMs / 1000).toFixed(1)} s), then each pair warmed up once (below). ` +
      `Sampling took ${(run.samplingMs / 1000).toFixed(0)} s.`,
    '',
    '### Cold discovery',
    '',
    coverage(run),
    '',
    table(
      ['caller and provider entered through', 'pairs', 'succeeded', 'p50', 'p95', 'lookup hops, mean (lookups)'],
      opRows(run, 'discover'),
    ),
    '',
    '### Call round trip',
    '',
    table(
      [
        'caller and provider entered through',
        'pairs',
        'succeeded',
        'p50',
        'p95',
        'provider a neighbour: all',
        '… of the failed',
      ],
      opRows(run, 'call'),
    ),
    '',
    '### Cross-relay against same-relay, in this run',
    '',
    table(['', 'discovery p50', 'discovery p95', 'call p50', 'call p95'], ratioRows(run)),
    '',
    '### Warm-up: each pair once, right after the mesh settled',
    '',
    table(
      [
        'caller and provider entered through',
        'pairs',
        'found the provider (≤ 60 s)',
        'time to first find, ms: p50 / max',
        'first call succeeded',
      ],
      warmUpRows(run),
    ),
    '',
    '### Failures',
    '',
    failures(run),
  ].join('\n');
}
