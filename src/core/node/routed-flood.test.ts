import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../sim/event-queue.js';
import { decodeFrame, encodeFrame } from '../wire/codec.js';
import { DhtNode } from './dht-node.js';
import { seededRandom, type Random } from '../environment.js';
import { fromHex, keyForName, toHex, type NodeId } from '../id.js';
import { createIdentity, type Identity, type Verifier } from '../identity.js';
import { DEFAULT_FLOOD_LIMITS, OUTBOUND_SHARE } from '../defence/rate-limit.js';
import type { MessageBodies, MessageName } from '../wire/messages.js';

/**
 * What an envelope carries is charged as if it had come straight from the neighbour that
 * handed it over (defence/rate-limit.ts): wrapping a STORE or a SIGNAL in RPC_ROUTE no
 * longer buys the route class's 2,000 a second. And a node forwarding such envelopes to the
 * node they are for stays under that node's limits, so it is never the one banned.
 */

function harness(seed: number, verify?: Verifier) {
  const clock = new EventQueue();
  const sent: Array<{ peer: string; frame: Uint8Array }> = [];
  const disconnected: string[] = [];
  const random = seededRandom(seed);
  const node = new DhtNode({
    identity: createIdentity(random.bytes),
    clock,
    random,
    ...(verify ? { verify } : {}),
    transport: {
      send: (peer, frame) => {
        sent.push({ peer, frame });
        return true;
      },
      connect: () => undefined,
      disconnect: (peer) => disconnected.push(peer),
    },
  });
  const signals: string[] = [];
  node.on((e) => {
    if (e.type === 'signal') signals.push(e.from);
  });
  return { node, clock, sent, disconnected, signals };
}

const idOf = (r: Random): string => toHex(r.bytes(32));

/** An envelope for `dest` from a made-up source, carrying `type`. */
function routed<N extends MessageName>(r: Random, dest: NodeId, type: N, body: MessageBodies[N]): Uint8Array {
  return encodeFrame('RPC_ROUTE', {
    dest,
    src: r.bytes(32),
    hops: 1,
    max: 10,
    exact: true,
    path: [r.bytes(32)],
    hid: 0,
    body: encodeFrame(type, body),
  });
}

/** A well-formed, current record whose signature is junk: refusing it costs one Ed25519 verification. */
function badlySigned(owner: Identity, now: number, i: number): unknown {
  return {
    kind: 'provider',
    key: keyForName(`svc.${i}`),
    publicKey: owner.publicKey,
    nodeId: owner.nodeId,
    endpoint: 'e',
    metadata: {},
    advertisedAt: now,
    ttl: 300,
    signature: new Uint8Array(64).fill(7),
  };
}

describe('envelopes that end here are charged by what they carry', () => {
  it('4,000 bad-signature STOREs cost as many verifications routed as direct before the neighbour is banned', () => {
    const r = seededRandom(31);
    const owner = createIdentity(r.bytes);
    const records = Array.from({ length: 4_000 }, (_, i) => badlySigned(owner, new EventQueue().now(), i));
    const verificationsBeforeBan = (wrap: boolean): { verified: number; banned: boolean } => {
      let verified = 0;
      // Counts what would be Ed25519 verifications; every one of these signatures is junk.
      const h = harness(32, () => {
        verified++;
        return false;
      });
      const attacker = idOf(r);
      h.node.onChannelOpen(attacker);
      records.forEach((record, rid) => {
        const frame = wrap ? routed(r, h.node.self, 'STORE', { rid, record }) : encodeFrame('STORE', { rid, record });
        h.node.onFrame(attacker, frame);
      });
      return { verified, banned: h.node.flood!.isBanned(attacker, h.clock.now()) };
    };
    const direct = verificationsBeforeBan(false);
    const viaEnvelopes = verificationsBeforeBan(true);
    // Direct: the store class's burst, then strikes, then a ban.
    expect(direct).toEqual({ verified: DEFAULT_FLOOD_LIMITS.classes.store.burst, banned: true });
    // Routed (before: all 4,000 verified, within the route class's burst, and no ban).
    expect(viaEnvelopes).toEqual(direct);
  });

  it('routed SIGNALs for this node reach the main thread at the signal rate, then their neighbour is banned', () => {
    const r = seededRandom(33);
    const h = harness(34);
    const attacker = idOf(r);
    h.node.onChannelOpen(attacker);
    for (let i = 0; i < 4_000; i++)
      h.node.onFrame(attacker, routed(r, h.node.self, 'SIGNAL', { payload: r.bytes(100) }));
    expect(h.signals.length).toBe(DEFAULT_FLOOD_LIMITS.classes.signal.burst);
    expect(h.node.flood!.isBanned(attacker, h.clock.now())).toBe(true);
    expect(h.disconnected).toEqual([attacker]);
    expect(h.node.stats()['flood.limited.signal']).toBe(DEFAULT_FLOOD_LIMITS.strikes.burst + 1);
  });

  it('an envelope passing through is charged at the route rate only', () => {
    const r = seededRandom(35);
    const h = harness(36);
    const [from, next] = [idOf(r), idOf(r)];
    h.node.onChannelOpen(from);
    h.node.onChannelOpen(next);
    // Bound for the id next to `next`'s (the last bit differs), so `next` is the hop and it is not for us.
    const beyond = fromHex(next);
    beyond[31] = beyond[31]! ^ 1;
    for (let i = 0; i < 1_000; i++)
      h.node.onFrame(from, routed(r, beyond, 'FIND_VALUE', { rid: i, key: beyond, kind: 'provider' }));
    expect(h.node.stats()['flood.limited'] ?? 0).toBe(0);
    // Every envelope goes on (besides them `next` gets the ping a new channel opens with: liveness.ts).
    const forwarded = h.sent.filter((s) => {
      const d = decodeFrame(s.frame);
      return s.peer === next && d.ok && d.message.type === 'RPC_ROUTE';
    });
    expect(forwarded.length).toBe(1_000);
  });

  it('a node forwarding a routed STORE flood to its destination stays under the destination’s limits', () => {
    const r = seededRandom(37);
    const h = harness(38);
    const [attacker, target] = [idOf(r), idOf(r)];
    h.node.onChannelOpen(attacker);
    h.node.onChannelOpen(target);
    for (let rid = 0; rid < 1_000; rid++)
      h.node.onFrame(attacker, routed(r, fromHex(target), 'STORE', { rid, record: { junk: rid } }));
    const toTarget = h.sent.filter((s) => {
      const d = decodeFrame(s.frame);
      return s.peer === target && d.ok && d.message.type === 'RPC_ROUTE';
    });
    // What the target admits of the store class from us at once, at most (before: all 1,000).
    expect(toTarget.length).toBe(Math.floor(DEFAULT_FLOOD_LIMITS.classes.store.burst * OUTBOUND_SHARE));
    expect(h.node.stats()['flood.shed']).toBeGreaterThan(0);
  });
});
