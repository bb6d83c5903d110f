/**
 * `node --import tsx bench/sim-fingerprint.ts [nodes] [seed]`: the seeded counts of one
 * simulated run (frames and bytes by type, events processed, lookup outcomes), printed as
 * JSON. Two commits that print the same fingerprint simulate the same protocol run: an
 * optimisation of the simulator or the core must not change it.
 */
import { keyForName, toHex } from '../src/core/id.js';
import { publishToDht } from '../src/core/registry/dht-registry.js';
import { Swarm } from '../src/sim/swarm.js';

const n = Number(process.argv[2] ?? 300);
const seed = Number(process.argv[3] ?? 300);
const started = performance.now();
const swarm = new Swarm({ seed });
const startedAt = swarm.now;
await swarm.grow(n, Math.max(50, n / 20));
await swarm.run(60_000);
const owner = swarm.pick();
await swarm.settle(publishToDht(owner, 'fingerprint.service', {}, 300));
let found = 0;
const hops: number[] = [];
for (let i = 0; i < 50; i++) {
  const result = await swarm.settle(swarm.pick().findValue(keyForName('fingerprint.service'), 'provider'));
  if (result.records.some((r) => toHex(r.nodeId) === owner.selfHex)) found++;
  hops.push(result.hops);
}
const victims = swarm.alive().filter((x) => x !== owner);
for (let i = 0; i < Math.round(n * 0.3); i++) swarm.fail(victims[i]!, true);
await swarm.run(30_000);
for (let i = 0; i < 50; i++) {
  const result = await swarm.settle(swarm.pick().findValue(keyForName('fingerprint.service'), 'provider'));
  if (result.records.some((r) => toHex(r.nodeId) === owner.selfHex)) found++;
  hops.push(result.hops);
}
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
const heapMb = process.memoryUsage().heapUsed / 2 ** 20;
console.error(
  `wall ${wallS.toFixed(1)} s, cpu ${cpuS.toFixed(1)} s, ${((cpuS * 1e6) / swarm.queue.processed).toFixed(1)} µs cpu/event, ${(swarm.queue.processed / n / virtualS).toFixed(2)} events/node/virtual s, heap ${heapMb.toFixed(0)} MB (${((heapMb * 1024) / n).toFixed(0)} KB per node)`,
);
