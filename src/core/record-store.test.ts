import { decode, encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { MAX_CLOCK_SKEW_MS } from './constants.js';
import { seededRandom } from './environment.js';
import { ErrorCode } from './errors.js';
import { keyForName, toHex } from './id.js';
import { createIdentity, verify, type Identity } from './identity.js';
import { RecordStore } from './record-store.js';
import { signRecord, signRemoval, type RecordKind, type SignedRecord } from './records.js';

const ids = Array.from({ length: 5 }, (_, i) => createIdentity(seededRandom(100 + i).bytes));
const [alice, bob, carol, dave] = ids as [Identity, Identity, Identity, Identity, Identity];
const NOW = 1_700_000_000_000;
const SVC = keyForName('energy.home.get');

const rec = (who: Identity, over: { key?: Uint8Array; kind?: RecordKind; at?: number; ttl?: number; endpoint?: string } = {}): SignedRecord =>
  signRecord({
    kind: over.kind ?? 'provider', key: over.key ?? SVC, endpoint: over.endpoint ?? `peer:${who.nodeIdHex}`,
    metadata: {}, advertisedAt: over.at ?? NOW, ttl: over.ttl ?? 300,
  }, who);
const removal = (who: Identity, at = NOW, key = SVC, kind: RecordKind = 'provider') => signRemoval({ kind, key, removedAt: at }, who);
const store = (opts: Partial<ConstructorParameters<typeof RecordStore>[0]> = {}): RecordStore => new RecordStore({ verify, ...opts });
const owners = (s: RecordStore, now = NOW, key = SVC): string[] => s.get(key, 'provider', now).map((r) => toHex(r.nodeId)).sort();
const codeOf = (r: { ok: boolean; code?: string }): string | undefined => (r.ok ? undefined : r.code);

describe('RecordStore: put and upsert', () => {
  it('stores many owners side by side and upserts by node id', () => {
    const s = store();
    expect(s.put(rec(alice), NOW)).toEqual({ ok: true, replaced: false });
    expect(s.put(rec(bob), NOW)).toEqual({ ok: true, replaced: false });
    expect(owners(s)).toEqual([alice.nodeIdHex, bob.nodeIdHex].sort());
    const newer = rec(alice, { at: NOW + 1000, endpoint: 'peer:new' });
    expect(s.put(newer, NOW + 1000)).toEqual({ ok: true, replaced: true });
    expect(s.get(SVC, 'provider', NOW + 1000).find((r) => toHex(r.nodeId) === alice.nodeIdHex)?.endpoint).toBe('peer:new');
    expect(codeOf(s.put(rec(alice), NOW + 1000))).toBe(ErrorCode.STALE);
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
    expect(s.getWithRemaining(SVC, 'provider', NOW + 15_000)).toEqual([{ record: expect.anything(), remainingMs: 5_000 }]);
    expect(s.size).toBe(3);
    expect(s.pruneExpired(NOW + 10_000)).toBe(1);
    expect(s.pruneExpired(NOW + 20_000)).toBe(2);
    expect(s.size).toBe(0);
    expect(s.stats()).toEqual({ keys: 0, entries: 0, owners: 0, tombstones: 0 });
    expect(s.keys()).toEqual([]);
  });

  it('remainingMs only ever shortens a record’s life here', () => {
    const s = store();
    s.put(rec(alice), NOW, 10 * 60_000);
    expect(s.getWithRemaining(SVC, 'provider', NOW)[0]?.remainingMs).toBe(300_000);
    s.put(rec(bob), NOW, 5_000);
    expect(s.entriesForKey(SVC, 'provider').find((e) => toHex(e.record.nodeId) === bob.nodeIdHex)?.expiresAt).toBe(NOW + 5_000);
    expect(codeOf(s.put(rec(carol), NOW, 0))).toBe(ErrorCode.EXPIRED);
    expect(codeOf(s.put(rec(carol), NOW, -1))).toBe(ErrorCode.EXPIRED);

    // Handing on through a chain of replicas never gains time.
    const a = store();
    const b = store();
    a.put(rec(alice), NOW);
    for (const { record, remainingMs } of a.getWithRemaining(SVC, 'provider', NOW + 100_000)) b.put(record, NOW + 100_000, remainingMs);
    expect(b.getWithRemaining(SVC, 'provider', NOW + 100_000)[0]?.remainingMs).toBe(200_000);
    expect(b.get(SVC, 'provider', NOW + 300_000)).toEqual([]);
  });

  it('a replayed old record gets no fresh ttl (bounded by its signed deadline)', () => {
    const s = store();
    const old = rec(alice, { at: NOW - 18 * 60_000, ttl: 300 });
    expect(s.put(old, NOW).ok).toBe(true);
    // advertisedAt + ttl + skew = NOW + 2 min: that is all it can get.
    expect(s.getWithRemaining(SVC, 'provider', NOW)[0]?.remainingMs).toBe(2 * 60_000);
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
    expect(s.remove(removal(carol, NOW + 1), NOW + 1)).toEqual({ ok: true, removed: false });
    expect(owners(s, NOW + 1)).toEqual([alice.nodeIdHex, bob.nodeIdHex].sort());
    expect(s.remove(removal(alice, NOW + 1), NOW + 1)).toEqual({ ok: true, removed: true });
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

  it('tombstones expire once the record could no longer be stored anyway', () => {
    const s = store();
    s.put(rec(alice, { ttl: 60 }), NOW);
    s.remove(removal(alice, NOW), NOW);
    const deadline = NOW + 60_000 + MAX_CLOCK_SKEW_MS;
    s.pruneExpired(deadline - 1);
    expect(s.stats().tombstones).toBe(1);
    s.pruneExpired(deadline);
    expect(s.stats().tombstones).toBe(0);
  });

  it('bounds tombstones per owner and overall', () => {
    const keys = Array.from({ length: 4 }, (_, i) => keyForName(`t${i}`));
    const perOwner = store({ maxKeysPerOwner: 2 });
    for (const k of keys) perOwner.remove(removal(alice, NOW, k), NOW);
    expect(perOwner.stats().tombstones).toBe(2);
    const overall = store({ maxTombstones: 3 });
    for (const who of [alice, bob]) for (const k of keys.slice(0, 2)) overall.remove(removal(who, NOW, k), NOW);
    expect(overall.stats().tombstones).toBe(3);
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
    for (const junk of [null, 'x', [], { entries: 'x' }, { entries: [null, 1, { record: null, expiresAt: NOW + 1 }] }, { tombstones: [{}] }]) {
      expect(() => RecordStore.fromJSON(junk, NOW, verify)).not.toThrow();
      expect(RecordStore.fromJSON(junk, NOW, verify).size).toBe(0);
    }
    // A snapshot cannot extend a lifetime beyond what the record itself allows.
    const stretched = { entries: [{ record: first.record, expiresAt: NOW + 10 * 3_600_000 }] };
    expect(RecordStore.fromJSON(stretched, NOW, verify).getWithRemaining(SVC, 'provider', NOW)[0]?.remainingMs).toBe(300_000);
  });
});
