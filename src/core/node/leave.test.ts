import { describe, expect, it } from 'vitest';
import { Swarm } from '../../sim/swarm.js';

/**
 * LEAVE: a neighbour that closes gracefully says so over its own channel, and is dropped at
 * once. Only the neighbour itself can say it: a LEAVE that arrives routed (anyone can put
 * any id in an envelope's source) changes nothing.
 */
describe('LEAVE', () => {
  it('a neighbour that says it leaves is dropped from the table and its channel closed; a routed one is ignored', async () => {
    const swarm = new Swarm({ seed: 5 });
    const [a, b, c] = [swarm.addNode(), swarm.addNode(), swarm.addNode()];
    swarm.network.link(a.selfHex, b.selfHex);
    swarm.network.link(a.selfHex, c.selfHex);
    await swarm.run(2_000);
    expect([...a.neighbours.keys()].sort()).toEqual([b.selfHex, c.selfHex].sort());

    // Routed: c's envelope to a carries a LEAVE; a keeps c (and b).
    c.messenger.originate(a.self, true, 'LEAVE', {});
    await swarm.run(1_000);
    expect(a.counters.get('messages.unhandled')).toBe(1);
    expect(a.neighbours.has(c.selfHex)).toBe(true);
    expect(a.counters.get('neighbours.left')).toBeUndefined();

    // Direct: b says goodbye; a drops it without waiting for its channel to close.
    b.sayGoodbye();
    await swarm.run(1_000);
    expect(a.counters.get('neighbours.left')).toBe(1);
    expect(a.neighbours.has(b.selfHex)).toBe(false);
    expect(a.table.get(b.selfHex)).toBeUndefined();
    // Nor is it probed as a lost contact (a contact that only lost its channel would be).
    await swarm.run(5_000);
    expect(a.counters.get('contacts.probed')).toBeUndefined();
    expect(a.neighbours.has(c.selfHex)).toBe(true);
  });
});
