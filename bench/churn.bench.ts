/**
 * `npm run bench:churn`: continuous churn on the simulated network (issue #7). Weibull
 * sessions (shape 0.5, median 10 virtual minutes), Poisson arrivals keeping N steady, a
 * tenth of the nodes advertising a service of their own (TTL 300 s). Two windows on the
 * same swarm: first without lookups (what is on the wire is the cost of churn: joins,
 * liveness, refreshes, re-advertisement, replication), then with lookups (success, and
 * whether a departed provider's record is served too long).
 * Arguments: node count (default 10000) and optionally both window lengths in virtual
 * minutes, e.g. `npm run bench:churn -- 1000 15`.
 */
import { Churn, type TrafficFigures } from '../src/sim/churn.js';
import { Swarm } from '../src/sim/swarm.js';
import { Weibull } from '../src/sim/weibull.js';
import { table, writeSection } from './report.js';

const MINUTE = 60_000;
const TTL_S = 300;
const args = process.argv
  .slice(2)
  .map(Number)
  .filter((x) => x > 0);
const n = args[0] ?? 10_000;
// One virtual minute of churn costs about 7 s of wall clock per 1,000 nodes on this machine,
// so at 10,000 nodes the windows are shortened to keep the run near 20 minutes.
const large = n >= 5_000;
const windowMin = args[1] ?? (large ? 4 : 15);
const settleMin = large ? 1 : 2;
const lookupsPerSecond = Math.max(3, n / 1_500);

const started = performance.now();
const wall = (): string => `${((performance.now() - started) / 1000).toFixed(0)} s`;
const swarm = new Swarm({ seed: n + 7 });
await swarm.grow(n, Math.max(100, n / 20));
await swarm.run(60_000);
const builtS = (performance.now() - started) / 1000;
console.log(`n=${n}: built in ${builtS.toFixed(0)} s`);

const session = new Weibull(0.5, 10 * MINUTE);
const churn = new Churn(swarm, {
  nodes: n,
  session,
  providerShare: 0.1,
  ttlS: TTL_S,
  lookupsPerSecond,
  departedLookupShare: 0.1,
});
churn.lookupsOn = false;
churn.start();
const progress =
  (phase: string) =>
  (ms: number): void => {
    if (ms % (2 * MINUTE) < 30_000)
      console.log(`  ${phase}: ${(ms / MINUTE).toFixed(1)} virtual min, ${churn.liveNodes} live, wall ${wall()}`);
  };
// A first stretch lets the newcomers' share of the swarm and the replication pattern settle.
await churn.run(settleMin * MINUTE, 30_000);
const maintenance = await churn.run(windowMin * MINUTE, 30_000, progress('maintenance'));
churn.lookupsOn = true;
const withLookups = await churn.run(windowMin * MINUTE, 30_000, progress('lookups'));
await churn.finish();
const f = churn.figures;
const wallS = (performance.now() - started) / 1000;

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
const s = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'never');
const trafficRow = (label: string, t: TrafficFigures): Array<string | number> => [
  label,
  `${t.seconds / 60} min`,
  t.meanLiveNodes,
  t.bytesPerNodePerS,
  t.framesPerNodePerS,
  t.connectionsPerNodePerHour,
];
const topTypes = (t: TrafficFigures): string =>
  t.bytesByType
    .slice(0, 6)
    .map(([type, b]) => `${type} ${b.toFixed(1)}`)
    .join(', ');
const body = [
  `### ${n} nodes, Weibull sessions (shape 0.5, median 10 virtual minutes, mean ${(session.meanMs / MINUTE).toFixed(1)}), Poisson arrivals`,
  '',
  table(
    ['figure', 'value', 'target'],
    [
      ['lookup success (live provider found)', `${pct(f.found / f.lookups)} (${f.found} / ${f.lookups})`, '≥ 99.5%'],
      [
        'latest a lookup was served a record after its owner left',
        s(f.maxServedAfterLeaveMs),
        `never more than the TTL (${TTL_S} s)`,
      ],
      [
        'latest any store held a live record after its owner left (sweeps)',
        s(f.maxHeldAfterLeaveMs),
        `never more than the TTL (${TTL_S} s)`,
      ],
      [
        'latest any store held a record past its publish + TTL (sweeps)',
        `${(f.maxHeldPastTtlMs / 1000).toFixed(2)} s`,
        '≤ 0',
      ],
      ['forged or expired records served / held', `${churn.ledger.violations.length} / ${f.heldForged}`, '0'],
      [
        'maintenance traffic (no lookups running)',
        `${maintenance.bytesPerNodePerS.toFixed(1)} bytes / node / s`,
        '≤ 500',
      ],
      [
        'connections opened per node per hour (no lookups running)',
        maintenance.connectionsPerNodePerHour.toFixed(1),
        '',
      ],
    ],
  ),
  '',
  table(
    [
      'window',
      'length',
      'mean live nodes',
      'bytes / node / s',
      'frames / node / s',
      'connections opened / node / hour',
    ],
    [
      trafficRow('churn only', maintenance),
      trafficRow(`churn + ${lookupsPerSecond.toFixed(1)} lookups / s`, withLookups),
    ],
  ),
  '',
  `- Swarm: ${n} nodes built and settled (${builtS.toFixed(0)} s of wall clock), then ${settleMin} virtual minute${settleMin > 1 ? 's' : ''} of churn to settle, then the two windows of ${windowMin} virtual minutes each${large ? ' (shortened at this size to keep the run near 20 minutes of wall clock)' : ''}. Nodes present at the start live out a residual session (length-biased), so the swarm is in its steady state from the start; live nodes ranged ${f.liveMin}–${f.liveMax}.`,
  `- Churn over all windows: ${f.joins} joins, ${f.departures} departures (clean leaves: the tab closes and peers see the channels close). Each newcomer gets 3 channels from the relay, then bootstraps; a tenth of all nodes advertise a service (TTL ${TTL_S} s, re-advertised every 240 s).`,
  `- Lookups: Poisson, ${lookupsPerSecond.toFixed(1)} per second from random live nodes; 90% for a random live provider whose first publish had settled (${f.lookups} counted, ${f.abandoned} not counted because the origin or the provider left mid-lookup), 10% for a provider that left within the last 600 s (${f.departedLookups}). Failures: ${f.failures.length}.`,
  `- Every 30 s a sweep reads every live node's store: ${f.sweeps} sweeps.`,
  `- Bytes count every frame on the wire. Largest by type (bytes / node / s), churn only: ${topTypes(maintenance)}; with lookups: ${topTypes(withLookups)}.`,
  `- Wall clock: ${wallS.toFixed(0)} s in all.`,
].join('\n');
console.log(body);
writeSection(
  'Churn (Weibull)',
  `npm run bench:churn${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  body,
);
