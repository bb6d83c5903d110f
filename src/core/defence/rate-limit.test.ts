import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../wire/codec.js';
import { seededRandom } from '../environment.js';
import {
  DEFAULT_FLOOD_LIMITS,
  FLOOD_CLASSES,
  FloodGuard,
  floodClassOf,
  MAX_BANS,
  TokenBucket,
  type FloodClass,
  type FloodLimits,
} from './rate-limit.js';

const peer = 'a'.repeat(64);
const frameOf: Record<FloodClass, Uint8Array> = {
  route: encodeFrame('RPC_ROUTE', {
    dest: new Uint8Array(32),
    src: new Uint8Array(32),
    hops: 0,
    max: 10,
    exact: true,
    path: [],
    hid: 0,
    body: encodeFrame('PING', { rid: 1 }),
  }),
  lookup: encodeFrame('FIND_VALUE', { rid: 1, key: new Uint8Array(32), kind: 'provider' }),
  store: encodeFrame('STORE', { rid: 1, record: {} }),
  signal: encodeFrame('SIGNAL', { payload: new Uint8Array(8) }),
  call: encodeFrame('CALL', { rid: 1, service: 's', args: null }),
  publish: encodeFrame('PUBLISH', {
    rid: 1,
    mid: new Uint8Array(16),
    topic: 't',
    payload: new Uint8Array(1),
    publicKey: new Uint8Array(32),
    at: 0,
    signature: new Uint8Array(64),
  }),
  reply: encodeFrame('STORE_REPLY', { rid: 1, key: new Uint8Array(32), ok: true }),
  control: encodeFrame('ROUTE_ACK', { hid: 7 }),
  other: Uint8Array.of(1, 0xee, 0, 0, 0, 0, 0, 0),
};

describe('token bucket', () => {
  it('gives its burst at once, then exactly its rate', () => {
    const b = new TokenBucket({ perSecond: 10, burst: 5 }, 0);
    let taken = 0;
    while (b.take(0)) taken++;
    expect(taken).toBe(5);
    expect(b.take(99)).toBe(false); // 0.99 of a token
    expect(b.take(100)).toBe(true);
    // 10 s later: refilled to the burst, not to 100.
    taken = 0;
    while (b.take(10_100)) taken++;
    expect(taken).toBe(5);
    // A steady 10/s is never refused.
    for (let t = 10_200; t < 70_000; t += 100) expect(b.take(t)).toBe(true);
  });
});

describe('flood classes', () => {
  it('are read from the header: requests, replies and control apart, unknown types and runts as "other"', () => {
    for (const c of FLOOD_CLASSES) expect(floodClassOf(frameOf[c])).toBe(c);
    expect(floodClassOf(encodeFrame('FIND_NODE', { rid: 1, target: new Uint8Array(32) }))).toBe('lookup');
    expect(floodClassOf(encodeFrame('REMOVE', { rid: 1, removal: {} }))).toBe('store');
    expect(
      floodClassOf(
        encodeFrame('PUBLISH', {
          rid: 1,
          mid: new Uint8Array(16),
          topic: 't',
          payload: new Uint8Array(1),
          publicKey: new Uint8Array(32),
          at: 0,
          signature: new Uint8Array(64),
        }),
      ),
    ).toBe('publish');
    expect(floodClassOf(encodeFrame('PING', { rid: 1 }))).toBe('control');
    expect(floodClassOf(new Uint8Array(3))).toBe('other');
  });
});

describe('flood guard', () => {
  const limits: FloodLimits = {
    classes: Object.fromEntries(FLOOD_CLASSES.map((c) => [c, { perSecond: 10, burst: 20 }])) as FloodLimits['classes'],
    strikes: { perSecond: 1, burst: 5 },
    banMs: 60_000,
  };

  it('limits a class over its budget, then asks for a disconnect once the strikes run out', () => {
    const guard = new FloodGuard(limits);
    const verdicts = Array.from({ length: 30 }, () => guard.admit(peer, frameOf.store, 0));
    expect(verdicts.slice(0, 20).every((v) => v.ok)).toBe(true);
    // 5 strikes are forgiven; the 6th limited frame uses up the neighbour's patience.
    expect(verdicts.slice(20, 25)).toEqual(Array(5).fill({ ok: false, class: 'store', disconnect: false }));
    expect(verdicts[25]).toEqual({ ok: false, class: 'store', disconnect: true });
    // Classes are independent: the same neighbour's lookups still pass.
    expect(guard.admit(peer, frameOf.lookup, 0)).toEqual({ ok: true });
  });

  it('never limits a neighbour that keeps to the rate, and forgives a slight excess without disconnecting', () => {
    const guard = new FloodGuard(limits);
    for (let t = 0; t < 600_000; t += 100) expect(guard.admit(peer, frameOf.call, t).ok).toBe(true);
    // 11 frames a second against 10 allowed: one strike a second, refilled at one a second.
    const other = 'b'.repeat(64);
    let disconnects = 0;
    let refused = 0;
    for (let t = 0; t < 600_000; t += 1000 / 11) {
      const v = guard.admit(other, frameOf.call, t);
      if (!v.ok) refused++;
      if (!v.ok && v.disconnect) disconnects++;
    }
    expect(refused).toBeGreaterThan(500);
    expect(disconnects).toBe(0);
  });

  it('what one guard lets itself send, a neighbour with the same limits always admits', () => {
    // Bursty honest traffic: both guards see the same instants (a FIFO channel with a fixed latency).
    const r = seededRandom(5);
    const sender = new FloodGuard();
    const receiver = new FloodGuard();
    let t = 0;
    let sent = 0;
    let shed = 0;
    let refused = 0;
    for (let i = 0; i < 200_000; i++) {
      t += r.next() < 0.01 ? 2_000 * r.next() : r.next() * 2;
      const cls = FLOOD_CLASSES[Math.floor(r.next() * FLOOD_CLASSES.length)]!;
      if (!sender.allowSend(peer, frameOf[cls], t)) {
        shed++;
        continue;
      }
      sent++;
      if (!receiver.admit(peer, frameOf[cls], t).ok) refused++;
    }
    expect(refused).toBe(0);
    // The traffic was heavy enough to be shaped, so the property was tested at the limits.
    expect(shed).toBeGreaterThan(1_000);
    expect(sent).toBeGreaterThan(10_000);
  });

  it('bans for banMs, and remembers at most MAX_BANS of them', () => {
    const guard = new FloodGuard(limits);
    guard.ban(peer, 0);
    expect(guard.isBanned(peer, 59_999)).toBe(true);
    expect(guard.isBanned(peer, 60_000)).toBe(false);
    expect(guard.sizes.bans).toBe(0);
    for (let i = 0; i < MAX_BANS * 3; i++) guard.ban(i.toString(16).padStart(64, '0'), i);
    expect(guard.sizes.bans).toBe(MAX_BANS);
    // The most recent bans are the ones kept.
    expect(guard.isBanned((MAX_BANS * 3 - 1).toString(16).padStart(64, '0'), MAX_BANS * 3)).toBe(true);
    expect(guard.isBanned('0'.repeat(64), MAX_BANS * 3)).toBe(false);
  });

  it('keeps buckets only for neighbours it has not forgotten', () => {
    const guard = new FloodGuard();
    for (let i = 0; i < 100; i++) guard.admit(i.toString(16).padStart(64, '0'), frameOf.route, 0);
    expect(guard.sizes.peers).toBe(100);
    for (let i = 0; i < 100; i++) guard.forget(i.toString(16).padStart(64, '0'));
    expect(guard.sizes.peers).toBe(0);
  });

  it("keeps a neighbour's row in its record, and a new record for the same peer starts with full buckets", () => {
    const neighbours = new Map<string, { floodRow: number }>();
    const guard = new FloodGuard(limits, neighbours);
    const first = { floodRow: -1 };
    neighbours.set(peer, first);
    const burst = limits.classes.lookup.burst;
    let admitted = 0;
    for (let i = 0; i < burst + 5; i++) if (guard.admit(peer, frameOf.lookup, 0).ok) admitted++;
    expect(admitted).toBe(burst);
    expect(first.floodRow).toBeGreaterThanOrEqual(0);
    expect(guard.sizes.peers).toBe(1);
    // The channel closed: its record left the open channels before the guard is told.
    neighbours.delete(peer);
    guard.forget(peer, first);
    expect(first.floodRow).toBe(-1);
    expect(guard.sizes.peers).toBe(0);
    neighbours.set(peer, { floodRow: -1 });
    expect(guard.admit(peer, frameOf.lookup, 0).ok).toBe(true);
  });
});

describe('published messages with the default limits', () => {
  const publish = (rid: number): Uint8Array =>
    encodeFrame('PUBLISH', {
      rid,
      mid: new Uint8Array(16),
      topic: 't',
      payload: new Uint8Array(1),
      publicKey: new Uint8Array(32),
      at: 0,
      signature: new Uint8Array(64),
    });
  const admittedAtOnce = (frame: (i: number) => Uint8Array): number => {
    const guard = new FloodGuard(DEFAULT_FLOOD_LIMITS);
    let admitted = 0;
    for (let i = 0; i < 5_000; i++) if (guard.admit('n', frame(i), 0).ok) admitted++;
    return admitted;
  };

  it('are bounded like the other verified classes, not with calls: one neighbour cannot make a tab verify thousands at once', () => {
    expect(admittedAtOnce(publish)).toBe(DEFAULT_FLOOD_LIMITS.classes.publish.burst);
    expect(admittedAtOnce(publish)).toBeLessThan(DEFAULT_FLOOD_LIMITS.classes.call.burst / 4);
  });
});
