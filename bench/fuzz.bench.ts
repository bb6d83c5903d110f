/**
 * `npm run bench:fuzz`: 1,000,000 random and mutated frames (src/core/fuzz-frames.ts:
 * random bytes, random MessagePack, schema-valid frames of every type, bit flips,
 * truncations, extensions, length fields that lie, swapped types, fields of the wrong
 * MessagePack type, routed envelopes, genuine and forged records) through the decoder and
 * the receive path of a live node of a 16-node simulated swarm (src/sim/fuzz-harness.ts).
 * Fails when any invariant broke; prints frames/s and writes the "Fuzz" section of
 * BENCHMARKS.md. `npm run bench:fuzz -- 200000` runs fewer frames.
 */
import { runFuzz } from '../src/sim/fuzz-harness.js';
import { table, writeSection } from './report.js';

const FRAMES = Number(process.argv[2] ?? 1_000_000);
const SEED = 4242;

async function main(): Promise<void> {
  const heapBefore = process.memoryUsage().heapUsed;
  let lastReport = performance.now();
  const out = await runFuzz(FRAMES, SEED, (done) => {
    if (performance.now() - lastReport < 10_000) return;
    lastReport = performance.now();
    console.log(`  ${done.toLocaleString('en')} frames`);
  });
  const heapAfter = process.memoryUsage().heapUsed;
  const stats = out.target.stats();
  const perSecond = Math.round(FRAMES / (out.elapsedMs / 1000));
  const records = out.target.records.stats();

  const rows: Array<Array<string | number>> = [
    ['frames', FRAMES.toLocaleString('en')],
    ['frames/s (decoder + live node, incl. the swarm it talks to)', perSecond.toLocaleString('en')],
    ['accepted by the decoder', out.decodedOk.toLocaleString('en')],
    [
      'refused by the decoder',
      `${out.malformed.toLocaleString('en')} (${[...out.errors].map(([e, n]) => `${e} ${n.toLocaleString('en')}`).join(', ')})`,
    ],
    ['by generator', [...out.categories].map(([c, n]) => `${c} ${n.toLocaleString('en')}`).join(', ')],
    ['exceptions escaped', out.violations.filter((v) => v.includes('threw')).length],
    ['invariants broken', out.violations.length],
    ['junk senders disconnected', stats['neighbours.junkDisconnect'] ?? 0],
    [
      'STOREs refused / accepted',
      `${(stats['dht.storeRefused'] ?? 0).toLocaleString('en')} / ${(stats['dht.stored'] ?? 0).toLocaleString('en')}`,
    ],
    [
      'records held at the end (all genuine, all verify)',
      `${out.held} (store: ${records.keys} keys, ${records.entries} entries, ${records.tombstones} tombstones)`,
    ],
    ['frames the node sent its fuzzing neighbours (all decodable)', out.sentToFakesTotal.toLocaleString('en')],
    [
      'peak pending requests / hops awaiting ack (0 / 0 after the input stops)',
      `${out.peakPendingRequests} / ${out.peakPendingHops}`,
    ],
    ['heap growth over the run', `${((heapAfter - heapBefore) / 2 ** 20).toFixed(1)} MiB`],
  ];
  console.log(table(['fuzz', 'value'], rows));
  if (out.violations.length > 0) {
    console.error('Invariants broken:\n' + out.violations.join('\n'));
    process.exitCode = 1;
    return;
  }
  writeSection(
    'Fuzz',
    `npm run bench:fuzz${process.argv[2] ? ` -- ${process.argv[2]}` : ''}`,
    [
      `${FRAMES.toLocaleString('en')} frames (seed ${SEED}) through decodeFrame and, from eight fake neighbours, into the receive path of a live node of a 16-node simulated swarm (flood limits off, so every frame reaches the handlers). No exception escaped and every invariant held: decoder refusals named and counted by the node, \`messages.in\` equal to the frames decoded plus the swarm's own, only genuine verified records held on any node, every frame sent back decodable, routing tables well-formed, pending requests and hops back to 0 once the input stops.`,
      '',
      table(['fuzz', 'value'], rows),
    ].join('\n'),
  );
}

await main();
