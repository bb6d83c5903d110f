import { describe, expect, it } from 'vitest';
import { HOUSEKEEPING_MS } from '../core/node/maintenance.js';
import { DhtNode } from '../core/node/dht-node.js';
import { dueDriven, Swarm } from './swarm.js';

/**
 * The simulator ticks a node only when its work is due (DhtNode.dueAt), on the node's own
 * one-second grid, and earlier when a part says work came due sooner (DhtNode.onDue). A
 * node's work must happen when it would have with a tick every second.
 */
describe('due-driven ticks', () => {
  function swarmWithTickLog(seed: number): { swarm: Swarm; ticks: Map<string, number[]> } {
    const ticks = new Map<string, number[]>();
    const swarm: Swarm = new Swarm({
      seed,
      create: (deps) => {
        const node = new DhtNode(deps);
        const built = dueDriven(node);
        const log: number[] = [];
        ticks.set(node.selfHex, log);
        // dueDriven's methods are on its prototype (a spread would lose dueAt): wrap them one by one.
        return {
          node,
          dueAt: () => node.dueAt(),
          tick: () => {
            log.push(swarm.now);
            built.tick();
          },
        };
      },
    });
    return { swarm, ticks };
  }

  it('skips most ticks of a settled swarm, but never more than the housekeeping interval, and stays on its grid', async () => {
    const { swarm, ticks } = swarmWithTickLog(71);
    await swarm.grow(30, 10);
    const from = swarm.now;
    await swarm.run(120_000);
    for (const node of swarm.alive()) {
      const log = ticks.get(node.selfHex)!.filter((t) => t >= from);
      // A tick every second would be 120.
      expect(log.length).toBeLessThan(80);
      for (let i = 1; i < log.length; i++) {
        expect(log[i]! - log[i - 1]!).toBeLessThanOrEqual(HOUSEKEEPING_MS);
        expect((log[i]! - log[0]!) % 1_000).toBe(0);
      }
    }
  });

  it("a new neighbour's first test is not held back by a skipped tick", async () => {
    const { swarm } = swarmWithTickLog(72);
    const [a, b] = [swarm.addNode(), swarm.addNode()];
    // Let both settle into their rhythm first: nothing is due for a while.
    await swarm.run(20_000);
    swarm.network.link(a.selfHex, b.selfHex);
    let openedAt: number | undefined;
    let testedAt: number | undefined;
    for (let t = 0; t < 10_000 && testedAt === undefined; t += 50) {
      await swarm.run(50);
      if (openedAt === undefined && a.neighbours.has(b.selfHex)) openedAt = a.neighbours.get(b.selfHex)!.openedAt;
      if ((a.counters.get('trust.tests') ?? 0) > 0) testedAt = swarm.now;
    }
    expect(openedAt).toBeDefined();
    expect(testedAt).toBeDefined();
    // Due 2 s after the channel opened; the tick that runs it comes at the next point of a's one-second grid.
    expect(testedAt! - openedAt!).toBeGreaterThanOrEqual(2_000);
    expect(testedAt! - openedAt!).toBeLessThanOrEqual(3_050);
  });
});
