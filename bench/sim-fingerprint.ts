/**
 * `node --import tsx bench/sim-fingerprint.ts [nodes] [seed]`: the seeded counts of one
 * simulated run (frames and bytes by type, events processed, lookup outcomes), printed as
 * JSON. Two commits that print the same fingerprint simulate the same protocol run: an
 * optimisation of the simulator or the core must not change it.
 */
import { fingerprintScenario } from './sim-scenario.js';

const n = Number(process.argv[2] ?? 300);
const seed = Number(process.argv[3] ?? 300);
const started = performance.now();
const { swarm, startedAt, found, hops } = await fingerprintScenario(n, seed);
const s = swarm.network.stats;
const sorted = (m: Map<string, number>): Record<string, number> => Object.fromEntries([...m].sort());
const fingerprint = {
  nodes: n,
  seed,
  now: swarm.now,
  events: swarm.queue.processed,
  frames: s.frames,
  bytes: s.bytes,
  lost: s.lost,
  toDead: s.toDead,
  closedInFlight: s.closedInFlight,
  connectionsCreated: s.connectionsCreated,
  found,
  hops: hops.join(''),
  framesByType: sorted(s.framesByType),
  bytesByType: sorted(s.bytesByType),
};
console.log(JSON.stringify(fingerprint, null, 1));
const wallS = (performance.now() - started) / 1000;
// Per node and virtual second, over the run's n nodes and whole virtual time (the first join at 0).
const virtualS = (swarm.now - startedAt) / 1000;
const cpuS = process.cpuUsage().user / 1e6;
// With --expose-gc, what stays alive (the swarm) rather than what garbage happens to wait.
(globalThis as { gc?: () => void }).gc?.();
const memory = process.memoryUsage();
const heapMb = memory.heapUsed / 2 ** 20;
console.error(
  `wall ${wallS.toFixed(1)} s, cpu ${cpuS.toFixed(1)} s, ${((cpuS * 1e6) / swarm.queue.processed).toFixed(1)} µs cpu/event, ${(swarm.queue.processed / n / virtualS).toFixed(2)} events/node/virtual s, heap ${heapMb.toFixed(0)} MB (${((heapMb * 1024) / n).toFixed(0)} KB per node), rss ${(memory.rss / 2 ** 20).toFixed(0)} MB`,
);
