import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, peekType } from '../core/wire/codec.js';
import { idsEqual } from '../core/id.js';
import { Swarm } from './swarm.js';

/**
 * The failure the `linked` field of FIND_NODE_REPLY exists for (issue #7, node lookups
 * under collusion): a colluder right next to X, the node a lookup must find, swallows
 * what honest nodes without a channel to X forward towards X greedily; only X's own
 * neighbours hand a query over. Here that is made the rule: every node without a channel
 * to X drops an envelope for X that it would forward greedily (one still following its
 * `via` route is passed on). A lookup's first two queries to X go along the proven route
 * to a node that named X, in the order they named it, and die there unless it holds a
 * channel to X; the third goes to a node that said it does.
 */
describe('greedy walks to the target swallowed (a seeded 300-node swarm)', () => {
  it('lookups still reach the target through a referrer that holds a channel to it', async () => {
    // One neighbour per bucket: most nodes that name the target hold no channel to it, as in a
    // large network (without the third attempt, 31 of these 40 lookups found it).
    const swarm = new Swarm({ seed: 4242, node: { neighboursPerBucket: 1 } });
    await swarm.grow(300, 50);
    await swarm.run(120_000);

    const target = swarm.pick();
    let swallowed = 0;
    for (const node of swarm.alive()) {
      if (node === target) continue;
      const honestOnFrame = node.onFrame.bind(node);
      node.onFrame = (peer: string, frame: Uint8Array): void => {
        const decoded = peekType(frame) === 'RPC_ROUTE' ? decodeFrame(frame) : undefined;
        const envelope =
          decoded?.ok === true && decoded.message.type === 'RPC_ROUTE' ? decoded.message.body : undefined;
        if (
          envelope !== undefined &&
          idsEqual(envelope.dest, target.self) &&
          envelope.via === undefined &&
          !node.neighbours.has(target.selfHex)
        ) {
          // Acknowledged, so the hop before believes it delivered; then dropped.
          if (envelope.hid !== 0) node.transport.send(peer, encodeFrame('ROUTE_ACK', { hid: envelope.hid }));
          swallowed++;
          return;
        }
        honestOnFrame(peer, frame);
      };
    }

    // Askers without a channel to the target (their own first hop would hand the query over otherwise).
    const askers = swarm
      .alive()
      .filter((n) => n !== target && !n.neighbours.has(target.selfHex))
      .slice(0, 40);
    expect(askers.length).toBe(40);
    let found = 0;
    await swarm.settle(
      Promise.all(
        askers.map(async (asker) => {
          const result = await asker.findNode(target.self);
          if (result.closest.includes(target.selfHex)) found++;
        }),
      ),
      600_000,
    );
    const linkedAttempts = askers.reduce((sum, n) => sum + (n.stats()['lookups.queryLinked'] ?? 0), 0);

    // The swallowing bites, and third attempts are what gets through.
    expect(swallowed).toBeGreaterThan(0);
    expect(linkedAttempts).toBeGreaterThan(0);
    expect(found).toBe(askers.length);
  }, 120_000);
});
