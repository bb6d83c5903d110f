import { describe, expect, it } from 'vitest';
import { toHex } from '../core/id.js';
import { createIdentity } from '../core/identity.js';
import { signSignal, verifySignal } from './auth.js';
import { PeerSet } from '../relay/peer-set.js';
import {
  encodeMessage,
  freshSignal,
  parseClientMessage,
  parseServerMessage,
  type ClientMessage,
  type ServerMessage,
  type SignalDelivery,
} from './protocol.js';

const identity = () => createIdentity((n) => crypto.getRandomValues(new Uint8Array(n)));
const id = 'a'.repeat(64);
const sig = 'b'.repeat(128);
const stamp = { ts: 1_700_000_000_000, session: 'c'.repeat(32), seq: 3 };

describe('relay protocol', () => {
  it('parses junk to null without throwing', () => {
    const junk = [
      '',
      'null',
      '[]',
      '42',
      '"hello"',
      '{',
      '{"t":1}',
      '{"t":"hello"}',
      '{"t":"nope"}',
      '{"t":"signal","to":"x","data":1,"signature":"' + sig + '"}',
      '{"t":"signal","to":"' + id + '","signature":"' + sig + '"}',
      // A signal without a stamp, or with one that could not have been signed as it reads.
      JSON.stringify({ t: 'signal', to: id, data: 1, signature: sig }),
      ...[
        { ts: -1 },
        { ts: 1.5 },
        { ts: '1' },
        { session: 'C'.repeat(32) },
        { session: 'c'.repeat(30) },
        { seq: 1024 },
        { seq: -1 },
        { seq: 0.5 },
      ].map((bad) =>
        JSON.stringify({ t: 'signal', from: id, fromKey: id, to: id, data: 1, ...stamp, ...bad, signature: sig }),
      ),
      '{"t":"hello","publicKey":"' + id + '","realm":"' + 'r'.repeat(65) + '","signature":"' + sig + '"}',
      '['.repeat(100_000),
    ];
    for (const text of junk) {
      expect(parseClientMessage(text)).toBeNull();
      expect(parseServerMessage(text)).toBeNull();
    }
    expect(parseServerMessage('{"t":"error","code":"WHATEVER","message":"m"}')).toBeNull();
    expect(parseServerMessage('{"t":"welcome","nodeId":"' + id + '","peers":["short"]}')).toBeNull();
  });

  it('keeps only known fields, so a spoofed `from` never leaves the parser', () => {
    const parsed = parseClientMessage(
      JSON.stringify({ t: 'signal', to: id, data: { x: 1 }, ...stamp, signature: sig, from: 'c'.repeat(64) }),
    );
    expect(parsed).toEqual({ t: 'signal', to: id, data: { x: 1 }, ...stamp, signature: sig });
  });

  it('round-trips every message type', () => {
    const messages: ServerMessage[] = [
      { t: 'challenge', nonce: 'c'.repeat(64) },
      { t: 'welcome', nodeId: id, peers: [id] },
      { t: 'peers', peers: [] },
      { t: 'signal', from: id, fromKey: id, to: id, data: null, ...stamp, signature: sig },
      { t: 'error', code: 'UNREACHABLE', message: 'gone', to: id },
    ];
    for (const m of messages) expect(parseServerMessage(encodeMessage(m)!)).toEqual(m);
    const client: ClientMessage[] = [
      { t: 'hello', publicKey: id, realm: 'r', signature: sig },
      { t: 'peers' },
      { t: 'signal', to: id, data: [1], ...stamp, signature: sig },
    ];
    for (const m of client) expect(parseClientMessage(encodeMessage(m)!)).toEqual(m);
  });

  it('keeps a signed signal verifiable through parse and re-encode (the relay hop)', () => {
    const a = identity();
    const b = identity();
    const data = { '10': 1, '2': 2, z: -0, y: 1e21, x: 0.1 + 0.2, s: 'é\u2028\ud83d\ude00"', nested: [{ b: 1, a: 2 }] };
    const signal = freshSignal(data);
    const signature = signSignal(a, b.nodeIdHex, signal)!;
    const frame = encodeMessage({ t: 'signal', to: b.nodeIdHex, ...signal, signature })!;
    const atRelay = parseClientMessage(frame)!;
    const forwarded = encodeMessage({
      ...atRelay,
      t: 'signal',
      from: a.nodeIdHex,
      fromKey: toHex(a.publicKey),
    } as SignalDelivery)!;
    const atPeer = parseServerMessage(forwarded) as SignalDelivery;
    expect(verifySignal(atPeer, b.nodeIdHex)).toBe(true);
    expect(verifySignal({ ...atPeer, data: { ...(atPeer.data as object), x: 0.3 } }, b.nodeIdHex)).toBe(false);
  });

  it('signs the stamp: another time, session or sequence under the same signature does not verify', () => {
    const a = identity();
    const b = identity();
    const signal = freshSignal({ type: 'offer', sdp: 'v=0' });
    const delivery: SignalDelivery = {
      t: 'signal',
      from: a.nodeIdHex,
      fromKey: toHex(a.publicKey),
      to: b.nodeIdHex,
      ...signal,
      signature: signSignal(a, b.nodeIdHex, signal)!,
    };
    expect(verifySignal(delivery, b.nodeIdHex)).toBe(true);
    for (const changed of [{ ts: signal.ts - 60_000 }, { session: 'd'.repeat(32) }, { seq: 1 }]) {
      expect(verifySignal({ ...delivery, ...changed }, b.nodeIdHex)).toBe(false);
    }
    expect(signSignal(a, b.nodeIdHex, { ...signal, seq: 1024 })).toBeNull();
  });

  it('refuses data that is not JSON', () => {
    expect(signSignal(identity(), id, { ...stamp, data: undefined })).toBeNull();
    expect(signSignal(identity(), id, { ...stamp, data: 1n })).toBeNull();
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    expect(signSignal(identity(), id, { ...stamp, data: cycle })).toBeNull();
  });
});

describe('PeerSet', () => {
  it('adds, deletes and samples distinct members other than the excluded one', () => {
    const set = new PeerSet();
    for (let i = 0; i < 10; i++) set.add(`p${i}`);
    set.add('p3');
    expect(set.size).toBe(10);
    expect(set.delete('p4')).toBe(true);
    expect(set.delete('p4')).toBe(false);
    expect(set.has('p9')).toBe(true);
    const sample = set.sample(5, 'p0');
    expect(new Set(sample).size).toBe(sample.length);
    expect(sample.length).toBeGreaterThanOrEqual(4);
    expect(sample).not.toContain('p0');
    expect(sample).not.toContain('p4');
    expect(set.sample(100, 'p0').sort()).toEqual(['p1', 'p2', 'p3', 'p5', 'p6', 'p7', 'p8', 'p9']);
  });

  it('samples every member with roughly equal chance', () => {
    const set = new PeerSet();
    for (let i = 0; i < 10; i++) set.add(`p${i}`);
    const counts = new Map<string, number>();
    for (let round = 0; round < 2_000; round++)
      for (const p of set.sample(3, undefined)) counts.set(p, (counts.get(p) ?? 0) + 1);
    for (const n of counts.values()) expect(n).toBeGreaterThan(450); // expected 600 each
  });
});
