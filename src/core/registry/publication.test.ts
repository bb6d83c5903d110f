import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../sim/event-queue.js';
import { decodeFrame, encodeFrame, encodeValue } from '../wire/codec.js';
import { DhtNode } from '../node/dht-node.js';
import { seededRandom } from '../environment.js';
import { toHex } from '../id.js';
import { createIdentity, sign, verify } from '../identity.js';
import { ErrorCode } from '../errors.js';
import {
  checkPublication,
  publicationSigningBytes,
  PUBLISH_FRESHNESS_MS,
  signPublication,
  signPublicationWith,
} from './publication.js';
import { PubSub } from './pubsub.js';
import { ServiceRegistry } from './service-registry.js';

/**
 * A subscriber is told who published a message only when that publisher's key signed it:
 * id, topic, payload and time. Nobody on the way, nor any other key holder, can deliver one
 * in its name or alter one.
 */

const r = seededRandom(41);
const publisher = createIdentity(r.bytes);
const stranger = createIdentity(r.bytes);
const now = 1_700_000_000_000;
const genuine = signPublication(publisher, {
  mid: r.bytes(16),
  topic: 'sensors.kitchen.temp',
  payload: encodeValue({ c: 21.5 }),
  at: now,
});

describe('a signed publication', () => {
  it('tells its publisher (SHA-256 of the signing key) and its payload', () => {
    expect(checkPublication(genuine, now, verify)).toEqual({
      ok: true,
      publisher: publisher.nodeIdHex,
      payload: { c: 21.5 },
    });
  });

  it('altered in any signed field, or signed by another key, does not verify', () => {
    const altered = [
      { ...genuine, mid: r.bytes(16) },
      { ...genuine, topic: 'sensors.kitchen.humidity' },
      { ...genuine, payload: encodeValue({ c: 99 }) },
      { ...genuine, at: now + 1 },
      { ...genuine, publicKey: stranger.publicKey },
      // The stranger signs in the publisher's name: the key it must name is the publisher's.
      { ...genuine, signature: sign(publicationSigningBytes(genuine), stranger.secretKey) },
    ];
    for (const p of altered)
      expect(checkPublication(p, now, verify)).toEqual({ ok: false, code: ErrorCode.BAD_SIGNATURE });
  });

  it('signed too long before or after the receiver’s clock is stale, and costs no verification', () => {
    let verified = 0;
    const counting = (...args: Parameters<typeof verify>): boolean => {
      verified++;
      return verify(...args);
    };
    for (const offset of [PUBLISH_FRESHNESS_MS + 1, -PUBLISH_FRESHNESS_MS - 1])
      expect(checkPublication(genuine, now + offset, counting)).toEqual({ ok: false, code: ErrorCode.STALE });
    expect(checkPublication({ ...genuine, at: Number.NaN }, now, counting).ok).toBe(false);
    expect(verified).toBe(0);
    expect(checkPublication(genuine, now + PUBLISH_FRESHNESS_MS, counting).ok).toBe(true);
  });

  it('whose signed payload is not MessagePack is malformed, not thrown', () => {
    const junk = signPublication(publisher, { mid: r.bytes(16), topic: 't', payload: Uint8Array.of(0xc1), at: now });
    expect(checkPublication(junk, now, verify)).toEqual({ ok: false, code: ErrorCode.MALFORMED });
  });
});

describe('a subscriber receiving PUBLISH from a neighbour', () => {
  function subscriber() {
    const clock = new EventQueue(now);
    const random = seededRandom(42);
    const sent: Uint8Array[] = [];
    const node = new DhtNode({
      identity: createIdentity(random.bytes),
      clock,
      random,
      transport: { send: (_p, f) => sent.push(f) > 0, connect: () => undefined, disconnect: () => undefined },
    });
    const delivered: Array<{ payload: unknown; publisher: string }> = [];
    const pubsub = new PubSub(
      node,
      new ServiceRegistry(clock),
      { deliver: (_ids, _topic, payload, from) => delivered.push({ payload, publisher: from }) },
      { subscribe: async () => undefined, unsubscribe: async () => undefined },
    );
    node.serve((message, replyTo) => {
      if (message.type === 'PUBLISH' || message.type === 'PUBSUB_ROUTE') pubsub.handlePublish(message.body, replyTo);
    });
    const neighbour = toHex(r.bytes(32));
    node.onChannelOpen(neighbour);
    const replies = (): unknown[] =>
      sent.map((f) => decodeFrame(f)).flatMap((d) => (d.ok && d.message.type === 'REPLY' ? [d.message.body] : []));
    return { node, pubsub, delivered, neighbour, replies };
  }

  it('delivers a genuine one with its publisher; refuses one in someone else’s name, and counts it', async () => {
    const s = subscriber();
    await s.pubsub.subscribe('sensors.**');
    s.node.onFrame(s.neighbour, encodeFrame('PUBLISH', { rid: 1, ...genuine }));
    // The stranger claims the publisher: its key and id (the field the unsigned format trusted), its own signature.
    const forged = {
      rid: 2,
      mid: r.bytes(16),
      topic: 'sensors.kitchen.temp',
      payload: encodeValue({ c: -40 }),
      publicKey: publisher.publicKey,
      publisher: publisher.nodeId,
      at: now,
    };
    const frame = encodeFrame('PUBLISH', {
      ...forged,
      signature: sign(publicationSigningBytes(forged), stranger.secretKey),
    } as never);
    s.node.onFrame(s.neighbour, frame);
    expect(s.delivered).toEqual([{ payload: { c: 21.5 }, publisher: publisher.nodeIdHex }]);
    expect(s.node.stats()['pubsub.refused.BAD_SIGNATURE']).toBe(1);
    expect(s.replies()).toEqual([
      { rid: 1, ok: true, result: 1 },
      { rid: 2, ok: false, code: ErrorCode.BAD_SIGNATURE, message: 'publication refused' },
    ]);
  });
});

describe('signing off the thread', () => {
  it('an asynchronous signer gives the very publication the synchronous one does', async () => {
    const random = seededRandom(3);
    const identity = createIdentity(random.bytes);
    const fields = { mid: random.bytes(16), topic: 'a.b', payload: encodeValue({ x: 1 }), at: 1_000 };
    const asyncSigner = (message: Uint8Array): Promise<Uint8Array> =>
      Promise.resolve(sign(message, identity.secretKey));
    expect(await signPublicationWith(asyncSigner, identity.publicKey, fields)).toEqual(
      signPublication(identity, fields),
    );
  });
});
