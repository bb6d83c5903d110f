import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../sim/event-queue.js';
import { seededRandom } from '../environment.js';
import { keyForName } from '../id.js';
import { createIdentity } from '../identity.js';
import { DhtNode } from '../node/dht-node.js';
import { decodeFrame, encodeFrame } from '../wire/codec.js';
import { signRecord, signRemoval } from './records.js';

/**
 * A holder passes a removal on to where it handed copies (placements.ts): what it passes
 * on is the removal it checked, not the object it received (review L5: extra fields and
 * all, up to ~1 MiB, to up to 60 targets).
 */
describe('a removal passed on', () => {
  it('is the checked copy: known fields only, whatever the REMOVE that came in carried besides', () => {
    const clock = new EventQueue();
    const sent: Array<{ peer: string; frame: Uint8Array }> = [];
    const random = seededRandom(21);
    const node = new DhtNode({
      identity: createIdentity(random.bytes),
      clock,
      random,
      transport: {
        send: (peer, frame) => {
          sent.push({ peer, frame });
          return true;
        },
        connect: () => undefined,
        disconnect: () => undefined,
      },
    });
    const [from, holder] = [22, 23].map((seed) => createIdentity(seededRandom(seed).bytes).nodeIdHex) as [
      string,
      string,
    ];
    node.onChannelOpen(from);
    node.onChannelOpen(holder);
    const owner = createIdentity(seededRandom(24).bytes);
    const key = keyForName('forwarded.svc');
    const now = clock.now();
    node.onFrame(
      from,
      encodeFrame('STORE', {
        rid: 1,
        record: signRecord(
          { kind: 'provider', key, endpoint: 'peer:x', metadata: {}, advertisedAt: now, ttl: 300 },
          owner,
        ),
      }),
    );
    expect(node.records.size).toBe(1);
    // Replication handed a copy to `holder`.
    node.placements.note('provider', key, owner.nodeId, holder);

    const removal = signRemoval({ kind: 'provider', key, removedAt: now + 1 }, owner);
    const padded = { ...removal, pad: 'x'.repeat(600_000), extra: { deep: [1, 2, 3] } };
    const incoming = encodeFrame('REMOVE', { rid: 2, removal: padded });
    expect(incoming.length).toBeGreaterThan(600_000);
    sent.length = 0;
    node.onFrame(from, incoming);
    expect(node.records.size).toBe(0);

    const passedOn = sent
      .filter((s) => s.peer === holder)
      .map((s) => ({ size: s.frame.length, decoded: decodeFrame(s.frame) }));
    expect(passedOn).toHaveLength(1);
    const { size, decoded } = passedOn[0]!;
    if (!decoded.ok || decoded.message.type !== 'REMOVE') throw new Error('expected a REMOVE');
    expect(Object.keys(decoded.message.body.removal as object).sort()).toEqual([
      'key',
      'kind',
      'nodeId',
      'publicKey',
      'removedAt',
      'signature',
    ]);
    expect(decoded.message.body.removal).toEqual(removal);
    expect(size).toBeLessThan(512);
    expect(node.stats()['dht.removeForwarded']).toBe(1);
  });
});
