import { decode, encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { MAX_CLOCK_SKEW_MS, MAX_ENDPOINT_CHARS, MAX_METADATA_BYTES, MAX_TTL_S } from './constants.js';
import { seededRandom } from './environment.js';
import { ErrorCode, isMeshError } from './errors.js';
import { keyForName, toHex } from './id.js';
import { createIdentity, verify } from './identity.js';
import {
  checkRecord, checkRemoval, recordSigningBytes, removalSigningBytes, signRecord, signRemoval, toProviderInfo,
  type SignedRecord, type UnsignedRecord,
} from './records.js';

const alice = createIdentity(seededRandom(1).bytes);
const bob = createIdentity(seededRandom(2).bytes);
const NOW = 1_700_000_000_000;
const key = keyForName('energy.home.get');

const fields = (over: Partial<UnsignedRecord> = {}): UnsignedRecord => ({
  kind: 'provider', key, endpoint: 'peer:alice', metadata: { region: 'eu', weight: 3 }, advertisedAt: NOW, ttl: 300, ...over,
});

const base = signRecord(fields(), alice);
/** The record as another node receives it: through MessagePack. */
const wire = (v: unknown): unknown => decode(encode(v));
const codeOf = (r: { ok: boolean; code?: string }): string | undefined => (r.ok ? undefined : r.code);

describe('signRecord / checkRecord', () => {
  it('round-trips, also through the wire, keeping only the known fields', () => {
    const checked = checkRecord(wire({ ...base, extra: 'dropped' }), NOW, verify);
    expect(checked.ok).toBe(true);
    if (!checked.ok) return;
    expect(checked.record).toEqual(base);
    expect('extra' in checked.record).toBe(false);
    expect(toHex(checked.record.nodeId)).toBe(alice.nodeIdHex);
  });

  it('keeps own copies of the byte arrays, never views of the received frame', () => {
    const frame = encode(base);
    const received = decode(frame) as SignedRecord;
    const checked = checkRecord(received, NOW, verify);
    if (!checked.ok) throw new Error(checked.reason);
    expect(checked.record.key.buffer).not.toBe(received.key.buffer);
    expect(checked.record.signature.byteLength).toBe(checked.record.signature.buffer.byteLength);
  });

  it('signs metadata canonically: key order does not matter', () => {
    const a = signRecord(fields({ metadata: { a: 1, b: { y: 2, x: 1 } } }), alice);
    const reordered = { ...a, metadata: { b: { x: 1, y: 2 }, a: 1 } };
    expect(checkRecord(reordered, NOW, verify).ok).toBe(true);
  });

  it('normalizes metadata to its MessagePack form (undefined becomes null)', () => {
    const r = signRecord(fields({ metadata: { gone: undefined, n: 1 } }), alice);
    expect(r.metadata).toEqual({ gone: null, n: 1 });
    expect(checkRecord(wire(r), NOW, verify).ok).toBe(true);
  });

  it('refuses a forged record (BAD_SIGNATURE)', () => {
    expect(codeOf(checkRecord({ ...base, endpoint: 'peer:mallory' }, NOW, verify))).toBe(ErrorCode.BAD_SIGNATURE);
    expect(codeOf(checkRecord({ ...base, metadata: { region: 'us', weight: 3 } }, NOW, verify))).toBe(ErrorCode.BAD_SIGNATURE);
    expect(codeOf(checkRecord({ ...base, kind: 'subscriber' }, NOW, verify))).toBe(ErrorCode.BAD_SIGNATURE);
    const sig = new Uint8Array(base.signature);
    sig[0] = sig[0]! ^ 1;
    expect(codeOf(checkRecord({ ...base, signature: sig }, NOW, verify))).toBe(ErrorCode.BAD_SIGNATURE);
    // Bob re-signs Alice's record under his own key but keeps her node id.
    const bobs = signRecord(fields(), bob);
    expect(codeOf(checkRecord({ ...bobs, nodeId: alice.nodeId }, NOW, verify))).toBe(ErrorCode.WRONG_OWNER);
  });

  it("refuses someone else's node id (WRONG_OWNER)", () => {
    expect(codeOf(checkRecord({ ...base, nodeId: bob.nodeId }, NOW, verify))).toBe(ErrorCode.WRONG_OWNER);
  });

  it('refuses expired and future-dated records, with the skew allowance', () => {
    const ttlMs = base.ttl * 1000;
    expect(checkRecord(base, NOW + ttlMs + MAX_CLOCK_SKEW_MS, verify).ok).toBe(true);
    expect(codeOf(checkRecord(base, NOW + ttlMs + MAX_CLOCK_SKEW_MS + 1, verify))).toBe(ErrorCode.EXPIRED);
    expect(checkRecord(base, NOW - MAX_CLOCK_SKEW_MS, verify).ok).toBe(true);
    expect(codeOf(checkRecord(base, NOW - MAX_CLOCK_SKEW_MS - 1, verify))).toBe(ErrorCode.FUTURE_DATED);
  });

  it('refuses oversized metadata and endpoints (TOO_LARGE)', () => {
    const big = { blob: 'x'.repeat(MAX_METADATA_BYTES) };
    expect(codeOf(checkRecord({ ...base, metadata: big }, NOW, verify))).toBe(ErrorCode.TOO_LARGE);
    expect(codeOf(checkRecord({ ...base, endpoint: 'e'.repeat(MAX_ENDPOINT_CHARS + 1) }, NOW, verify))).toBe(ErrorCode.TOO_LARGE);
    expect(() => signRecord(fields({ metadata: big }), alice)).toThrow(expect.objectContaining({ code: ErrorCode.TOO_LARGE }));
  });

  it('refuses a bad ttl (MALFORMED)', () => {
    for (const ttl of [0, -1, 1.5, MAX_TTL_S + 1, Number.NaN, Infinity, '300', null]) {
      expect(codeOf(checkRecord({ ...base, ttl }, NOW, verify))).toBe(ErrorCode.MALFORMED);
    }
    let thrown: unknown;
    try {
      signRecord(fields({ ttl: 0 }), alice);
    } catch (e) {
      thrown = e;
    }
    expect(isMeshError(thrown) && thrown.code).toBe(ErrorCode.INVALID_ARGUMENT);
  });

  it('refuses junk shapes without throwing', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const hostile = new Proxy({}, { get() { throw new Error('boom'); }, ownKeys() { throw new Error('boom'); } });
    class Meta { x = 1; }
    const { signature: _s, ...unsigned } = base;
    const junk: unknown[] = [
      null, undefined, 0, 'record', [], [base], new Uint8Array(10), {}, hostile, unsigned,
      { ...base, kind: 'publisher' }, { ...base, key: new Uint8Array(31) }, { ...base, key: Array.from(base.key) },
      { ...base, publicKey: new Uint8Array(33) }, { ...base, nodeId: 'ab'.repeat(32) }, { ...base, signature: new Uint8Array(63) },
      { ...base, endpoint: 42 }, { ...base, metadata: null }, { ...base, metadata: [] }, { ...base, metadata: 'm' },
      { ...base, metadata: new Meta() }, { ...base, metadata: new Map() }, { ...base, metadata: { f: () => 1 } },
      { ...base, metadata: cyclic }, { ...base, advertisedAt: Number.NaN }, { ...base, advertisedAt: '1' },
      { ...base, advertisedAt: undefined },
    ];
    for (const j of junk) {
      let result: ReturnType<typeof checkRecord> | undefined;
      expect(() => { result = checkRecord(j, NOW, verify); }).not.toThrow();
      expect(result?.ok).toBe(false);
      expect([ErrorCode.MALFORMED, ErrorCode.TOO_LARGE]).toContain(codeOf(result!));
    }
  });

  it('treats a throwing verifier as a bad signature', () => {
    const throwing = (): boolean => { throw new Error('verifier down'); };
    expect(codeOf(checkRecord(base, NOW, throwing))).toBe(ErrorCode.BAD_SIGNATURE);
  });

  it('domain-separates record and removal bytes', () => {
    const rec = recordSigningBytes(base);
    const rem = removalSigningBytes({ kind: 'provider', key, publicKey: alice.publicKey, removedAt: NOW });
    expect(decode(rec)).toEqual(expect.arrayContaining(['macula-web/record/v1']));
    expect(decode(rem)).toEqual(expect.arrayContaining(['macula-web/removal/v1']));
    expect(recordSigningBytes(base)).toEqual(rec);
  });

  it('gives the public ProviderInfo shape', () => {
    expect(toProviderInfo(base)).toEqual({
      nodeId: alice.nodeIdHex, endpoint: 'peer:alice', metadata: { region: 'eu', weight: 3 }, advertisedAt: NOW, ttl: 300,
    });
  });
});

describe('signRemoval / checkRemoval', () => {
  const removal = signRemoval({ kind: 'provider', key, removedAt: NOW }, alice);

  it('round-trips through the wire', () => {
    const checked = checkRemoval(wire(removal), NOW, verify);
    expect(checked.ok && checked.removal).toEqual(removal);
  });

  it('refuses forged, foreign, future and hopelessly old removals', () => {
    expect(codeOf(checkRemoval({ ...removal, removedAt: NOW + 1 }, NOW, verify))).toBe(ErrorCode.BAD_SIGNATURE);
    expect(codeOf(checkRemoval({ ...removal, kind: 'subscriber' }, NOW, verify))).toBe(ErrorCode.BAD_SIGNATURE);
    expect(codeOf(checkRemoval({ ...removal, nodeId: bob.nodeId }, NOW, verify))).toBe(ErrorCode.WRONG_OWNER);
    // Bob's key signing a removal that claims Alice's identity.
    const bobs = signRemoval({ kind: 'provider', key, removedAt: NOW }, bob);
    expect(codeOf(checkRemoval({ ...bobs, publicKey: alice.publicKey, nodeId: alice.nodeId }, NOW, verify))).toBe(ErrorCode.BAD_SIGNATURE);
    expect(codeOf(checkRemoval(removal, NOW - MAX_CLOCK_SKEW_MS - 1, verify))).toBe(ErrorCode.FUTURE_DATED);
    expect(codeOf(checkRemoval(removal, NOW + MAX_TTL_S * 1000 + MAX_CLOCK_SKEW_MS + 1, verify))).toBe(ErrorCode.EXPIRED);
  });

  it('refuses junk without throwing', () => {
    for (const j of [null, [], 'x', {}, { ...removal, removedAt: 'now' }, { ...removal, key: new Uint8Array(5) }, base]) {
      const result = checkRemoval(j, NOW, verify);
      expect(codeOf(result)).toBe(ErrorCode.MALFORMED);
    }
  });
});
