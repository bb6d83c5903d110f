import { describe, expect, it } from 'vitest';
import { publishToDht, queryDhtForService, removeFromDht } from '../core/registry/dht-registry.js';
import { compareDistance, keyForName, toHex, type NodeId } from '../core/id.js';
import { Swarm } from './swarm.js';

/** The k ids truly closest to `target` among the live nodes: the ground truth lookups are held to. */
function trueClosest(swarm: Swarm, target: NodeId, k: number): string[] {
  return swarm
    .alive()
    .map((n) => n.self)
    .sort((a, b) => compareDistance(target, a, b))
    .slice(0, k)
    .map(toHex);
}

describe('a seeded 200-node swarm running the real core', () => {
  it('converges: lookups find the true closest nodes, records are found, removed and expire', async () => {
    const swarm = new Swarm({ seed: 42 });
    await swarm.grow(200, 40);
    await swarm.run(30_000);

    const nodes = swarm.alive();
    expect(nodes).toHaveLength(200);
    for (const n of nodes) expect(n.neighbours.size).toBeGreaterThanOrEqual(8);

    // Early lookups still teach nodes contacts that improve their neighbour sets; after a
    // warm-up the sets are built and lookups must not open any connection.
    for (let i = 0; i < 40; i++) await swarm.settle(swarm.pick().findNode(swarm.random.bytes(32)));
    await swarm.run(10_000);

    // FIND_NODE for random targets: the answer holds the true closest node, and most of the true k.
    let exactFirst = 0;
    let overlap = 0;
    const lookups = 40;
    for (let i = 0; i < lookups; i++) {
      const target = swarm.random.bytes(32);
      const result = await swarm.settle(swarm.pick().findNode(target));
      const truth = trueClosest(swarm, target, 20);
      if (result.closest[0] === truth[0]) exactFirst++;
      overlap += result.closest.filter((id) => truth.includes(id)).length;
      expect(result.answered).toBeGreaterThan(0);
      expect(result.connectionsOpened).toBe(0);
    }
    expect(exactFirst).toBe(lookups);
    expect(overlap / lookups).toBeGreaterThanOrEqual(18);

    // Publish from 10 nodes, discover each from another node.
    const names = Array.from({ length: 10 }, (_, i) => `svc.${i}.get`);
    const owners = names.map(() => swarm.pick());
    for (const [i, name] of names.entries()) {
      const outcome = await swarm.settle(publishToDht(owners[i]!, name, { metadata: { i } }, 300));
      expect(outcome.stored).toBeGreaterThanOrEqual(19);
      const holders = swarm
        .alive()
        .filter((n) => n.records.get(keyForName(name), 'provider', swarm.now).length > 0)
        .map((n) => n.selfHex);
      const truth = trueClosest(swarm, keyForName(name), 20);
      expect(truth.filter((id) => holders.includes(id)).length).toBeGreaterThanOrEqual(19);
    }
    for (const [i, name] of names.entries()) {
      const found = await swarm.settle(queryDhtForService(swarm.pick(), name));
      expect(found.map((p) => p.nodeId)).toEqual([owners[i]!.selfHex]);
      expect(found[0]!.metadata).toEqual({ i });
    }

    // Only the owner removes; afterwards nobody serves the record.
    await swarm.settle(removeFromDht(owners[0]!, names[0]!));
    expect(await swarm.settle(queryDhtForService(swarm.pick(), names[0]!))).toEqual([]);

    // A short-lived record expires everywhere.
    await swarm.settle(publishToDht(owners[1]!, 'short.lived', {}, 20));
    expect((await swarm.settle(queryDhtForService(swarm.pick(), 'short.lived'))).length).toBe(1);
    await swarm.run(21_000);
    expect(await swarm.settle(queryDhtForService(swarm.pick(), 'short.lived'))).toEqual([]);
  });

  it('survives 30% silent failures: records are still found before any republish', async () => {
    const swarm = new Swarm({ seed: 7 });
    await swarm.grow(200, 40);
    await swarm.run(20_000);
    const names = Array.from({ length: 10 }, (_, i) => `fail.${i}`);
    const owners = names.map(() => swarm.pick());
    for (const [i, name] of names.entries()) await swarm.settle(publishToDht(owners[i]!, name, {}, 300));
    const survivors = new Set(owners.map((o) => o.selfHex));
    const victims = swarm
      .alive()
      .filter((n) => !survivors.has(n.selfHex))
      .slice(0, 60);
    for (const v of victims) swarm.fail(v, true);

    let found = 0;
    for (const [i, name] of names.entries()) {
      for (let j = 0; j < 4; j++) {
        const result = await swarm.settle(queryDhtForService(swarm.pick(), name), 120_000);
        if (result.some((p) => p.nodeId === owners[i]!.selfHex)) found++;
      }
    }
    expect(found / (names.length * 4)).toBeGreaterThanOrEqual(0.95);
  });
});
