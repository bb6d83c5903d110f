import { describe, expect, it } from 'vitest';
import { Swarm } from '../../sim/swarm.js';
import { seededRandom } from '../environment.js';
import { createIdentity } from '../identity.js';
import { encodeFrame } from '../wire/codec.js';
import { DhtNode } from './dht-node.js';
import { ackTimeoutMs } from './liveness.js';

/**
 * Round-trip times are measured from a channel's first exchange: a new channel is pinged
 * as it opens, so peers() and the routing table show `rttMs` within a round trip, not only
 * once the channel has been quiet for the 30 s ping interval.
 */
describe('liveness: RTT from the first exchange', () => {
  it('a channel has its rttMs one round trip after it opens, and the table has it too', async () => {
    const swarm = new Swarm({ seed: 41, network: { minLatencyMs: 20, maxLatencyMs: 20 } });
    const [a, b] = [swarm.addNode(), swarm.addNode()];
    const start = swarm.now;
    swarm.network.link(a.selfHex, b.selfHex);
    // The channel opens (one connect latency), then a PING and its PONG cross (2 × 20 ms).
    await swarm.run(300);
    const neighbour = a.neighbours.get(b.selfHex);
    expect(neighbour).toBeDefined();
    // Far less than the ping interval (30 s) has passed: only the first exchange can have measured it.
    expect(swarm.now - start).toBeLessThan(1_000);
    expect(neighbour!.rttMs).toBe(40);
    expect(b.neighbours.get(a.selfHex)?.rttMs).toBe(40);
    expect(a.table.contact(b.selfHex)?.rttMs).toBe(40);
    // So hop acknowledgements wait a few round trips, not the whole hop timeout.
    expect(ackTimeoutMs(neighbour!.rttMs, a.hopTimeoutMs)).toBeLessThan(a.hopTimeoutMs);
  });
});

describe('peer kind: what a neighbour says it runs in', () => {
  it('a Node peer says so in its PINGs and PONGs, so its neighbours know it within a round trip; a tab says nothing', async () => {
    let made = 0;
    const swarm = new Swarm({
      seed: 43,
      network: { minLatencyMs: 20, maxLatencyMs: 20 },
      // The first node is a Node peer (src/node sets this kind); the others are tabs.
      create: (deps) => {
        const node = new DhtNode({ ...deps, ...(made++ === 0 ? { kind: 'node' as const } : {}) });
        return { node, tick: () => node.tick() };
      },
    });
    const [nodePeer, tab, other] = [swarm.addNode(), swarm.addNode(), swarm.addNode()];
    swarm.network.link(nodePeer.selfHex, tab.selfHex);
    swarm.network.link(tab.selfHex, other.selfHex);
    await swarm.run(300);
    expect(tab.neighbours.get(nodePeer.selfHex)?.kind).toBe('node');
    expect(tab.neighbours.get(other.selfHex)?.kind).toBeUndefined();
    expect(nodePeer.neighbours.get(tab.selfHex)?.kind).toBeUndefined();
    expect(other.neighbours.get(tab.selfHex)?.kind).toBeUndefined();
  });

  it("learns it from the other side's PING alone, when its own first PING was never answered", async () => {
    const swarm = new Swarm({ seed: 44 });
    const tab = swarm.addNode();
    const nodePeer = createIdentity(seededRandom(4_400).bytes).nodeIdHex;
    tab.onChannelOpen(nodePeer);
    expect(tab.neighbours.get(nodePeer)?.kind).toBeUndefined();
    tab.onFrame(nodePeer, encodeFrame('PING', { rid: 9, kind: 'node' }));
    expect(tab.neighbours.get(nodePeer)?.kind).toBe('node');
  });
});
