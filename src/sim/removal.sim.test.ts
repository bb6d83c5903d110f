import { describe, expect, it } from 'vitest';
import { publishToDht, removeFromDht } from '../core/registry/dht-registry.js';
import { compareDistance, keyForName } from '../core/id.js';
import { holds } from './ledger.js';
import { Swarm } from './swarm.js';

describe('removal (a seeded swarm that grows after the publish)', () => {
  it('reaches the nodes that took the STORE even when they are no longer among the k closest', async () => {
    const swarm = new Swarm({ seed: 9 });
    await swarm.grow(30, 30);
    await swarm.run(30_000);
    const owner = swarm.pick();
    const service = 'removal.reaches.placed';
    const key = keyForName(service);
    await swarm.settle(publishToDht(owner, service, {}, 3_600));
    const placed = swarm.alive().filter((n) => n !== owner && holds(n, key, owner));
    expect(placed.length).toBeGreaterThanOrEqual(19);

    // Newcomers push some of the first holders out of the k closest; those keep their copy.
    await swarm.grow(120, 40);
    await swarm.run(60_000);
    const closest = swarm
      .alive()
      .sort((a, b) => compareDistance(key, a.self, b.self))
      .slice(0, 20);
    const pushedOut = placed.filter((n) => !closest.includes(n) && holds(n, key, owner));
    expect(pushedOut.length).toBeGreaterThan(0);

    await swarm.settle(removeFromDht(owner, service));
    await swarm.run(10_000);
    expect(
      swarm
        .alive()
        .filter((n) => holds(n, key, owner))
        .map((n) => n.selfHex),
    ).toEqual([]);
  });
});
