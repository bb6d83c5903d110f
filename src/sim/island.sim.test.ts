import { describe, expect, it } from 'vitest';
import { SIBLING_NEIGHBOURS } from '../core/constants.js';
import { compareDistance } from '../core/id.js';
import type { DhtNode } from '../core/node/dht-node.js';
import { Swarm } from './swarm.js';

/**
 * Three honest nodes that know only each other: what a join can leave behind when every
 * other node it met was a colluder and has been dropped. They prove each other reliable
 * (each forwards to the third), so none is surrounded, and none has an empty neighbour
 * list: only their self-lookups can tell them they are on an island.
 */
describe('an island of honest nodes that know only each other (a seeded 60-node swarm beside it)', () => {
  it("asks the relay for introductions, joins the swarm, and is found by the swarm's lookups", async () => {
    const swarm = new Swarm({ seed: 4242 });
    await swarm.grow(60, 30);
    await swarm.run(60_000);
    const mainland = swarm.alive();

    const island = [swarm.addNode(), swarm.addNode(), swarm.addNode()];
    await swarm.joinAll(island, island);
    await swarm.run(30_000);
    for (const node of island) {
      // Cut off: they know each other and nobody else, and their channels carry requests.
      expect(node.table.size).toBe(2);
      expect([...node.neighbours.keys()].every((peer) => node.vetting.trust.verdict(peer) === 'reliable')).toBe(true);
      expect(node.needsIntroductions()).toBe(false);
    }

    await swarm.run(5 * 60_000);
    for (const node of island) {
      expect(node.counters.get('introductions.island')).toBeGreaterThan(0);
      expect([...node.neighbours.keys()].some((peer) => mainland.some((m) => m.selfHex === peer))).toBe(true);
      const closestOnMainland = mainland.slice().sort((a, b) => compareDistance(node.self, a.self, b.self))[0]!;
      const lookup = await swarm.settle(closestOnMainland.findNode(node.self));
      expect(lookup.closest).toContain(node.selfHex);
      const fromIsland = await swarm.settle(node.findNode(closestOnMainland.self));
      expect(fromIsland.closest).toContain(closestOnMainland.selfHex);
    }
    // None of them would ask again: each knows at least as many nodes as it keeps siblings.
    const stillAsking = (n: DhtNode): boolean =>
      n.table.closest(n.self, SIBLING_NEIGHBOURS).length < SIBLING_NEIGHBOURS;
    expect(island.filter(stillAsking)).toEqual([]);
  });
});
