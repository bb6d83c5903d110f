import { describe, expect, it } from 'vitest';
import { Swarm } from '../../sim/swarm.js';

/**
 * A dial answered "busy" (the peer's page holds its cap of channels) is not a failure: the
 * peer is alive. The node keeps the contact as it was, does not mark it lost or dead, and
 * does not dial it again until the redial cooldown ends. A dial that failed is different: the
 * contact is taken for gone. The simulated network answers busy as the page does
 * (SimNetwork.capChannels).
 */
async function dialFullPeer(seed: number) {
  const swarm = new Swarm({ seed });
  const [a, b, c] = [swarm.addNode(), swarm.addNode(), swarm.addNode()];
  swarm.network.link(b.selfHex, c.selfHex);
  // a reaches b through c: its queries to b are answered, so nothing but the dial speaks of b.
  swarm.network.link(a.selfHex, c.selfHex);
  await swarm.run(1_000);
  // b's page holds one channel, the one to c: it is full.
  swarm.network.capChannels(b.selfHex, 1);
  a.contacts.learn(b.self, true);
  await swarm.run(5_000);
  return { swarm, a, b };
}

describe('a dial answered busy', () => {
  it('keeps the contact (not lost, not dead), counts no failure, and waits out the cooldown before dialling it again', async () => {
    const { swarm, a, b } = await dialFullPeer(21);
    expect(a.counters.get('connections.busy')).toBe(1);
    expect(a.counters.get('connections.failed')).toBeUndefined();
    expect(a.neighbours.has(b.selfHex)).toBe(false);
    const contact = a.table.contact(b.selfHex);
    expect(contact).toBeDefined();
    expect(contact!.lost).toBeUndefined();
    expect(a.stats()['connections.pending']).toBe(0);

    // Nine minutes: still cooling down, so no second dial.
    const created = swarm.network.connectionsCreatedBy(a.selfHex);
    await swarm.run(9 * 60_000);
    expect(swarm.network.connectionsCreatedBy(a.selfHex)).toBe(created);
    // Once b has room, the dial after the cooldown opens.
    swarm.network.capChannels(b.selfHex, 8);
    await swarm.run(2 * 60_000);
    expect(swarm.network.connectionsCreatedBy(a.selfHex)).toBeGreaterThan(created);
    expect(a.neighbours.has(b.selfHex)).toBe(true);
  });

  it('a dial that fails (the peer never answers) is counted as failed and the contact taken for dead', async () => {
    const swarm = new Swarm({ seed: 22 });
    const [a, b] = [swarm.addNode(), swarm.addNode()];
    swarm.fail(b, false);
    a.contacts.learn(b.self, true);
    await swarm.run(5_000);
    expect(a.counters.get('connections.failed')).toBe(1);
    expect(a.counters.get('connections.busy')).toBeUndefined();
    expect(a.table.get(b.selfHex)).toBeUndefined();
  });
});
