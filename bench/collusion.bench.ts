/**
 * `npm run bench:collusion` (or `node --import tsx bench/collusion.bench.ts 1000 10000`):
 * lookups in a swarm where a fraction of the nodes collude (src/sim/colluder.ts: they
 * misroute and drop honest envelopes, answer with only colluders and made-up ids, and
 * never store). Prints the figures and writes the "Collusion" section of BENCHMARKS.md.
 * Arguments: node counts (default 1000); `--fractions=0,0.2`; `--fakes=far,plausible,none`
 * (what the coalition's made-up ids look like, collusion-scenario.ts); `--when=built,first-join`
 * (when the coalition turns: the rows that neighbour vetting's first tests decide are the
 * `first-join` ones); `--no-write` to only print.
 */
import {
  colludedSwarm,
  nodeLookups,
  publishServices,
  valueLookups,
  type FakeIds,
  type LookupFigures,
} from '../src/sim/collusion-scenario.js';
import { mean, percentile, table, writeSection } from './report.js';

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

async function scenario(
  n: number,
  fraction: number,
  activeFromStart: boolean,
  fakes: FakeIds,
): Promise<{ rows: Array<Array<string | number>>; notes: string[] }> {
  const started = performance.now();
  const setup = await colludedSwarm({
    nodes: n,
    fraction,
    seed: n + Math.round(fraction * 1000),
    activeFromStart,
    fakes,
  });
  const builtS = (performance.now() - started) / 1000;
  const services = await publishServices(setup, 50);
  const values = await valueLookups(setup, services, 400);
  const nodes = await nodeLookups(setup, 200);
  const wallS = (performance.now() - started) / 1000;
  const when = fraction === 0 ? '' : activeFromStart ? ' from the first join' : ' once the swarm is built';
  const what =
    fraction === 0
      ? ''
      : {
          far: ', made-up ids closer than any node',
          plausible: ', made-up ids at plausible distances',
          none: ', no made-up ids',
        }[fakes];
  const label = `${n} nodes, ${Math.round(fraction * 100)}% colluding${when}${what}`;
  console.log(
    `${label}: built in ${builtS.toFixed(1)} s, total ${wallS.toFixed(1)} s; coalition ${JSON.stringify(setup.coalition.counters)}`,
  );
  const row = (kind: string, f: LookupFigures): Array<string | number> => [
    label,
    kind,
    pct(f.success),
    percentile(f.hops, 50),
    percentile(f.hops, 95),
    f.frames,
    f.messages,
    percentile(f.durationMs, 50) / 1000,
    percentile(f.durationMs, 95) / 1000,
  ];
  return {
    rows: [row('value', values), row('node', nodes)],
    notes: [
      `- ${label}: of the 20 closest honest nodes, holding a record right after publish: mean ${mean(services.honestHolders).toFixed(2)}, min ${Math.min(...services.honestHolders)} (50 records); ids in node-lookup answers that never answered: ${nodes.unproven}; network built in ${builtS.toFixed(1)} s, scenario ${wallS.toFixed(1)} s`,
    ],
  };
}

const args = process.argv.slice(2);
const sizes = args.map(Number).filter((x) => x > 0);
const fakeKinds = (args.find((a) => a.startsWith('--fakes='))?.split('=')[1] ?? 'far,plausible,none').split(
  ',',
) as FakeIds[];
const when = (args.find((a) => a.startsWith('--when='))?.split('=')[1] ?? 'built,first-join').split(',');
const fractions = (args.find((a) => a.startsWith('--fractions='))?.split('=')[1] ?? '0,0.2').split(',').map(Number);
const rows: Array<Array<string | number>> = [];
const notes: string[] = [];
for (const n of sizes.length > 0 ? sizes : [1000]) {
  for (const f of fractions) {
    for (const fake of f === 0 ? (['none'] as const) : fakeKinds) {
      const timings = [false, true].filter((early) => when.includes(early ? 'first-join' : 'built'));
      for (const early of f === 0 ? [false] : timings) {
        const r = await scenario(n, f, early, fake);
        rows.push(...r.rows);
        notes.push(...r.notes);
      }
    }
  }
}
const body = [
  "Colluders (src/sim/colluder.ts) acknowledge hops and then misroute honest lookups towards each other or drop them, drop exact envelopes and replies, answer with no records and with only colluders, and swallow STOREs while answering ok. Three coalitions differ in the ids they make up: 8 per answer sharing 96 leading bits with the target (closer than any real node, so a lookup that trusted them would chase them first; a silent one proves the forgery and gets its referrer convicted), 8 sharing log2(N) + 1 bits (as close as the real closest nodes: no single answer proves them made up), or none (colluders name only each other, the adversary issue #7 names). Either the coalition turns hostile once the swarm is built (it joined honestly), or it is hostile from the first join, while honest nodes are still building their routing tables. Value lookups: 400 per row, from random honest nodes, for 50 services advertised by honest nodes (success = the owner's record came back). Node lookups: 200 per row, random targets, refined as before a STORE (success = the true closest honest node is in the answer).",
  '',
  table(
    [
      'swarm',
      'lookup',
      'success',
      'hops p50',
      'hops p95',
      'frames / lookup',
      'hops travelled / lookup',
      'virtual s p50',
      'virtual s p95',
    ],
    rows,
  ),
  '',
  ...notes,
  '',
].join('\n');
console.log(body);
// The command as run, options included: a section from a partial run must say so.
const asRun = args.filter((a) => a !== '--no-write');
if (!args.includes('--no-write'))
  writeSection('Collusion', `npm run bench:collusion${asRun.length > 0 ? ` -- ${asRun.join(' ')}` : ''}`, body);
