import { describe, expect, it } from 'vitest';
import { EventQueue } from '../sim/event-queue.js';
import { decodeFrame, encodeFrame, HEADER_BYTES } from './codec.js';
import { DhtNode } from './dht-node.js';
import { seededRandom, type Random } from './environment.js';
import { toHex } from './id.js';
import { createIdentity, memoizedVerifier } from './identity.js';
import { MessageType, type MessageName } from './messages.js';
import { checkRecord, signRecord } from './records.js';

/**
 * Bad input never crashes a node: 100,000 random, mutated and well-formed-but-hostile
 * frames go through the decoder and through a real node's receive path from several
 * open neighbours. Nothing may throw, every rejection must be counted, and afterwards
 * the node's state must hold only valid data and it must still do its job.
 */
const FRAMES = 100_000;
const NAMES = Object.keys(MessageType) as MessageName[];

function junkValue(r: Random, depth = 0): unknown {
  const pick = Math.floor(r.next() * (depth > 2 ? 6 : 9));
  switch (pick) {
    case 0: return Math.floor(r.next() * 2 ** 32) * (r.next() < 0.2 ? -1 : 1);
    case 1: return r.next() * 1e6;
    case 2: return 'x'.repeat(Math.floor(r.next() * 40));
    case 3: return r.bytes(Math.floor(r.next() * 40));
    case 4: return r.bytes(32);
    case 5: return r.next() < 0.5 ? null : r.next() < 0.5;
    case 6: return Array.from({ length: Math.floor(r.next() * 5) }, () => junkValue(r, depth + 1));
    case 7: return { a: junkValue(r, depth + 1), key: r.bytes(32), rid: Math.floor(r.next() * 100) };
    default: return junkBody(r, depth + 1);
  }
}

/** A body with the field names real messages use, holding values of any type. */
function junkBody(r: Random, depth = 0): Record<string, unknown> {
  const fields = ['rid', 'hid', 'target', 'key', 'kind', 'nodes', 'records', 'record', 'removal', 'dest', 'src', 'hops', 'max',
    'exact', 'path', 'via', 'body', 'service', 'args', 'ok', 'code', 'mid', 'topic', 'payload', 'publisher', 'publicKey', 'realm'];
  const out: Record<string, unknown> = {};
  for (const f of fields) if (r.next() < 0.5) out[f] = depth > 3 ? null : junkValue(r, depth + 1);
  return out;
}

function rawFrame(type: number, payloadBytes: Uint8Array): Uint8Array {
  const frame = new Uint8Array(HEADER_BYTES + payloadBytes.length);
  frame[0] = 1;
  frame[1] = type;
  new DataView(frame.buffer).setUint32(4, payloadBytes.length);
  frame.set(payloadBytes, HEADER_BYTES);
  return frame;
}

function mutate(r: Random, frame: Uint8Array): Uint8Array {
  const out = Uint8Array.from(frame);
  switch (Math.floor(r.next() * 5)) {
    case 0: for (let i = 0; i < 1 + r.next() * 4; i++) out[Math.floor(r.next() * out.length)]! ^= 1 << Math.floor(r.next() * 8); return out;
    case 1: return out.subarray(0, Math.floor(r.next() * out.length));
    case 2: { const longer = new Uint8Array(out.length + 1 + Math.floor(r.next() * 16)); longer.set(out); return longer; }
    case 3: out[1] = Math.floor(r.next() * 256); return out;
    default: out[HEADER_BYTES + Math.floor(r.next() * Math.max(1, out.length - HEADER_BYTES))] = Math.floor(r.next() * 256); return out;
  }
}

describe('fuzzing the decoder and a live node', () => {
  it(`survives ${FRAMES.toLocaleString('en')} random, mutated and hostile frames`, () => {
    const r = seededRandom(2026);
    const clock = new EventQueue();
    const sent: Array<{ peer: string; frame: Uint8Array }> = [];
    const identity = createIdentity(seededRandom(1).bytes);
    const verify = memoizedVerifier();
    const node = new DhtNode({
      identity, clock, random: seededRandom(5), verify,
      transport: { send: (peer, frame) => (sent.push({ peer, frame }), true), connect: () => undefined, disconnect: () => undefined },
    });
    const peers = Array.from({ length: 8 }, (_, i) => toHex(createIdentity(seededRandom(100 + i).bytes).nodeId));
    const owner = createIdentity(seededRandom(7).bytes);
    const genuine = signRecord({ kind: 'provider', key: r.bytes(32), endpoint: 'peer:x', metadata: { v: 1 }, advertisedAt: clock.now(), ttl: 300 }, owner);

    const makeFrame = (): Uint8Array => {
      const roll = r.next();
      const name = NAMES[Math.floor(r.next() * NAMES.length)]!;
      if (roll < 0.15) return r.bytes(Math.floor(r.next() * 120));
      if (roll < 0.3) return rawFrame(MessageType[name], r.bytes(Math.floor(r.next() * 80)));
      if (roll < 0.55) return encodeFrame(name, junkBody(r) as never);
      if (roll < 0.7) {
        // A routed envelope, for this node or passing through, around a junk or mutated body.
        const inner = r.next() < 0.5 ? encodeFrame(name, junkBody(r) as never) : mutate(r, encodeFrame('STORE', { rid: 1, record: genuine }));
        return encodeFrame('RPC_ROUTE', {
          dest: r.next() < 0.5 ? node.self : r.bytes(32), src: r.bytes(32), hops: Math.floor(r.next() * 10), max: 10,
          exact: r.next() < 0.5, path: [r.bytes(32)], hid: Math.floor(r.next() * 1000), body: inner,
        });
      }
      if (roll < 0.8) {
        // Records that look right: tampered copies of a genuine one.
        const forged = { ...genuine, metadata: { v: Math.floor(r.next() * 3) }, ttl: r.next() < 0.5 ? genuine.ttl : 1e9 };
        return encodeFrame('STORE', { rid: Math.floor(r.next() * 1e6), record: r.next() < 0.3 ? genuine : forged });
      }
      return mutate(r, encodeFrame(name, junkBody(r) as never));
    };

    let decoded = 0;
    let rejected = 0;
    for (let i = 0; i < FRAMES; i++) {
      const frame = makeFrame();
      const result = decodeFrame(frame);
      if (result.ok) decoded++;
      else rejected++;
      const peer = peers[i % peers.length]!;
      // Persistent junk gets a neighbour disconnected; open it again to keep fuzzing the handlers.
      if (!node.neighbours.has(peer)) node.onChannelOpen(peer);
      node.onFrame(peer, frame);
    }

    const stats = node.stats();
    expect(decoded).toBeGreaterThan(10_000);
    expect(rejected).toBeGreaterThan(10_000);
    expect(stats['frames.malformed']).toBeGreaterThan(10_000);
    expect(stats['neighbours.junkDisconnect'] ?? 0).toBeGreaterThan(0);
    // Only genuine records were stored; the routing table holds only well-formed ids.
    for (const key of node.records.keys()) {
      for (const rec of node.records.get(key, 'provider', clock.now())) expect(checkRecord(rec, clock.now(), verify).ok).toBe(true);
    }
    expect(node.records.size).toBeLessThanOrEqual(1);
    for (const c of node.table.all()) expect(c.id.length).toBe(32);

    // And it still works: a FIND_NODE is answered, a genuine STORE is accepted.
    sent.length = 0;
    const asker = peers[0]!;
    if (!node.neighbours.has(asker)) node.onChannelOpen(asker);
    node.onFrame(asker, encodeFrame('FIND_NODE', { rid: 42, target: r.bytes(32) }));
    node.onFrame(asker, encodeFrame('STORE', { rid: 43, record: genuine }));
    const replies = sent.filter((s) => s.peer === asker).map((s) => decodeFrame(s.frame)).filter((d) => d.ok).map((d) => d.ok && d.message);
    expect(replies).toContainEqual(expect.objectContaining({ type: 'FIND_NODE_REPLY', body: expect.objectContaining({ rid: 42 }) }));
    expect(replies).toContainEqual(expect.objectContaining({ type: 'STORE_REPLY', body: expect.objectContaining({ rid: 43, ok: true }) }));
  }, 120_000);
});
