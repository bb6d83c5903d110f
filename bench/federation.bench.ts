/**
 * `npm run bench:federation` (or `node --import tsx bench/federation.bench.ts 1000 10000`):
 * a swarm whose newcomers enter through 10 relays, each a DHT peer of its own, the relays
 * joined in a chain (src/sim/entry-relays.ts). Value lookups for services whose provider
 * entered through another relay, and the share of lookup paths that cross a relay's peer
 * against as many random ordinary nodes (src/sim/federation-scenario.ts). Connections are
 * negotiated as in the browser: through a relay that admitted both ends, else through the
 * overlay (src/sim/overlay-signalling.ts). Prints the figures and writes the "Federation"
 * section of BENCHMARKS.md; `--no-write` only prints. Progress (with CPU time so far) goes
 * to stderr, so a run cut short still tells how far it got and what it cost per node.
 */
import { runFederation, type FederationFigures } from '../src/sim/federation-scenario.js';
import { MAX_NEIGHBOURS } from '../src/core/constants.js';
import { percentile, table, writeSection } from './report.js';

const RELAYS = 10;
const LOOKUPS = 1_000;
const PINGS = 500;
const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

const args = process.argv.slice(2);
const sizes = args.filter((a) => /^\d+$/.test(a)).map(Number);
const runs: FederationFigures[] = [];
const wall: number[] = [];
for (const nodes of sizes.length > 0 ? sizes : [10_000]) {
  const started = performance.now();
  const f = await runFederation({
    nodes,
    relays: RELAYS,
    services: 50,
    lookups: LOOKUPS,
    pings: PINGS,
    seed: nodes + 18,
    progress: (line) =>
      console.error(`[${nodes} nodes, ${((performance.now() - started) / 1000).toFixed(0)} s] ${line}`),
  });
  wall.push((performance.now() - started) / 1000);
  runs.push(f);
  console.log(JSON.stringify({ ...f, hops: undefined, wallSeconds: wall.at(-1) }));
  // Each row is written as it completes: a long run cut short keeps the rows it finished.
  report(runs.length === sizes.length || sizes.length === 0);
}

function report(last: boolean): void {
  const body = [
    `${RELAYS} relays, each a DHT peer of its own, relay i joined to relay i − 1; every newcomer enters through one relay drawn at random and is introduced only to nodes admitted there (the relay's peer among them). Connections are negotiated as in the browser: offer and answer through a relay only when it admitted both ends, otherwise through the overlay as routed signals, the offer going by the node that introduced its target when a lookup taught it, the answer retracing the offer's path (src/sim/overlay-signalling.ts). ${LOOKUPS} value lookups per row, for 50 services, each from a node that entered through another relay than the provider (when the draw allowed: column "across"). ${PINGS} routed PINGs per row (as a CALL is routed: to the node itself) between random nodes that entered through different relays. A path passes through a node when that node forwarded or answered it; the control group is ${RELAYS} ordinary nodes drawn at random.`,
    '',
    table(
      [
        'nodes',
        'lookups found',
        'across relays',
        'hops p50 / p95',
        'routed pings across relays reached',
        'paths',
        'through a relay peer',
        'through the control group',
        'busiest relay peer',
        'busiest other node',
        'channels: relay peers mean / max',
        'others mean / max',
        `busiest relay peer ÷ busiest other (bound: ${MAX_NEIGHBOURS} ÷ others' mean)`,
        'negotiated via a relay / via the overlay (unanswered)',
        'offers by introducer',
        'channels to own 8 closest: fewest / mean',
      ],
      runs.map((f) => [
        f.nodes,
        `${f.found}/${f.lookups} (${pct(f.found / f.lookups)})`,
        f.acrossRelays,
        `${percentile(f.hops, 50)} / ${percentile(f.hops, 95)}`,
        `${f.pings.reached}/${f.pings.tried}`,
        f.paths,
        pct(f.entryShare),
        pct(f.controlShare),
        pct(f.busiestEntry),
        pct(f.busiestOther),
        `${f.entryChannels.mean.toFixed(1)} / ${f.entryChannels.max}`,
        `${f.otherChannels.mean.toFixed(1)} / ${f.otherChannels.max}`,
        `${(f.busiestEntry / f.busiestOther).toFixed(2)} (${(MAX_NEIGHBOURS / f.otherChannels.mean).toFixed(2)})`,
        `${f.negotiations.viaRelay} / ${f.negotiations.viaOverlay} (${f.negotiations.timedOut})`,
        f.introduced,
        `${f.nearLinks.fewest} / ${f.nearLinks.mean.toFixed(2)}`,
      ]),
    ),
    '',
    `- What bounds a relay's share: its peer is an ordinary node. Every newcomer at its relay may be introduced to it, so it fills its neighbour set to the 64-channel cap (a surplus is trimmed at the next tick) while ordinary nodes keep what the neighbour-set rule asks for; lookups route by XOR distance, so a node's share of paths follows its channels, and the cap holds a relay's peer to at most 64 / (the mean channels) times an ordinary node's share, however many tabs enter through it. ${runs.every((f) => f.busiestEntry <= f.busiestOther * (MAX_NEIGHBOURS / f.otherChannels.mean)) ? 'In every row the busiest relay peer stays within that bound of the busiest ordinary node.' : 'A row where the busiest relay peer exceeds that bound of the busiest ordinary node is a finding to look into.'}`,
    ...(last ? [] : [`- Rows still to come in this run: ${sizes.slice(runs.length).join(', ')} nodes.`]),
    `- Cost per row: ${runs.map((f) => `${f.nodes} nodes ${f.cpuSeconds.toFixed(0)} s CPU for ${(f.events / 1e6).toFixed(1)} M events (${((f.cpuSeconds / f.events) * 1e6).toFixed(0)} µs per event, ${((f.cpuSeconds / f.nodes) * 1000).toFixed(0)} ms per node)`).join('; ')}. Wall clock (shared 2-core machine): ${wall.map((s, i) => `${runs[i]!.nodes} nodes ${s.toFixed(0)} s (network built in ${runs[i]!.buildSeconds.toFixed(0)} s)`).join('; ')}.`,
  ].join('\n');
  if (last) console.log(body);
  const asRun = args.filter((a) => a !== '--no-write');
  if (!args.includes('--no-write'))
    writeSection('Federation', `npm run bench:federation${asRun.length > 0 ? ` -- ${asRun.join(' ')}` : ''}`, body);
}
