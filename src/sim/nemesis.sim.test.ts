import { describe, expect, it } from 'vitest';
import { readvertiseIntervalS } from '../core/constants.js';
import type { DhtNode } from '../core/node/dht-node.js';
import { compareDistance, keyForName } from '../core/id.js';
import { Forger } from './forger.js';
import { turnable } from './turnable-gateway.js';
import { HEALTHY_LINK_MS, holds, Ledger } from './ledger.js';
import { Nemesis, type Episode } from './nemesis.js';
import { Swarm } from './swarm.js';

const MINUTE = 60_000;
const TTL_S = 300;
const SKEW_MS = 10 * MINUTE;

/**
 * The fault schedule, relative to its start: message loss, duplication, delay and
 * reordering, a two-sided partition long enough for liveness checks to declare the
 * other side dead, paused nodes that resume with a backlog, and heavy reordering
 * overlapping both. Every node's clock is off by up to ±10 minutes throughout.
 */
const episodes = (spare: (n: DhtNode) => boolean): Episode[] => [
  {
    name: 'lossy',
    startMs: 0,
    durationMs: 2 * MINUTE,
    fault: { kind: 'links', faults: { drop: 0.05, duplicate: 0.05, delayMs: 100, jitterMs: 300 } },
  },
  { name: 'split', startMs: 2.5 * MINUTE, durationMs: 3 * MINUTE, fault: { kind: 'partition', sides: 2 } },
  {
    name: 'reorder',
    startMs: 5 * MINUTE,
    durationMs: 3 * MINUTE,
    fault: { kind: 'links', faults: { duplicate: 0.02, delayMs: 200, jitterMs: 1_000 } },
  },
  { name: 'freeze', startMs: 6 * MINUTE, durationMs: 1 * MINUTE, fault: { kind: 'pause', fraction: 0.1, spare } },
];

describe('nemeses on a seeded 120-node swarm with clocks skewed by up to ±10 minutes', () => {
  it('after healing every live record is found everywhere within one republish interval; nothing forged or expired is ever served', async () => {
    // Any node may turn out to be the forger (picked below): all are built able to turn.
    const swarm = new Swarm({
      seed: Number(process.env.NEMESIS_SEED ?? 2026),
      clockOffsetMs: (r) => Math.round((2 * r.next() - 1) * SKEW_MS),
      node: { gateway: turnable },
    });
    await swarm.grow(120, 40);
    await swarm.run(30_000);

    // Owners at both extremes of skew, and some in between.
    const bySkew = swarm.alive().sort((a, b) => swarm.clockOf(a).offsetMs - swarm.clockOf(b).offsetMs);
    const owners = [...bySkew.slice(0, 3), ...bySkew.slice(-3), ...bySkew.filter((_, i) => i % 20 === 10)];
    const services = owners.map((_, i) => `nemesis.svc.${i}`);
    const forger = new Forger(bySkew.find((n) => !owners.includes(n) && Math.abs(swarm.clockOf(n).offsetMs) < MINUTE)!);
    const spare = (n: DhtNode): boolean => n === forger.node;
    const nemesis = new Nemesis(swarm, episodes(spare));
    const ledger = new Ledger(swarm, { graceMs: nemesis.maxHoldMs(HEALTHY_LINK_MS) });
    expect(swarm.clockOf(owners[0]!).offsetMs).toBeLessThan(-9 * MINUTE);
    expect(swarm.clockOf(owners[5]!).offsetMs).toBeGreaterThan(9 * MINUTE);

    for (const [i, owner] of owners.entries()) ledger.keepAdvertised(owner, services[i]!, TTL_S, { i });
    await swarm.run(20_000);

    // Throughout the faults and the recovery: a discovery every 3 s from a random running
    // node, the forger at work every minute, and one owner leaving mid-partition.
    nemesis.start();
    const leaver = owners[7]!;
    swarm.queue.setTimer(3.5 * MINUTE, () => swarm.fail(leaver, false));
    const running = (): DhtNode[] => swarm.alive().filter((n) => !swarm.clockOf(n).isPaused && n !== forger.node);
    const pending: Promise<unknown>[] = [];
    const recoverUntil = nemesis.healedAt + readvertiseIntervalS(TTL_S) * 1000;
    let tick = 0;
    while (swarm.now < recoverUntil) {
      const service = services[Math.floor(swarm.random.next() * services.length)]!;
      pending.push(ledger.discover(swarm.pick(running()), service));
      if (tick++ % 20 === 0) pending.push(forger.attack(services[((tick / 20) % services.length) | 0]!));
      await swarm.run(3_000);
    }
    await swarm.settle(Promise.all(pending), 120_000);

    // The nemeses really struck.
    const stats = swarm.network.stats;
    expect(stats.lost).toBeGreaterThan(100);
    expect(stats.duplicated).toBeGreaterThan(100);
    expect(stats.partitioned).toBeGreaterThan(100);
    expect(nemesis.log.find((e) => e.episode === 'freeze' && e.what.startsWith('resumed'))?.what).toMatch(
      /resumed 12 nodes with [1-9]\d* queued/,
    );
    expect(forger.attempts).toBeGreaterThan(100);
    expect(forger.accepted).toBe(0);

    // One republish interval after healing: every live record from every sampled node,
    // the most skewed ones included (they judge the opposite extreme's dates).
    const live = owners.map((o, i) => ({ owner: o, service: services[i]! })).filter(({ owner }) => owner !== leaver);
    const samplers = [
      ...bySkew.slice(0, 3),
      ...bySkew.slice(-3),
      ...Array.from({ length: 14 }, () => swarm.pick(running())),
    ].filter((n) => swarm.network.isAlive(n.selfHex) && n !== forger.node);
    const missing: string[] = [];
    for (const from of samplers) {
      const answers = await swarm.settle(
        Promise.all(live.map(({ service }) => ledger.discover(from, service))),
        60_000,
      );
      for (const [j, providers] of answers.entries()) {
        if (!providers.some((p) => p.nodeId === live[j]!.owner.selfHex))
          missing.push(`${live[j]!.service} from ${from.selfHex.slice(0, 8)}`);
      }
    }
    expect(missing).toEqual([]);

    // The owner that left is no longer served by anyone.
    for (const from of samplers.slice(0, 5)) {
      const providers = await swarm.settle(ledger.discover(from, services[7]!), 60_000);
      expect(providers.map((p) => p.nodeId)).not.toContain(leaver.selfHex);
    }

    // Two owners remove their records in the healed network: the k closest drop them at
    // once. Replicas left outside the k closest (placed while each side of the partition
    // had closest nodes of its own) are not reached by the removal and serve the record
    // until their TTL runs out, which the expiry check below holds them to.
    const removed = [0, 5];
    await swarm.settle(Promise.all(removed.map((i) => ledger.remove(owners[i]!, services[i]!))), 60_000);
    for (const i of removed) {
      const key = keyForName(services[i]!);
      const closest = swarm
        .alive()
        .sort((a, b) => compareDistance(key, a.self, b.self))
        .slice(0, 20);
      expect(closest.filter((n) => holds(n, key, owners[i]!))).toEqual([]);
    }
    // Keep discovering them until every replica's TTL has run out; then nobody holds them.
    const waitUntil = swarm.now + TTL_S * 1000 + ledger.graceMs;
    const late: Promise<unknown>[] = [];
    while (swarm.now < waitUntil) {
      for (const i of removed) late.push(ledger.discover(swarm.pick(running()), services[i]!));
      await swarm.run(5_000);
    }
    await swarm.settle(Promise.all(late), 60_000);
    for (const i of removed) {
      expect(swarm.alive().filter((n) => holds(n, keyForName(services[i]!), owners[i]!))).toEqual([]);
    }

    console.log(
      `nemesis: ${ledger.discoveries} discoveries, ${ledger.recordsServed} records served, latest served ${ledger.maxServedAfterTtlMs} ms after publish + TTL ` +
        `(grace ${ledger.graceMs} ms); ${ledger.servedAfterRemoval} served after their removal; forger ${forger.attempts} attempts, ${forger.accepted} accepted; ` +
        `frames lost ${stats.lost}, duplicated ${stats.duplicated}, cut by the partition ${stats.partitioned}; ${nemesis.log.map((e) => `${e.episode}: ${e.what}`).join('; ')}`,
    );

    expect(ledger.discoveries).toBeGreaterThan(400);
    expect(ledger.recordsServed).toBeGreaterThan(400);
    expect(ledger.violations).toEqual([]);
  });
});
