/**
 * `node --import tsx bench/frame-causes.ts [nodes] [seed]`: the fingerprint scenario
 * (sim-scenario.ts, the same steps) with every frame on the simulated network put down to
 * the work that caused it: neighbour vetting, joins, bucket refresh, liveness, quiet
 * contacts, the sibling exchange, the neighbour set (its dials negotiate over the overlay),
 * replication, the scenario's own publish and lookups. Printed per phase, by frame type.
 *
 * How a frame gets its cause: each part's periodic work and each join runs inside an
 * AsyncLocalStorage context naming it, and every simulated event (a frame in flight, a
 * timer) runs in the context that was current when it was scheduled. So a reply, a
 * forwarded hop or an acknowledgement carries the cause of the request that set it off,
 * and promise continuations keep theirs as Node keeps them. Measurement only: the wrapping
 * costs CPU, the seeded run itself is unchanged.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { keyForName, toHex } from '../src/core/id.js';
import { publishToDht } from '../src/core/registry/dht-registry.js';
import { Maintenance } from '../src/core/node/maintenance.js';
import { NeighbourVetting } from '../src/core/node/neighbour-vetting.js';
import { EventQueue, type Due } from '../src/sim/event-queue.js';
import { SimNetwork } from '../src/sim/network.js';
import { Swarm } from '../src/sim/swarm.js';
import { frameTypeId } from '../src/core/wire/codec.js';
import { messageNames } from '../src/core/wire/messages.js';
import { HeldFrame } from '../src/core/held-frame.js';
import type { Frame } from '../src/core/held-frame.js';

const cause = new AsyncLocalStorage<string>();

// Every event runs in the context it was scheduled in.
const queueProto = EventQueue.prototype as unknown as { scheduleAt(event: Due, at: number): void };
const scheduleAt = queueProto.scheduleAt;
queueProto.scheduleAt = function (this: EventQueue, event: Due, at: number): void {
  const ctx = cause.getStore();
  const fn = event.fn;
  event.fn = () => cause.run(ctx as string, () => fn.call(event));
  scheduleAt.call(this, event, at);
};

// Each part's periodic work under its own name, in Maintenance.tick's order.
type MaintenanceParts = {
  host: {
    liveness: { tick(n: number): void };
    quietContacts: { tick(n: number): void };
    vetting: { tick(n: number): void };
    siblingExchange: { tick(n: number): void };
    neighbourSet: { tick(n: number): void };
    replication: { tick(n: number): void };
    records: { pruneExpired(n: number): number };
    table: { staleBuckets(n: number, ms: number): Iterable<number> };
    count(name: string, by?: number): void;
    refreshBucket(b: number): Promise<unknown>;
  };
  lastTickAt: number;
  bucketRefreshMs: number;
};
Maintenance.prototype.tick = function (this: Maintenance, now: number): void {
  const self = this as unknown as MaintenanceParts;
  const { host } = self;
  self.lastTickAt = now;
  cause.run('liveness', () => host.liveness.tick(now));
  cause.run('quiet contacts', () => host.quietContacts.tick(now));
  cause.run('vetting', () => host.vetting.tick(now));
  cause.run('sibling exchange', () => host.siblingExchange.tick(now));
  cause.run('neighbour set', () => host.neighbourSet.tick(now));
  const pruned = host.records.pruneExpired(now);
  if (pruned > 0) host.count('records.expired', pruned);
  cause.run('bucket refresh', () => {
    for (const b of host.table.staleBuckets(now, self.bucketRefreshMs)) void host.refreshBucket(b);
  });
  cause.run('replication', () => host.replication.tick(now));
};
const join = Maintenance.prototype.join;
Maintenance.prototype.join = function (this: Maintenance): Promise<void> {
  return cause.run('join', () => join.call(this));
};

// Each test by why it ran: a first one (the node unsettled or settled), or again (after a loss, or the periodic retest of a reliable one).
const testKinds = new Map<string, number>();
type VettingInside = {
  host: {
    neighbours: { get(p: string): { openedAt: number; testedAt?: number } | undefined };
    clock: { now(): number };
  };
  trust: { verdict(p: string): string };
  test(peer: string): void;
};
const vettingProto = NeighbourVetting.prototype as unknown as VettingInside;
const test = vettingProto.test;
vettingProto.test = function (this: VettingInside, peer: string): void {
  const neighbour = this.host.neighbours.get(peer);
  const age = this.host.clock.now() - (neighbour?.openedAt ?? 0);
  const kind =
    neighbour?.testedAt === undefined
      ? `first, ${age < 25_000 ? 'unsettled' : 'settled'}, ${this.trust.verdict(peer)}`
      : `again, ${this.trust.verdict(peer)}`;
  testKinds.set(`${phase}: ${kind}`, (testKinds.get(`${phase}: ${kind}`) ?? 0) + 1);
  test.call(this, peer);
};

// The tally: phase -> cause -> frame type (an envelope by what it carries) -> frames.
let phase = 'build';
const tally = new Map<string, Map<string, Map<string, number>>>();
const netProto = SimNetwork.prototype as unknown as { send(from: string, to: string, frame: Frame): boolean };
const send = netProto.send;
netProto.send = function (this: SimNetwork, from: string, to: string, frame: Frame): boolean {
  const before = this.stats.frames;
  const sent = send.call(this, from, to, frame);
  if (this.stats.frames === before) return sent;
  let type = messageNames.get(frameTypeId(frame)) ?? 'unknown';
  if (type === 'RPC_ROUTE' && frame instanceof HeldFrame) {
    const inner = (frame.body as { body?: Frame }).body;
    type = `RPC_ROUTE(${inner === undefined ? '?' : (messageNames.get(frameTypeId(inner)) ?? '?')})`;
  }
  const c = cause.getStore() ?? 'other';
  const byCause = tally.get(phase) ?? new Map<string, Map<string, number>>();
  tally.set(phase, byCause);
  const byType = byCause.get(c) ?? new Map<string, number>();
  byCause.set(c, byType);
  byType.set(type, (byType.get(type) ?? 0) + 1);
  return sent;
};

const n = Number(process.argv[2] ?? 300);
const seed = Number(process.argv[3] ?? 300);
const swarm = new Swarm({ seed });
const startedAt = swarm.now;
const marks: Array<[string, number]> = [];
const mark = (next: string): void => {
  marks.push([phase, swarm.now]);
  phase = next;
};
await swarm.grow(n, Math.max(50, n / 20));
mark('first minute');
await swarm.run(60_000);
mark('publish, 50 lookups');
const owner = swarm.pick();
await cause.run('publish', () => swarm.settle(publishToDht(owner, 'fingerprint.service', {}, 300)));
let found = 0;
const lookups = async (): Promise<void> => {
  for (let i = 0; i < 50; i++) {
    const result = await cause.run('value lookups', () =>
      swarm.settle(swarm.pick().findValue(keyForName('fingerprint.service'), 'provider')),
    );
    if (result.records.some((r) => toHex(r.nodeId) === owner.selfHex)) found++;
  }
};
await lookups();
mark('30% failed, 30 s');
const victims = swarm.alive().filter((x) => x !== owner);
for (let i = 0; i < Math.round(n * 0.3); i++) swarm.fail(victims[i]!, true);
await swarm.run(30_000);
mark('50 lookups');
await lookups();
mark('end');

let previous = startedAt;
const total = new Map<string, Map<string, number>>();
for (const [name, until] of marks) {
  const byCause = tally.get(name) ?? new Map<string, Map<string, number>>();
  const seconds = (until - previous) / 1000;
  previous = until;
  const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
  const all = [...byCause.values()].reduce((a, m) => a + sum(m), 0);
  console.log(
    `\n## ${name}: ${seconds.toFixed(1)} virtual s, ${all} frames (${(all / n / seconds).toFixed(2)} / node / s)`,
  );
  for (const [c, byType] of [...byCause].sort((a, b) => sum(b[1]) - sum(a[1]))) {
    const types = [...byType].sort((a, b) => b[1] - a[1]).map(([t, k]) => `${t} ${k}`);
    console.log(
      `- ${c}: ${sum(byType)} (${((100 * sum(byType)) / all).toFixed(1)}%, ${(sum(byType) / n / seconds).toFixed(2)} / node / s): ${types.join(', ')}`,
    );
    const into = total.get(c) ?? new Map<string, number>();
    total.set(c, into);
    for (const [t, k] of byType) into.set(t, (into.get(t) ?? 0) + k);
  }
}
const counters = new Map<string, number>();
for (const node of swarm.nodes.values())
  for (const [k, v] of Object.entries(node.stats()))
    if (k.startsWith('trust.') || k.startsWith('lookups.') || k.startsWith('neighbours.'))
      counters.set(k, (counters.get(k) ?? 0) + v);
console.log(`\nfound ${found} / 100; events ${swarm.queue.processed}, frames ${swarm.network.stats.frames}`);
console.log(`counters: ${JSON.stringify(Object.fromEntries([...counters].sort()))}`);
console.log(`tests by kind: ${JSON.stringify(Object.fromEntries([...testKinds].sort()))}`);
