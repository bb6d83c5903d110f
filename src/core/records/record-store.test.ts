import { decode, encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { MAX_CLOCK_SKEW_MS, MAX_STORED_KEYS, MAX_TTL_S } from '../constants.js';
import { seededRandom, type Random } from '../environment.js';
import { ErrorCode } from '../errors.js';
import { keyForName, nodeIdFromPublicKey, toHex } from '../id.js';
import { createIdentity, verify, type Identity, type Verifier } from '../identity.js';
import { ENTRY_BYTES, entryBytes, OWNER_BYTES, SLOT_BYTES, TOMBSTONE_BYTES } from './footprint.js';
import { RecordStore, type RecordStoreJSON } from './record-store.js';
import {
  checkRecord,
  signRecord,
  signRemoval,
  type RecordKind,
  type SignedRecord,
  type SignedRemoval,
} from './records.js';

const ids = Array.from({ length: 5 }, (_, i) => createIdentity(seededRandom(100 + i).bytes));
const [alice, bob, carol, dave] = ids as [Identity, Identity, Identity, Identity, Identity];
const NOW = 1_700_000_000_000;
const SVC = keyForName('energy.home.get');

const rec = (
  who: Identity,
  over: { key?: Uint8Array; kind?: RecordKind; at?: number; ttl?: number; endpoint?: string } = {},
): SignedRecord =>
  signRecord(
    {
      kind: over.kind ?? 'provider',
      key: over.key ?? SVC,
      endpoint: over.endpoint ?? `peer:${who.nodeIdHex}`,
      metadata: {},
      advertisedAt: over.at ?? NOW,
      ttl: over.ttl ?? 300,
    },
    who,
  );
const removal = (who: Identity, at = NOW, key = SVC, kind: RecordKind = 'provider') =>
  signRemoval({ kind, key, removedAt: at }, who);
const store = (opts: Partial<ConstructorParameters<typeof RecordStore>[0]> = {}): RecordStore =>
  new RecordStore({ verify, ...opts });
const owners = (s: RecordStore, now = NOW, key = SVC): string[] =>
  s
    .get(key, 'provider', now)
    .map((r) => toHex(r.nodeId))
    .sort();
const codeOf = (r: { ok: boolean; code?: string }): string | undefined => (r.ok ? undefined : r.code);

/**
 * Well-formed records of fresh owners (nodeId = SHA-256(publicKey)) with a random
 * signature, for floods: paired with a verifier that accepts everything, they exercise
 * the store's bounds without 10,000 Ed25519 signatures and verifications.
 */
const acceptAll: Verifier = () => true;
function floodRecord(r: Random, over: { key?: Uint8Array; at?: number } = {}): SignedRecord {
  const publicKey = r.bytes(32);
  return {
    kind: 'provider',
    key: over.key ?? SVC,
    publicKey,
    nodeId: nodeIdFromPublicKey(publicKey),
    endpoint: 'peer:flood',
    metadata: { pad: 'x'.repeat(64) },
    advertisedAt: over.at ?? NOW,
    ttl: 300,
    signature: r.bytes(64),
  };
}
function floodRemoval(r: Random, key: Uint8Array = SVC): SignedRemoval {
  const publicKey = r.bytes(32);
  return {
    kind: 'provider',
    key,
    publicKey,
    nodeId: nodeIdFromPublicKey(publicKey),
    removedAt: NOW,
    signature: r.bytes(64),
  };
}

describe('RecordStore: put and upsert', () => {
  it('keeps many providers side by side at one key, one entry per owner, newest first', () => {
    const s = store();
    for (const [i, who] of ids.entries())
      expect(s.put(rec(who, { at: NOW + i }), NOW + 10)).toEqual({ ok: true, replaced: false });
    expect(s.size).toBe(ids.length);
    expect(s.stats()).toEqual({
      keys: 1,
      entries: ids.length,
      owners: ids.length,
      tombstones: 0,
      bytes: expect.any(Number),
    });
    expect(s.get(SVC, 'provider', NOW + 10).map((r) => toHex(r.nodeId))).toEqual(ids.map((i) => i.nodeIdHex).reverse());
    // Re-advertising replaces in place: still one entry per owner.
    for (const [i, who] of ids.entries())
      expect(s.put(rec(who, { at: NOW + 100 + i }), NOW + 200)).toEqual({ ok: true, replaced: true });
    expect(s.size).toBe(ids.length);
    expect(s.get(SVC, 'provider', NOW + 200).map((r) => r.advertisedAt)).toEqual(
      ids.map((_, i) => NOW + 100 + i).reverse(),
    );
  });

  it('stores many owners side by side and upserts by node id', () => {
    const s = store();
    expect(s.put(rec(alice), NOW)).toEqual({ ok: true, replaced: false });
    expect(s.put(rec(bob), NOW)).toEqual({ ok: true, replaced: false });
    expect(owners(s)).toEqual([alice.nodeIdHex, bob.nodeIdHex].sort());
    const newer = rec(alice, { at: NOW + 1000, endpoint: 'peer:new' });
    expect(s.put(newer, NOW + 1000)).toEqual({ ok: true, replaced: true });
    expect(s.get(SVC, 'provider', NOW + 1000).find((r) => toHex(r.nodeId) === alice.nodeIdHex)?.endpoint).toBe(
      'peer:new',
    );
    expect(codeOf(s.put(rec(alice), NOW + 1000))).toBe(ErrorCode.STALE);
    // The refused older record changed nothing.
    expect(s.get(SVC, 'provider', NOW + 1000).find((r) => toHex(r.nodeId) === alice.nodeIdHex)?.advertisedAt).toBe(
      NOW + 1000,
    );
    expect(s.size).toBe(2);
    expect(s.get(SVC, 'subscriber', NOW)).toEqual([]);
    expect(s.get(keyForName('other'), 'provider', NOW)).toEqual([]);
  });

  it('accepts the same advertisement again (idempotent re-store)', () => {
    const s = store();
    const r = rec(alice);
    s.put(r, NOW);
    expect(s.put(r, NOW + 10)).toEqual({ ok: true, replaced: true });
    expect(s.size).toBe(1);
  });

  it('keeps kinds apart and serves hex keys too', () => {
    const s = store();
    s.put(rec(alice, { kind: 'subscriber' }), NOW);
    expect(s.get(SVC, 'provider', NOW)).toEqual([]);
    expect(s.get(toHex(SVC), 'subscriber', NOW)).toHaveLength(1);
    expect(s.get('not-hex', 'subscriber', NOW)).toEqual([]);
    expect(s.get(new Uint8Array(3), 'subscriber', NOW)).toEqual([]);
  });

  it('refuses invalid records with their code and never throws on junk', () => {
    const s = store();
    const r = rec(alice);
    expect(codeOf(s.put({ ...r, endpoint: 'forged' }, NOW))).toBe(ErrorCode.BAD_SIGNATURE);
    expect(codeOf(s.put({ ...r, nodeId: bob.nodeId }, NOW))).toBe(ErrorCode.WRONG_OWNER);
    expect(codeOf(s.put(r, NOW + 1e9))).toBe(ErrorCode.EXPIRED);
    expect(codeOf(s.put(r, NOW - MAX_CLOCK_SKEW_MS - 1))).toBe(ErrorCode.FUTURE_DATED);
    for (const junk of [null, undefined, [], 'x', 7, {}, { ...r, key: null }]) {
      expect(() => s.put(junk, NOW)).not.toThrow();
      expect(codeOf(s.put(junk, NOW))).toBe(ErrorCode.MALFORMED);
      expect(codeOf(s.remove(junk, NOW))).toBe(ErrorCode.MALFORMED);
    }
    expect(codeOf(s.put(r, NOW, Number.NaN))).toBe(ErrorCode.MALFORMED);
    expect(codeOf(s.put(r, NOW, '5' as unknown as number))).toBe(ErrorCode.MALFORMED);
    expect(s.size).toBe(0);
  });
});

describe('RecordStore: expiry', () => {
  it('never returns an expired record; pruneExpired counts what it drops', () => {
    const s = store();
    s.put(rec(alice, { ttl: 10 }), NOW);
    s.put(rec(bob, { ttl: 20 }), NOW);
    s.put(rec(carol, { ttl: 20, key: keyForName('b') }), NOW);
    expect(s.get(SVC, 'provider', NOW + 9_999)).toHaveLength(2);
    expect(owners(s, NOW + 10_000)).toEqual([bob.nodeIdHex]);
    expect(s.getWithRemaining(SVC, 'provider', NOW + 15_000)).toEqual([
      { record: expect.anything(), remainingMs: 5_000 },
    ]);
    expect(s.size).toBe(3);
    expect(s.pruneExpired(NOW + 10_000)).toBe(1);
    expect(s.pruneExpired(NOW + 20_000)).toBe(2);
    expect(s.size).toBe(0);
    expect(s.stats()).toEqual({ keys: 0, entries: 0, owners: 0, tombstones: 0, bytes: 0 });
    expect(s.keys()).toEqual([]);
  });

  it('remainingMs only ever shortens a record’s life here', () => {
    const s = store();
    s.put(rec(alice), NOW, 10 * 60_000);
    expect(s.getWithRemaining(SVC, 'provider', NOW)[0]?.remainingMs).toBe(300_000);
    s.put(rec(bob), NOW, 5_000);
    expect(s.entriesForKey(SVC, 'provider').find((e) => toHex(e.record.nodeId) === bob.nodeIdHex)?.expiresAt).toBe(
      NOW + 5_000,
    );
    expect(codeOf(s.put(rec(carol), NOW, 0))).toBe(ErrorCode.EXPIRED);
    expect(codeOf(s.put(rec(carol), NOW, -1))).toBe(ErrorCode.EXPIRED);

    // Handing on through a chain of replicas never gains time.
    const a = store();
    const b = store();
    a.put(rec(alice), NOW);
    for (const { record, remainingMs } of a.getWithRemaining(SVC, 'provider', NOW + 100_000))
      b.put(record, NOW + 100_000, remainingMs);
    expect(b.getWithRemaining(SVC, 'provider', NOW + 100_000)[0]?.remainingMs).toBe(200_000);
    expect(b.get(SVC, 'provider', NOW + 300_000)).toEqual([]);
  });

  it('a replayed old record gets no fresh ttl (bounded by its signed deadline)', () => {
    const s = store();
    const old = rec(alice, { at: NOW - MAX_CLOCK_SKEW_MS - 3 * 60_000, ttl: 300 });
    expect(s.put(old, NOW).ok).toBe(true);
    // advertisedAt + ttl + skew = NOW + 2 min: that is all it can get.
    expect(s.getWithRemaining(SVC, 'provider', NOW)[0]?.remainingMs).toBe(2 * 60_000);
  });
});

describe('RecordStore: a version that expired here is not taken back (review L2)', () => {
  it('a 60 s record STOREd again every minute after it expired is served for 60 s, not until its signed deadline', () => {
    const s = store();
    const r = rec(alice, { ttl: 60 });
    let servedS = 0;
    for (let t = 0; t < 35 * 60; t++) {
      const now = NOW + t * 1_000 + 500;
      if (t % 60 === 0) s.put(r, now);
      if (t % 10 === 0) s.pruneExpired(now);
      if (s.get(SVC, 'provider', now).length > 0) servedS++;
    }
    expect(servedS).toBe(60);
    // Refused as EXPIRED while its signed deadline lasts, then by checkRecord; its owner's next version is welcome.
    const s2 = store();
    s2.put(r, NOW);
    s2.pruneExpired(NOW + 60_000);
    expect(codeOf(s2.put(r, NOW + 120_000))).toBe(ErrorCode.EXPIRED);
    expect(s2.put(rec(alice, { at: NOW + 120_000, ttl: 60 }), NOW + 120_000)).toEqual({ ok: true, replaced: false });
  });

  it('nor is a version a replica handed on with less time, nor one it expired without a prune', () => {
    const s = store();
    const r = rec(alice);
    expect(s.put(r, NOW, 5_000).ok).toBe(true);
    expect(codeOf(s.put(r, NOW + 5_000))).toBe(ErrorCode.EXPIRED);
    expect(codeOf(s.put(r, NOW + 6_000, 1_000))).toBe(ErrorCode.EXPIRED);
  });

  it('nor an older version with a longer TTL that a shorter one replaced here', () => {
    const s = store();
    const long = rec(alice, { ttl: 3_600 });
    expect(s.put(long, NOW).ok).toBe(true);
    expect(s.put(rec(alice, { at: NOW + 1_000, ttl: 60 }), NOW + 1_000).ok).toBe(true);
    const later = NOW + 1_000 + 60_000 + MAX_CLOCK_SKEW_MS + 1;
    s.pruneExpired(NOW + 61_000);
    expect(checkRecord(long, later, verify).ok).toBe(true);
    expect(codeOf(s.put(long, later))).toBe(ErrorCode.EXPIRED);
  });

  it('remembers a bounded number of expired versions, the oldest forgotten first', () => {
    const s = store({ maxSpent: 2 });
    const [a, b, c] = [rec(alice, { ttl: 10 }), rec(bob, { ttl: 10 }), rec(carol, { ttl: 10 })];
    for (const r of [a, b, c]) s.put(r, NOW);
    s.pruneExpired(NOW + 10_000);
    expect(s.put(a, NOW + 11_000).ok).toBe(true);
    expect(codeOf(s.put(b, NOW + 11_000))).toBe(ErrorCode.EXPIRED);
    expect(codeOf(s.put(c, NOW + 11_000))).toBe(ErrorCode.EXPIRED);
  });
});

describe('RecordStore: honest clocks 10 minutes fast or slow', () => {
  const skew = 10 * 60_000;

  it('a record signed 10 min fast is stored by a node 10 min slow, and the reverse, each for its full TTL', () => {
    // The signer's clock reads NOW; true time is NOW - skew (fast signer) or NOW + skew (slow signer).
    for (const [storerNow, label] of [
      [NOW - 2 * skew, 'fast signer, slow storer'],
      [NOW + 2 * skew, 'slow signer, fast storer'],
    ] as const) {
      const s = store();
      expect({ label, ok: s.put(rec(alice), storerNow).ok }).toEqual({ label, ok: true });
      expect(s.getWithRemaining(SVC, 'provider', storerNow)[0]?.remainingMs).toBe(300_000);
      expect(owners(s, storerNow + 299_999)).toEqual([alice.nodeIdHex]);
      expect(owners(s, storerNow + 300_000)).toEqual([]);
    }
  });

  it('a discovering node 10 min off in either direction accepts what a 10 min off owner signed', () => {
    const r = rec(alice);
    for (const readerNow of [NOW - 2 * skew, NOW + 2 * skew]) expect(checkRecord(r, readerNow, verify).ok).toBe(true);
  });

  it('still refuses records dated beyond what two honest clocks can disagree by', () => {
    expect(codeOf(store().put(rec(alice, { at: NOW + MAX_CLOCK_SKEW_MS + 1 }), NOW))).toBe(ErrorCode.FUTURE_DATED);
    expect(codeOf(store().put(rec(alice, { at: NOW - MAX_CLOCK_SKEW_MS - 300_001 }), NOW))).toBe(ErrorCode.EXPIRED);
  });
});

describe('RecordStore: removal', () => {
  it('only the owner removes; a removal by another key is refused or touches nothing', () => {
    const s = store();
    s.put(rec(alice), NOW);
    s.put(rec(bob), NOW);
    const forged = { ...removal(bob, NOW + 1), publicKey: alice.publicKey, nodeId: alice.nodeId };
    expect(codeOf(s.remove(forged, NOW + 1))).toBe(ErrorCode.BAD_SIGNATURE);
    expect(codeOf(s.remove({ ...removal(bob, NOW + 1), nodeId: alice.nodeId }, NOW + 1))).toBe(ErrorCode.WRONG_OWNER);
    expect(s.remove(removal(carol, NOW + 1), NOW + 1)).toMatchObject({ ok: true, removed: false });
    expect(owners(s, NOW + 1)).toEqual([alice.nodeIdHex, bob.nodeIdHex].sort());
    expect(s.remove(removal(alice, NOW + 1), NOW + 1)).toMatchObject({ ok: true, removed: true });
    expect(owners(s, NOW + 1)).toEqual([bob.nodeIdHex]);
  });

  it('leaves a tombstone: the removed record cannot be replayed in, a newer one can', () => {
    const s = store();
    const r = rec(alice);
    s.put(r, NOW);
    s.remove(removal(alice, NOW + 5), NOW + 5);
    expect(codeOf(s.put(r, NOW + 10))).toBe(ErrorCode.STALE);
    expect(codeOf(s.put(r, NOW + 10, 1_000))).toBe(ErrorCode.STALE);
    expect(s.stats().tombstones).toBe(1);
    expect(s.put(rec(alice, { at: NOW + 6 }), NOW + 10)).toEqual({ ok: true, replaced: false });
  });

  it('a removal that arrives before the record still blocks it', () => {
    const s = store();
    s.remove(removal(alice, NOW), NOW);
    expect(codeOf(s.put(rec(alice, { at: NOW - 1 }), NOW))).toBe(ErrorCode.STALE);
  });

  it('an old removal does not delete a newer record', () => {
    const s = store();
    s.put(rec(alice, { at: NOW + 10 }), NOW + 10);
    expect(codeOf(s.remove(removal(alice, NOW), NOW + 10))).toBe(ErrorCode.STALE);
    expect(s.size).toBe(1);
  });

  it('tombstones expire once no version the removal covers could be stored anyway, whatever the TTL of the one removed', () => {
    const s = store();
    s.put(rec(alice, { ttl: 60 }), NOW);
    s.remove(removal(alice, NOW), NOW);
    // A version advertised at or before the removal may have had any TTL up to the largest.
    const deadline = NOW + MAX_TTL_S * 1000 + MAX_CLOCK_SKEW_MS;
    s.pruneExpired(deadline - 1);
    expect(s.stats().tombstones).toBe(1);
    s.pruneExpired(deadline);
    expect(s.stats().tombstones).toBe(0);
  });

  it('re-advertised with a shorter TTL, then removed: the older long-TTL version cannot come back (review L1)', () => {
    const s = store();
    const long = rec(alice, { ttl: 3_600 });
    const short = rec(alice, { at: NOW + 1_000, ttl: 60 });
    expect(s.put(long, NOW).ok).toBe(true);
    expect(s.put(short, NOW + 1_000).ok).toBe(true);
    expect(s.remove(removal(alice, NOW + 2_000), NOW + 2_000)).toMatchObject({ ok: true, removed: true });
    // Past the short version's deadline, still inside the long one's: the long one passes checkRecord...
    const later = NOW + 2_000 + 60_000 + MAX_CLOCK_SKEW_MS + 60_000;
    s.pruneExpired(later);
    expect(checkRecord(long, later, verify).ok).toBe(true);
    // ...and the tombstone still refuses it.
    expect(codeOf(s.put(long, later))).toBe(ErrorCode.STALE);
    expect(owners(s, later)).toEqual([]);
  });

  it('bounds tombstones per owner and, for removals of nothing stored here, overall', () => {
    const keys = Array.from({ length: 4 }, (_, i) => keyForName(`t${i}`));
    const perOwner = store({ maxKeysPerOwner: 2 });
    for (const k of keys) perOwner.remove(removal(alice, NOW, k), NOW);
    expect(perOwner.stats().tombstones).toBe(2);
    const overall = store({ maxTombstones: 3 });
    for (const who of [alice, bob]) for (const k of keys.slice(0, 2)) overall.remove(removal(who, NOW, k), NOW);
    expect(overall.stats().tombstones).toBe(3);
  });

  it('a flood of removals of nothing stored here does not push out the tombstone of a removed record (review M2)', () => {
    // The review's numbers: 10,000 cheap removals from 157 throw-away keys (64 each), then a replay.
    const r = seededRandom(4646);
    const s = new RecordStore({ verify: acceptAll });
    const owned = floodRecord(r);
    const ownersRemoval = { ...floodRemoval(r), publicKey: owned.publicKey, nodeId: owned.nodeId, removedAt: NOW + 1 };
    expect(s.put(owned, NOW).ok).toBe(true);
    expect(s.remove(ownersRemoval, NOW + 1)).toMatchObject({ ok: true, removed: true });
    let flood = 0;
    for (let k = 0; k < 157; k++) {
      const thrownAway = floodRemoval(r);
      for (let i = 0; i < 64 && flood < 10_000; i++, flood++)
        expect(s.remove({ ...thrownAway, key: r.bytes(32) }, NOW + 2).ok).toBe(true);
    }
    expect(s.stats().tombstones).toBe(MAX_STORED_KEYS + 1);
    expect(codeOf(s.put(owned, NOW + 3))).toBe(ErrorCode.STALE);
    expect(s.get(SVC, 'provider', NOW + 3)).toEqual([]);
  });

  it('a tombstone that removed an entry takes its place in the entry and byte bounds', () => {
    const s = store({ maxEntries: 2 });
    s.put(rec(alice), NOW);
    s.put(rec(bob), NOW);
    const full = s.stats().bytes;
    expect(s.remove(removal(alice, NOW + 1), NOW + 1)).toMatchObject({ ok: true, removed: true });
    expect(s.stats()).toMatchObject({ entries: 1, tombstones: 1 });
    expect(s.stats().bytes).toBeLessThan(full);
    expect(s.stats().bytes).toBe(entryBytes(rec(bob)) + SLOT_BYTES + OWNER_BYTES + TOMBSTONE_BYTES);
    // So the store is still full: carol waits, as she would have for alice's entry...
    expect(codeOf(s.put(rec(carol), NOW + 1))).toBe(ErrorCode.STORE_FULL);
    // ...removals of nothing here still leave theirs (in a pool of their own)...
    expect(s.remove(removal(carol, NOW + 1), NOW + 1)).toMatchObject({ ok: true, removed: false });
    expect(codeOf(s.put(rec(carol, { at: NOW + 2 }), NOW + 2))).toBe(ErrorCode.STORE_FULL);
    // ...and alice's newer record takes back the place her tombstone held, which still refuses the old one.
    expect(s.put(rec(alice, { at: NOW + 2 }), NOW + 2)).toEqual({ ok: true, replaced: false });
    expect(s.stats()).toMatchObject({ entries: 2, tombstones: 2 });
    expect(codeOf(s.put(rec(carol, { at: NOW + 2 }), NOW + 2))).toBe(ErrorCode.STORE_FULL);
    expect(s.remove(removal(alice, NOW + 3), NOW + 3)).toMatchObject({ ok: true, removed: true });
    expect(codeOf(s.put(rec(alice, { at: NOW + 2 }), NOW + 3))).toBe(ErrorCode.STALE);
    // Once the tombstone lapses, the room is back.
    const lapsed = NOW + 3 + MAX_TTL_S * 1000 + MAX_CLOCK_SKEW_MS;
    s.pruneExpired(lapsed);
    expect(s.put(rec(carol, { at: lapsed }), lapsed).ok).toBe(true);
  });

  it('keeps which tombstones removed an entry across a snapshot', () => {
    const s = store({ maxEntries: 2 });
    s.put(rec(alice), NOW);
    s.remove(removal(alice, NOW + 1), NOW + 1);
    s.remove(removal(bob, NOW + 1), NOW + 1);
    const snapshot = decode(encode(s.toJSON(NOW + 1))) as RecordStoreJSON;
    expect(snapshot.tombstones.map((t) => t.held === true).sort()).toEqual([false, true]);
    const restored = RecordStore.fromJSON(snapshot, NOW + 2, verify, { maxEntries: 2 });
    restored.put(rec(carol, { at: NOW + 2 }), NOW + 2);
    expect(codeOf(restored.put(rec(dave, { at: NOW + 2 }), NOW + 2))).toBe(ErrorCode.STORE_FULL);
  });
});

describe('RecordStore: bounds', () => {
  it('a full key refuses new owners (KEY_FULL) but lets its owners update', () => {
    const s = store({ maxEntriesPerKey: 2 });
    s.put(rec(alice, { ttl: 10 }), NOW);
    s.put(rec(bob), NOW);
    expect(codeOf(s.put(rec(carol), NOW))).toBe(ErrorCode.KEY_FULL);
    expect(s.put(rec(bob, { at: NOW + 1 }), NOW + 1).ok).toBe(true);
    // Room again once an entry has expired.
    expect(s.put(rec(carol, { at: NOW + 10_000 }), NOW + 10_000).ok).toBe(true);
    expect(owners(s, NOW + 10_000)).toEqual([bob.nodeIdHex, carol.nodeIdHex].sort());
  });

  it('an owner may hold entries under a bounded number of keys (OWNER_QUOTA)', () => {
    const s = store({ maxKeysPerOwner: 2 });
    expect(s.put(rec(alice, { key: keyForName('a') }), NOW).ok).toBe(true);
    expect(s.put(rec(alice, { key: keyForName('b') }), NOW).ok).toBe(true);
    expect(codeOf(s.put(rec(alice, { key: keyForName('c') }), NOW))).toBe(ErrorCode.OWNER_QUOTA);
    expect(s.put(rec(alice, { key: keyForName('a'), at: NOW + 1 }), NOW).ok).toBe(true);
    expect(s.put(rec(bob, { key: keyForName('c') }), NOW).ok).toBe(true);
  });

  it('bounds keys and entries overall (STORE_FULL)', () => {
    const s = store({ maxKeys: 2 });
    s.put(rec(alice, { key: keyForName('a') }), NOW);
    s.put(rec(bob, { key: keyForName('b') }), NOW);
    expect(codeOf(s.put(rec(carol, { key: keyForName('c') }), NOW))).toBe(ErrorCode.STORE_FULL);
    expect(s.put(rec(carol, { key: keyForName('a') }), NOW).ok).toBe(true);
    expect(s.keys().map(toHex).sort()).toEqual([keyForName('a'), keyForName('b')].map(toHex).sort());

    const e = store({ maxEntries: 2 });
    e.put(rec(alice, { ttl: 5 }), NOW);
    e.put(rec(bob), NOW);
    expect(codeOf(e.put(rec(carol), NOW))).toBe(ErrorCode.STORE_FULL);
    expect(e.put(rec(carol, { at: NOW + 5_000 }), NOW + 5_000).ok).toBe(true);
  });
});

describe('RecordStore: bytes', () => {
  const padded = (who: Identity, pad: number, at = NOW, ttl = 300): SignedRecord =>
    signRecord(
      { kind: 'provider', key: SVC, endpoint: 'peer:x', metadata: { pad: 'x'.repeat(pad) }, advertisedAt: at, ttl },
      who,
    );

  it('bounds the estimated heap overall (STORE_FULL); an owner may update in place within it; what leaves gives its bytes back', () => {
    const a = padded(alice, 100, NOW, 10);
    const b = padded(bob, 100);
    const budget = entryBytes(a) + entryBytes(b) + SLOT_BYTES + 2 * OWNER_BYTES;
    const s = store({ maxBytes: budget });
    expect(s.put(a, NOW).ok).toBe(true);
    expect(s.put(b, NOW).ok).toBe(true);
    expect(s.stats().bytes).toBe(budget);
    expect(codeOf(s.put(padded(carol, 0), NOW))).toBe(ErrorCode.STORE_FULL);
    // The same size again fits; a bigger version does not.
    expect(s.put(padded(bob, 100, NOW + 1), NOW + 1).ok).toBe(true);
    expect(codeOf(s.put(padded(bob, 101, NOW + 2), NOW + 2))).toBe(ErrorCode.STORE_FULL);
    expect(s.put(padded(bob, 99, NOW + 3), NOW + 3).ok).toBe(true);
    expect(s.stats().bytes).toBe(budget - 2);
    // Alice's entry expires: its bytes, and its owner's, come back.
    expect(s.put(padded(carol, 100, NOW + 10_000), NOW + 10_000).ok).toBe(true);
    s.pruneExpired(NOW + 1e9);
    expect(s.stats()).toMatchObject({ entries: 0, bytes: 0 });
  });

  it('charges metadata by what decoding builds from it, not by its encoded size', () => {
    const few = signRecord(
      { kind: 'provider', key: SVC, endpoint: 'e', metadata: { a: 'x'.repeat(1_000) }, advertisedAt: NOW, ttl: 300 },
      alice,
    );
    const many = signRecord(
      {
        kind: 'provider',
        key: SVC,
        endpoint: 'e',
        metadata: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i])),
        advertisedAt: NOW,
        ttl: 300,
      },
      alice,
    );
    expect(encode(many.metadata).length).toBeLessThan(encode(few.metadata).length / 10);
    expect(entryBytes(many) - ENTRY_BYTES).toBeGreaterThan((entryBytes(few) - ENTRY_BYTES) / 2);
  });
});

describe('RecordStore: persistence', () => {
  it('round-trips through MessagePack, dropping what expired and keeping tombstones', () => {
    const s = store();
    s.put(rec(alice, { ttl: 10 }), NOW);
    s.put(rec(bob, { ttl: 300 }), NOW);
    const carols = rec(carol);
    s.put(carols, NOW);
    s.remove(removal(carol, NOW), NOW);
    s.put(rec(dave, { kind: 'subscriber', key: keyForName('topic') }), NOW, 50_000);

    const saved = decode(encode(s.toJSON(NOW + 1_000)));
    const later = NOW + 20_000;
    const restored = RecordStore.fromJSON(saved, later, verify);
    expect(owners(restored, later)).toEqual([bob.nodeIdHex]);
    expect(restored.getWithRemaining(SVC, 'provider', later)[0]?.remainingMs).toBe(280_000);
    expect(restored.getWithRemaining(keyForName('topic'), 'subscriber', later)[0]?.remainingMs).toBe(30_000);
    expect(codeOf(restored.put(carols, later))).toBe(ErrorCode.STALE);

    const into = store();
    into.absorb(restored, later);
    expect(into.stats()).toEqual(restored.stats());
    expect(codeOf(into.put(carols, later))).toBe(ErrorCode.STALE);
  });

  it('re-verifies on restore and survives corrupt snapshots', () => {
    const s = store();
    s.put(rec(alice), NOW);
    const snapshot = s.toJSON(NOW);
    const first = snapshot.entries[0]!;
    const tampered = { ...snapshot, entries: [{ ...first, record: { ...first.record, endpoint: 'evil' } }] };
    expect(RecordStore.fromJSON(tampered, NOW, verify).size).toBe(0);
    for (const junk of [
      null,
      'x',
      [],
      { entries: 'x' },
      { entries: [null, 1, { record: null, expiresAt: NOW + 1 }] },
      { tombstones: [{}] },
    ]) {
      expect(() => RecordStore.fromJSON(junk, NOW, verify)).not.toThrow();
      expect(RecordStore.fromJSON(junk, NOW, verify).size).toBe(0);
    }
    // A snapshot cannot extend a lifetime beyond what the record itself allows.
    const stretched = { entries: [{ record: first.record, expiresAt: NOW + 10 * 3_600_000 }] };
    expect(RecordStore.fromJSON(stretched, NOW, verify).getWithRemaining(SVC, 'provider', NOW)[0]?.remainingMs).toBe(
      300_000,
    );
  });
});

describe('RecordStore: get never returns an expired record', () => {
  it('on every read path, before any prune, and an expired entry is replaced by a fresh one', () => {
    const s = store();
    s.put(rec(alice, { ttl: 5 }), NOW);
    s.put(rec(bob, { ttl: 5, kind: 'subscriber' }), NOW);
    const at = NOW + 5_000;
    expect(s.get(SVC, 'provider', at)).toEqual([]);
    expect(s.get(toHex(SVC), 'subscriber', at)).toEqual([]);
    expect(s.getWithRemaining(SVC, 'provider', at)).toEqual([]);
    expect(s.entriesForKey(SVC, 'provider', at)).toEqual([]);
    // Still held (until pruned or touched), never served.
    expect(s.size).toBe(2);
    expect(s.entriesForKey(SVC, 'provider')).toHaveLength(1);
    // An expired entry does not block its owner, and is not counted twice.
    expect(s.put(rec(alice, { at, ttl: 5 }), at)).toEqual({ ok: true, replaced: false });
    expect(s.size).toBe(2);
    expect(s.pruneExpired(at)).toBe(1);
    expect(s.get(SVC, 'provider', at)).toHaveLength(1);
  });

  it('pruneExpired returns how many it dropped, and 0 when nothing is due', () => {
    const s = store();
    for (const [i, who] of ids.entries()) s.put(rec(who, { ttl: 10 * (i + 1) }), NOW);
    expect(s.pruneExpired(NOW)).toBe(0);
    expect(s.pruneExpired(NOW + 25_000)).toBe(2);
    expect(s.pruneExpired(NOW + 25_000)).toBe(0);
    expect(s.pruneExpired(NOW + 1e9)).toBe(3);
    expect(s.stats()).toEqual({ keys: 0, entries: 0, owners: 0, tombstones: 0, bytes: 0 });
  });

  it('getWithRemaining counts down on the local clock', () => {
    const s = store();
    s.put(rec(alice, { ttl: 60 }), NOW);
    for (const dt of [0, 1, 30_000, 59_999]) {
      expect(s.getWithRemaining(SVC, 'provider', NOW + dt)).toEqual([
        { record: expect.objectContaining({ ttl: 60 }), remainingMs: 60_000 - dt },
      ]);
    }
    expect(s.getWithRemaining(SVC, 'provider', NOW + 60_000)).toEqual([]);
  });
});

describe('RecordStore: absorb', () => {
  it('takes over live entries with their remaining life, and tombstones; skips what expired', () => {
    const src = store();
    src.put(rec(alice, { ttl: 10 }), NOW);
    src.put(rec(bob, { ttl: 300 }), NOW, 100_000);
    const carols = rec(carol);
    src.put(carols, NOW);
    src.remove(removal(carol, NOW), NOW);
    const dst = store();
    dst.put(rec(dave), NOW);
    const later = NOW + 20_000;
    dst.absorb(src, later);
    expect(owners(dst, later)).toEqual([bob.nodeIdHex, dave.nodeIdHex].sort());
    expect(
      dst.getWithRemaining(SVC, 'provider', later).find((e) => toHex(e.record.nodeId) === bob.nodeIdHex)?.remainingMs,
    ).toBe(80_000);
    expect(dst.stats().tombstones).toBe(1);
    expect(codeOf(dst.put(carols, later))).toBe(ErrorCode.STALE);
  });

  it("respects the receiving store's bounds and keeps its newer entries", () => {
    const src = store();
    for (const who of ids) src.put(rec(who), NOW);
    const dst = store({ maxEntriesPerKey: 2 });
    dst.put(rec(alice, { at: NOW + 5 }), NOW + 5);
    dst.absorb(src, NOW + 5);
    expect(dst.size).toBe(2);
    expect(dst.get(SVC, 'provider', NOW + 5).find((r) => toHex(r.nodeId) === alice.nodeIdHex)?.advertisedAt).toBe(
      NOW + 5,
    );
  });
});

describe('RecordStore: memory stays bounded under floods', () => {
  it('10,000 puts from 10,000 distinct owners at one key with a limit of 64 leave 64 entries', () => {
    const s = new RecordStore({ verify: acceptAll, maxEntriesPerKey: 64 });
    const r = seededRandom(4242);
    const codes = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const result = s.put(floodRecord(r), NOW + i);
      const code = result.ok ? 'ok' : result.code;
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    expect(Object.fromEntries(codes)).toEqual({ ok: 64, [ErrorCode.KEY_FULL]: 10_000 - 64 });
    expect(s.size).toBe(64);
    expect(s.stats()).toEqual({ keys: 1, entries: 64, owners: 64, tombstones: 0, bytes: expect.any(Number) });
    expect(s.get(SVC, 'provider', NOW + 10_000)).toHaveLength(64);
  });

  it('10,000 keys from one owner stop at its quota; 10,000 owners on distinct keys stop at maxKeys', () => {
    const r = seededRandom(4343);
    const one = floodRecord(r);
    const quota = new RecordStore({ verify: acceptAll, maxKeysPerOwner: 8 });
    let refused = 0;
    for (let i = 0; i < 10_000; i++) {
      const result = quota.put({ ...one, key: r.bytes(32) }, NOW);
      if (!result.ok) {
        expect(result.code).toBe(ErrorCode.OWNER_QUOTA);
        refused++;
      }
    }
    expect(refused).toBe(10_000 - 8);
    expect(quota.stats()).toEqual({ keys: 8, entries: 8, owners: 1, tombstones: 0, bytes: expect.any(Number) });

    const full = new RecordStore({ verify: acceptAll, maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) {
      const result = full.put(floodRecord(r, { key: r.bytes(32) }), NOW);
      if (!result.ok) expect(result.code).toBe(ErrorCode.STORE_FULL);
    }
    expect(full.stats()).toMatchObject({ keys: 100, entries: 100 });

    const entries = new RecordStore({ verify: acceptAll, maxEntries: 50 });
    for (let i = 0; i < 1_000; i++) entries.put(floodRecord(r, { key: r.bytes(32) }), NOW);
    expect(entries.size).toBe(50);
  });

  it('10,000 removals from distinct owners leave at most maxTombstones tombstones', () => {
    const r = seededRandom(4444);
    const s = new RecordStore({ verify: acceptAll, maxTombstones: 64 });
    for (let i = 0; i < 10_000; i++) expect(s.remove(floodRemoval(r), NOW).ok).toBe(true);
    expect(s.stats().tombstones).toBe(64);
    expect(s.stats().entries).toBe(0);
  });

  it('a store restored from a huge snapshot is bounded the same way', () => {
    const r = seededRandom(4545);
    const snapshot = {
      version: 1,
      entries: Array.from({ length: 5_000 }, () => ({ record: floodRecord(r), expiresAt: NOW + 60_000 })),
      tombstones: [],
    };
    const restored = RecordStore.fromJSON(snapshot, NOW, acceptAll, { maxEntriesPerKey: 16 });
    expect(restored.size).toBe(16);
  });
});

describe('RecordStore: persistence re-verifies', () => {
  it('drops each kind of tampered or foreign record from a snapshot and keeps the genuine ones', () => {
    const s = store();
    s.put(rec(alice), NOW);
    s.put(rec(bob), NOW);
    s.remove(removal(carol), NOW);
    const snapshot = decode(encode(s.toJSON(NOW))) as {
      entries: Array<{ record: Record<string, unknown>; expiresAt: number }>;
      tombstones: Array<{ removal: Record<string, unknown>; expiresAt: number }>;
    };
    const [a, b] = snapshot.entries as [(typeof snapshot.entries)[0], (typeof snapshot.entries)[0]];
    const tampered = [
      { ...a, record: { ...a.record, ttl: 86_400 } },
      { ...a, record: { ...a.record, metadata: { injected: true } } },
      { ...a, record: { ...a.record, nodeId: carol.nodeId } },
      { ...a, record: { ...a.record, signature: new Uint8Array(64) } },
      { ...a, record: { ...a.record, key: keyForName('elsewhere') } },
    ];
    const forgedTomb = {
      ...snapshot.tombstones[0]!,
      removal: { ...snapshot.tombstones[0]!.removal, removedAt: NOW + 1 },
    };
    const restored = RecordStore.fromJSON(
      { ...snapshot, entries: [...tampered, b], tombstones: [forgedTomb] },
      NOW,
      verify,
    );
    expect(owners(restored)).toEqual([bob.nodeIdHex]);
    expect(restored.stats().tombstones).toBe(0);
    for (const { key, kind } of restored.slotKeys()) {
      for (const r of restored.get(key, kind, NOW)) expect(checkRecord(r, NOW, verify).ok).toBe(true);
    }
  });
});
