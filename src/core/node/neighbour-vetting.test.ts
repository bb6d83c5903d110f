import { describe, expect, it } from 'vitest';
import { Coalition, colluderFactory } from '../../sim/colluder.js';
import { EventQueue } from '../../sim/event-queue.js';
import { Swarm } from '../../sim/swarm.js';
import { DhtNode } from './dht-node.js';
import { seededRandom } from '../environment.js';
import { fromHex, toHex } from '../id.js';
import { createIdentity } from '../identity.js';

/**
 * Neighbour vetting end to end on a virtual clock: colluders that acknowledge hops and
 * drop them lose their channels to honest nodes and are refused, honest neighbours keep
 * theirs, and a node whose neighbours answer nothing at all (it is the one cut off)
 * judges nobody.
 */

async function colludedSwarm(
  seed: number,
  active: boolean,
): Promise<{ swarm: Swarm; coalition: Coalition; honest: DhtNode[] }> {
  const coalition = new Coalition({ active, fakeIdsPerAnswer: 0 });
  let created = 0;
  // Every fifth node colludes: 10 of 50.
  const swarm = new Swarm({ seed, create: colluderFactory(coalition, () => created++ % 5 === 2) });
  await swarm.grow(50, 10);
  return { swarm, coalition, honest: swarm.alive().filter((n) => !coalition.has(n.selfHex)) };
}

/** Channels from honest nodes to colluders, open for at least `minAgeMs`. */
const colluderChannels = (honest: DhtNode[], coalition: Coalition, now: number, minAgeMs = 0): number =>
  honest.reduce(
    (sum, h) =>
      sum + [...h.neighbours.values()].filter((n) => coalition.has(n.idHex) && now - n.openedAt >= minAgeMs).length,
    0,
  );

/** Pairs (honest node, node it distrusts), split by whether the distrusted one colludes. */
function distrust(swarm: Swarm, honest: DhtNode[], coalition: Coalition): { colluders: number; honest: number } {
  const out = { colluders: 0, honest: 0 };
  for (const h of honest) {
    for (const other of swarm.alive()) {
      if (h.vetting.trust.isDistrusted(other.selfHex, swarm.now))
        out[coalition.has(other.selfHex) ? 'colluders' : 'honest']++;
    }
  }
  return out;
}

describe('neighbour vetting', () => {
  it('colluders hostile from the first join lose every channel to honest nodes, are refused and leave their tables; no honest node is distrusted', async () => {
    const { swarm, coalition, honest } = await colludedSwarm(41, true);
    await swarm.run(120_000);
    // Colluders keep dialling honest nodes they have not met yet; none keeps a channel past its tests.
    expect(colluderChannels(honest, coalition, swarm.now, 60_000)).toBe(0);
    const d = distrust(swarm, honest, coalition);
    expect(d.honest).toBe(0);
    expect(d.colluders).toBeGreaterThan(0);
    for (const h of honest) {
      for (const c of coalition.members)
        if (h.vetting.trust.isDistrusted(c, swarm.now)) expect(h.table.has(fromHex(c))).toBe(false);
    }
    const refused = honest.reduce((sum, h) => sum + (h.stats()['neighbours.refusedUnreliable'] ?? 0), 0);
    expect(refused).toBeGreaterThan(0);
    // Honest nodes still hold channels among themselves.
    for (const h of honest) expect(h.neighbours.size).toBeGreaterThan(0);
  }, 60_000);

  it('colluders that turn after they were found reliable are tested again and lose their channels', async () => {
    const { swarm, coalition, honest } = await colludedSwarm(43, false);
    await swarm.run(30_000);
    const before = colluderChannels(honest, coalition, swarm.now);
    expect(before).toBeGreaterThan(0);
    coalition.active = true;
    // Ordinary traffic meanwhile: a lookup for a random target from every honest node each minute.
    for (let minute = 0; minute < 30; minute++) {
      await swarm.settle(Promise.all(honest.map((h) => h.findNode(swarm.random.bytes(32)))), 300_000);
      await swarm.run(60_000);
    }
    expect(colluderChannels(honest, coalition, swarm.now, 60_000)).toBeLessThan(before / 10);
    expect(distrust(swarm, honest, coalition).honest).toBe(0);
  }, 180_000);

  it('a node whose neighbours answer nothing (it is the one cut off) distrusts none of them', async () => {
    const clock = new EventQueue();
    const random = seededRandom(5);
    const disconnected: string[] = [];
    const node = new DhtNode({
      identity: createIdentity(random.bytes),
      clock,
      random,
      transport: { send: () => true, connect: () => undefined, disconnect: (p) => disconnected.push(p) },
    });
    const peers = Array.from({ length: 6 }, () => toHex(random.bytes(32)));
    for (const p of peers) node.onChannelOpen(p);
    for (let t = 0; t < 300; t++) {
      await clock.runFor(1_000);
      node.tick();
    }
    expect(node.stats()['trust.tests'] ?? 0).toBeGreaterThan(0);
    expect(node.stats()['neighbours.droppedUnreliable'] ?? 0).toBe(0);
    for (const p of peers) expect(node.vetting.trust.isDistrusted(p, clock.now())).toBe(false);
  });
});
