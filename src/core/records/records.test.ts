import { decode, encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { MAX_CLOCK_SKEW_MS, MAX_ENDPOINT_CHARS, MAX_METADATA_BYTES, MAX_TTL_S } from '../constants.js';
import { seededRandom, type Random } from '../environment.js';
import { ErrorCode, isMeshError } from '../errors.js';
import { keyForName, toHex } from '../id.js';
import { createIdentity, memoizedVerifier, verify, type Verifier } from '../identity.js';
import {
  checkRecord,
  checkRemoval,
  recordDeadline,
  recordSigningBytes,
  removalSigningBytes,
  signRecord,
  signRemoval,
  toProviderInfo,
  type RefusalCode,
  type SignedRecord,
  type UnsignedRecord,
} from './records.js';

const alice = createIdentity(seededRandom(1).bytes);
const bob = createIdentity(seededRandom(2).bytes);
const NOW = 1_700_000_000_000;
const key = keyForName('energy.home.get');
/** Records below are checked many times over; the answer for the same bytes never changes. */
const verifyOnce: Verifier = memoizedVerifier();

const fields = (over: Partial<UnsignedRecord> = {}): UnsignedRecord => ({
  kind: 'provider',
  key,
  endpoint: 'peer:alice',
  metadata: { region: 'eu', weight: 3 },
  advertisedAt: NOW,
  ttl: 300,
  ...over,
});

const base = signRecord(fields(), alice);
/** The record as another node receives it: through MessagePack. */
const wire = (v: unknown): unknown => decode(encode(v));
const codeOf = (r: { ok: boolean; code?: string }): string | undefined => (r.ok ? undefined : r.code);
const REFUSALS: ReadonlySet<string> = new Set<RefusalCode>([
  ErrorCode.MALFORMED,
  ErrorCode.TOO_LARGE,
  ErrorCode.WRONG_OWNER,
  ErrorCode.BAD_SIGNATURE,
  ErrorCode.FUTURE_DATED,
  ErrorCode.EXPIRED,
]);
const RECORD_FIELDS = [
  'kind',
  'key',
  'publicKey',
  'nodeId',
  'endpoint',
  'metadata',
  'advertisedAt',
  'ttl',
  'signature',
] as const;

const without = (o: object, field: string): Record<string, unknown> => {
  const copy: Record<string, unknown> = { ...o };
  delete copy[field];
  return copy;
};

/** Junk of every shape, for the never-throws properties. */
function junk(r: Random, depth = 0): unknown {
  switch (Math.floor(r.next() * (depth > 2 ? 8 : 11))) {
    case 0:
      return Math.floor(r.next() * 2 ** 40) - 2 ** 39;
    case 1:
      return [Number.NaN, Infinity, -Infinity, -0, 1.5, 2 ** 53][Math.floor(r.next() * 6)];
    case 2:
      return 'x'.repeat(Math.floor(r.next() * 20));
    case 3:
      return r.bytes(Math.floor(r.next() * 70));
    case 4:
      return r.bytes([31, 32, 33, 64][Math.floor(r.next() * 4)]!);
    case 5:
      return [null, undefined, true, false][Math.floor(r.next() * 4)];
    case 6:
      return [10n, Symbol('s'), () => 1, new Date(0), new Map(), new Uint16Array(16)][Math.floor(r.next() * 6)];
    case 7:
      return ['provider', 'subscriber', 'publisher'][Math.floor(r.next() * 3)];
    case 8:
      return Array.from({ length: Math.floor(r.next() * 4) }, () => junk(r, depth + 1));
    case 9: {
      const o: Record<string, unknown> = {};
      for (const f of RECORD_FIELDS) if (r.next() < 0.5) o[f] = junk(r, depth + 1);
      return o;
    }
    default:
      return { ...base, [RECORD_FIELDS[Math.floor(r.next() * RECORD_FIELDS.length)]!]: junk(r, depth + 1) };
  }
}

describe('signRecord / checkRecord: the round trip', () => {
  it('round-trips, also through the wire, keeping only the known fields', () => {
    const checked = checkRecord(wire({ ...base, extra: 'dropped' }), NOW, verify);
    expect(checked.ok).toBe(true);
    if (!checked.ok) return;
    expect(checked.record).toEqual(base);
    expect(Object.keys(checked.record).sort()).toEqual([...RECORD_FIELDS].sort());
    expect(toHex(checked.record.nodeId)).toBe(alice.nodeIdHex);
    expect(checked.record.publicKey).toEqual(alice.publicKey);
  });

  it('signs both kinds, and a record passes right up to the end of its skew allowance', () => {
    const sub = signRecord(fields({ kind: 'subscriber', ttl: MAX_TTL_S, metadata: {} }), bob);
    expect(checkRecord(wire(sub), NOW, verify)).toMatchObject({
      ok: true,
      record: { kind: 'subscriber', ttl: MAX_TTL_S },
    });
    expect(recordDeadline(sub)).toBe(NOW + MAX_TTL_S * 1000 + MAX_CLOCK_SKEW_MS);
    expect(checkRecord(sub, recordDeadline(sub), verify).ok).toBe(true);
    expect(codeOf(checkRecord(sub, recordDeadline(sub) + 1, verify))).toBe(ErrorCode.EXPIRED);
  });

  it('keeps own copies of the byte arrays, never views of the received frame', () => {
    const frame = encode(base);
    const received = decode(frame) as SignedRecord;
    const checked = checkRecord(received, NOW, verify);
    if (!checked.ok) throw new Error(checked.reason);
    for (const f of ['key', 'publicKey', 'nodeId', 'signature'] as const) {
      expect(checked.record[f].buffer).not.toBe(received[f].buffer);
      expect(checked.record[f].byteLength).toBe(checked.record[f].buffer.byteLength);
    }
    // Mutating what was received afterwards changes nothing in the checked record.
    received.key.fill(0);
    expect(checked.record.key).toEqual(key);
  });

  it('signs metadata canonically: key order does not matter', () => {
    const a = signRecord(fields({ metadata: { a: 1, y: 2, x: 'one' } }), alice);
    const reordered = { ...a, metadata: { x: 'one', a: 1, y: 2 } };
    expect(checkRecord(reordered, NOW, verify).ok).toBe(true);
  });

  it('normalizes metadata to its MessagePack form (undefined becomes null)', () => {
    const r = signRecord(fields({ metadata: { gone: undefined, n: 1 } }), alice);
    expect(r.metadata).toEqual({ gone: null, n: 1 });
    expect(checkRecord(wire(r), NOW, verify).ok).toBe(true);
  });

  it('does not keep the caller’s byte arrays or metadata object', () => {
    const ownKey = new Uint8Array(key);
    const metadata = { n: 1 };
    const r = signRecord(fields({ key: ownKey, metadata }), alice);
    ownKey.fill(7);
    metadata.n = 2;
    expect(r.key).toEqual(key);
    expect(r.metadata).toEqual({ n: 1 });
    expect(checkRecord(r, NOW, verify).ok).toBe(true);
  });

  it('throws INVALID_ARGUMENT or TOO_LARGE on bad local input, naming the field', () => {
    const cases: Array<[Partial<UnsignedRecord>, string, string]> = [
      [{ ttl: 0 }, 'ttl', ErrorCode.INVALID_ARGUMENT],
      [{ kind: 'x' as never }, 'kind', ErrorCode.INVALID_ARGUMENT],
      [{ key: new Uint8Array(31) }, 'key', ErrorCode.INVALID_ARGUMENT],
      [{ advertisedAt: Number.NaN }, 'advertisedAt', ErrorCode.INVALID_ARGUMENT],
      [{ metadata: [] as never }, 'metadata', ErrorCode.INVALID_ARGUMENT],
      [{ endpoint: 'e'.repeat(MAX_ENDPOINT_CHARS + 1) }, 'endpoint', ErrorCode.TOO_LARGE],
    ];
    for (const [over, field, code] of cases) {
      let thrown: unknown;
      try {
        signRecord(fields(over), alice);
      } catch (e) {
        thrown = e;
      }
      expect(isMeshError(thrown) && thrown.code).toBe(code);
      expect(isMeshError(thrown) && thrown.details?.argument).toBe(field);
    }
    expect(() => signRecord(null as never, alice)).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT }),
    );
  });
});

describe('checkRecord: each refusal code', () => {
  it('MALFORMED: junk shapes', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    class Meta {
      x = 1;
    }
    const shapes: unknown[] = [
      null,
      undefined,
      0,
      1.5,
      -1,
      Number.NaN,
      10n,
      true,
      'record',
      '',
      Symbol('r'),
      () => base,
      [],
      [base],
      Object.values(base),
      new Uint8Array(10),
      new Map(Object.entries(base)),
      new Date(),
      {},
      { ...base, kind: 'publisher' },
      { ...base, kind: 0 },
      { ...base, endpoint: 42 },
      { ...base, endpoint: null },
      { ...base, metadata: null },
      { ...base, metadata: [] },
      { ...base, metadata: 'm' },
      { ...base, metadata: new Uint8Array(2) },
      { ...base, metadata: new Meta() },
      { ...base, metadata: new Map() },
      { ...base, metadata: { f: () => 1 } },
      { ...base, metadata: { big: 1n } },
      { ...base, metadata: cyclic },
      { ...base, metadata: JSON.parse('{"__proto__": 1}') },
      { ...base, advertisedAt: Number.NaN },
      { ...base, advertisedAt: Infinity },
      { ...base, advertisedAt: '1' },
      { ...base, advertisedAt: null },
    ];
    for (const shape of shapes) expect(codeOf(checkRecord(shape, NOW, verify))).toBe(ErrorCode.MALFORMED);
  });

  it('MALFORMED: each field missing', () => {
    for (const f of RECORD_FIELDS) {
      expect({ f, code: codeOf(checkRecord(without(base, f), NOW, verify)) }).toEqual({ f, code: ErrorCode.MALFORMED });
      expect({ f, code: codeOf(checkRecord(wire(without(base, f)), NOW, verify)) }).toEqual({
        f,
        code: ErrorCode.MALFORMED,
      });
    }
  });

  it('MALFORMED: wrong lengths and wrong byte containers', () => {
    const lengths: Array<[string, number[]]> = [
      ['key', [0, 31, 33]],
      ['publicKey', [0, 31, 33, 64]],
      ['nodeId', [0, 31, 33]],
      ['signature', [0, 63, 65]],
    ];
    for (const [f, sizes] of lengths) {
      for (const n of sizes)
        expect({ f, n, code: codeOf(checkRecord({ ...base, [f]: new Uint8Array(n) }, NOW, verify)) }).toEqual({
          f,
          n,
          code: ErrorCode.MALFORMED,
        });
      const right = base[f as 'key'];
      for (const other of [
        Array.from(right),
        toHex(right),
        new Uint16Array(right.length / 2),
        new DataView(right.buffer),
        right.buffer,
      ]) {
        expect(codeOf(checkRecord({ ...base, [f]: other }, NOW, verify))).toBe(ErrorCode.MALFORMED);
      }
    }
  });

  it('MALFORMED: ttl out of range or not an integer', () => {
    for (const ttl of [0, -1, 1.5, MAX_TTL_S + 1, Number.NaN, Infinity, '300', null, undefined]) {
      expect(codeOf(checkRecord({ ...base, ttl }, NOW, verify))).toBe(ErrorCode.MALFORMED);
    }
  });

  it('TOO_LARGE: metadata over its byte bound, endpoint over its character bound (and exactly at the bound is fine)', () => {
    // A one-entry map {b: str16} encodes as 1 + 2 + 3 + n bytes.
    const atBound = signRecord(fields({ metadata: { b: 'x'.repeat(MAX_METADATA_BYTES - 6) } }), alice);
    expect(checkRecord(wire(atBound), NOW, verify).ok).toBe(true);
    expect(codeOf(checkRecord({ ...atBound, metadata: { b: 'x'.repeat(MAX_METADATA_BYTES - 5) } }, NOW, verify))).toBe(
      ErrorCode.TOO_LARGE,
    );
    expect(
      codeOf(checkRecord({ ...base, metadata: { a: 'x'.repeat(1_000), b: 'y'.repeat(1_100) } }, NOW, verify)),
    ).toBe(ErrorCode.TOO_LARGE);

    const longest = signRecord(fields({ endpoint: 'e'.repeat(MAX_ENDPOINT_CHARS) }), alice);
    expect(checkRecord(wire(longest), NOW, verify).ok).toBe(true);
    expect(codeOf(checkRecord({ ...base, endpoint: 'e'.repeat(MAX_ENDPOINT_CHARS + 1) }, NOW, verify))).toBe(
      ErrorCode.TOO_LARGE,
    );
    expect(() => signRecord(fields({ metadata: { b: 'x'.repeat(MAX_METADATA_BYTES) } }), alice)).toThrow(
      expect.objectContaining({ code: ErrorCode.TOO_LARGE }),
    );
  });

  it("WRONG_OWNER: A's public key with B's node id (either way round), even with a valid signature", () => {
    expect(codeOf(checkRecord({ ...base, nodeId: bob.nodeId }, NOW, verify))).toBe(ErrorCode.WRONG_OWNER);
    expect(codeOf(checkRecord({ ...base, publicKey: bob.publicKey }, NOW, verify))).toBe(ErrorCode.WRONG_OWNER);
    // Bob signs a record of his own but claims Alice's node id.
    const bobs = signRecord(fields(), bob);
    expect(codeOf(checkRecord({ ...bobs, nodeId: alice.nodeId }, NOW, verify))).toBe(ErrorCode.WRONG_OWNER);
    expect(codeOf(checkRecord(wire({ ...bobs, nodeId: alice.nodeId }), NOW, verify))).toBe(ErrorCode.WRONG_OWNER);
  });

  it('BAD_SIGNATURE: any signed field altered after signing', () => {
    const altered: Array<[string, Partial<Record<keyof SignedRecord, unknown>>]> = [
      ['metadata', { metadata: { region: 'us', weight: 3 } }],
      ['metadata (added entry)', { metadata: { region: 'eu', weight: 3, extra: true } }],
      ['metadata (emptied)', { metadata: {} }],
      ['ttl', { ttl: 301 }],
      ['ttl (shorter)', { ttl: 1 }],
      ['endpoint', { endpoint: 'peer:mallory' }],
      ['endpoint (emptied)', { endpoint: '' }],
      ['advertisedAt', { advertisedAt: NOW + 1 }],
      ['advertisedAt (earlier)', { advertisedAt: NOW - 60_000 }],
      ['kind', { kind: 'subscriber' }],
      ['key', { key: keyForName('other.service') }],
      // Bob's key and id: consistent ownership, but Alice's signature.
      ['publicKey + nodeId', { publicKey: bob.publicKey, nodeId: bob.nodeId }],
      ['signature', { signature: base.signature.map((b, i) => (i === 0 ? b ^ 1 : b)) }],
      ['signature (zeros)', { signature: new Uint8Array(64) }],
      ['signature (of another record)', { signature: signRecord(fields({ endpoint: 'other' }), alice).signature }],
    ];
    for (const [what, over] of altered) {
      expect({ what, code: codeOf(checkRecord({ ...base, ...over }, NOW, verifyOnce)) }).toEqual({
        what,
        code: ErrorCode.BAD_SIGNATURE,
      });
      expect({ what, code: codeOf(checkRecord(wire({ ...base, ...over }), NOW, verifyOnce)) }).toEqual({
        what,
        code: ErrorCode.BAD_SIGNATURE,
      });
    }
  });

  it('EXPIRED and FUTURE_DATED, with the skew allowance on both sides', () => {
    const ttlMs = base.ttl * 1000;
    expect(checkRecord(base, NOW + ttlMs + MAX_CLOCK_SKEW_MS, verify).ok).toBe(true);
    expect(codeOf(checkRecord(base, NOW + ttlMs + MAX_CLOCK_SKEW_MS + 1, verify))).toBe(ErrorCode.EXPIRED);
    expect(codeOf(checkRecord(base, NOW + 10 * 86_400_000, verify))).toBe(ErrorCode.EXPIRED);
    expect(checkRecord(base, NOW - MAX_CLOCK_SKEW_MS, verify).ok).toBe(true);
    expect(codeOf(checkRecord(base, NOW - MAX_CLOCK_SKEW_MS - 1, verify))).toBe(ErrorCode.FUTURE_DATED);
    // Dates are checked before the signature: a forged far-future record is refused for its date.
    expect(codeOf(checkRecord({ ...base, advertisedAt: NOW + 86_400_000 }, NOW, verify))).toBe(ErrorCode.FUTURE_DATED);
    expect(codeOf(checkRecord({ ...base, advertisedAt: 0 }, NOW, verify))).toBe(ErrorCode.EXPIRED);
  });

  it('treats a throwing or lying verifier as a bad signature', () => {
    const throwing = (): boolean => {
      throw new Error('verifier down');
    };
    expect(codeOf(checkRecord(base, NOW, throwing))).toBe(ErrorCode.BAD_SIGNATURE);
    expect(codeOf(checkRecord(base, NOW, () => 1 as unknown as boolean))).toBe(ErrorCode.BAD_SIGNATURE);
  });

  it('never throws, whatever it is given (2,000 seeded junk values, hostile objects)', () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('boom');
        },
        has() {
          throw new Error('boom');
        },
        ownKeys() {
          throw new Error('boom');
        },
      },
    );
    const getter = Object.defineProperty({ ...base }, 'metadata', {
      get() {
        throw new Error('boom');
      },
      enumerable: true,
    });
    const r = seededRandom(77);
    // A verifier that refuses everything keeps this cheap; the property is about the checks before it.
    const refuseAll: Verifier = () => false;
    const inputs: unknown[] = [hostile, getter, Object.create(null), Object.create(base)];
    for (let i = 0; i < 2_000; i++) inputs.push(junk(r));
    for (const input of inputs) {
      let result: ReturnType<typeof checkRecord> | undefined;
      expect(() => {
        result = checkRecord(input, NOW, refuseAll);
      }).not.toThrow();
      expect(result?.ok).toBe(false);
      expect(REFUSALS.has(codeOf(result!)!)).toBe(true);
      expect(typeof (result as { reason?: unknown }).reason).toBe('string');
    }
  });
});

describe('signing bytes', () => {
  it('domain-separates record and removal bytes', () => {
    const rec = recordSigningBytes(base);
    const rem = removalSigningBytes({ kind: 'provider', key, publicKey: alice.publicKey, removedAt: NOW });
    expect(decode(rec)).toEqual(expect.arrayContaining(['macula-web/record/v1']));
    expect(decode(rem)).toEqual(expect.arrayContaining(['macula-web/removal/v1']));
    expect(recordSigningBytes(base)).toEqual(rec);
    // A record's signature is no removal signature, for the same owner and key.
    const asRemoval = {
      kind: 'provider',
      key,
      publicKey: alice.publicKey,
      nodeId: alice.nodeId,
      removedAt: NOW,
      signature: base.signature,
    };
    expect(codeOf(checkRemoval(asRemoval, NOW, verify))).toBe(ErrorCode.BAD_SIGNATURE);
  });
});

describe('toProviderInfo', () => {
  it('gives the public ProviderInfo shape and nothing else', () => {
    const info = toProviderInfo(base);
    expect(info).toEqual({
      nodeId: alice.nodeIdHex,
      endpoint: 'peer:alice',
      metadata: { region: 'eu', weight: 3 },
      advertisedAt: NOW,
      ttl: 300,
    });
    expect(Object.keys(info).sort()).toEqual(['advertisedAt', 'endpoint', 'metadata', 'nodeId', 'ttl']);
    expect(info.nodeId).toMatch(/^[0-9a-f]{64}$/);
    // It survives structured cloning (the worker boundary) unchanged.
    expect(structuredClone(info)).toEqual(info);
  });
});

describe('signRemoval / checkRemoval', () => {
  const removal = signRemoval({ kind: 'provider', key, removedAt: NOW }, alice);
  const REMOVAL_FIELDS = ['kind', 'key', 'publicKey', 'nodeId', 'removedAt', 'signature'] as const;

  it('round-trips through the wire, keeping only the known fields', () => {
    const checked = checkRemoval(wire({ ...removal, extra: 1 }), NOW, verify);
    expect(checked.ok && checked.removal).toEqual(removal);
    expect(checked.ok && Object.keys(checked.removal).sort()).toEqual([...REMOVAL_FIELDS].sort());
  });

  it('BAD_SIGNATURE: any signed field altered', () => {
    const altered: Array<Record<string, unknown>> = [
      { removedAt: NOW + 1 },
      { removedAt: NOW - 1 },
      { kind: 'subscriber' },
      { key: keyForName('other') },
      { publicKey: bob.publicKey, nodeId: bob.nodeId },
      { signature: new Uint8Array(64) },
    ];
    for (const over of altered)
      expect(codeOf(checkRemoval({ ...removal, ...over }, NOW, verifyOnce))).toBe(ErrorCode.BAD_SIGNATURE);
    // Bob's key signing a removal that claims Alice's identity.
    const bobs = signRemoval({ kind: 'provider', key, removedAt: NOW }, bob);
    expect(codeOf(checkRemoval({ ...bobs, publicKey: alice.publicKey, nodeId: alice.nodeId }, NOW, verify))).toBe(
      ErrorCode.BAD_SIGNATURE,
    );
  });

  it('WRONG_OWNER: a public key with another node id', () => {
    expect(codeOf(checkRemoval({ ...removal, nodeId: bob.nodeId }, NOW, verify))).toBe(ErrorCode.WRONG_OWNER);
    expect(codeOf(checkRemoval({ ...removal, publicKey: bob.publicKey }, NOW, verify))).toBe(ErrorCode.WRONG_OWNER);
  });

  it('FUTURE_DATED and EXPIRED (older than any record it could remove), with the skew allowance', () => {
    expect(checkRemoval(removal, NOW - MAX_CLOCK_SKEW_MS, verify).ok).toBe(true);
    expect(codeOf(checkRemoval(removal, NOW - MAX_CLOCK_SKEW_MS - 1, verify))).toBe(ErrorCode.FUTURE_DATED);
    const last = NOW + MAX_TTL_S * 1000 + MAX_CLOCK_SKEW_MS;
    expect(checkRemoval(removal, last, verify).ok).toBe(true);
    expect(codeOf(checkRemoval(removal, last + 1, verify))).toBe(ErrorCode.EXPIRED);
  });

  it('MALFORMED: junk shapes, each field missing, wrong lengths, a record instead of a removal', () => {
    const shapes: unknown[] = [
      null,
      undefined,
      0,
      'x',
      [],
      [removal],
      {},
      new Uint8Array(8),
      base,
      { ...removal, removedAt: 'now' },
      { ...removal, removedAt: Number.NaN },
      { ...removal, kind: 'any' },
      { ...removal, key: new Uint8Array(5) },
      { ...removal, publicKey: new Uint8Array(31) },
      { ...removal, nodeId: toHex(alice.nodeId) },
      { ...removal, signature: new Uint8Array(65) },
    ];
    for (const f of REMOVAL_FIELDS) shapes.push(without(removal, f));
    for (const shape of shapes) expect(codeOf(checkRemoval(shape, NOW, verify))).toBe(ErrorCode.MALFORMED);
  });

  it('never throws, whatever it is given', () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('boom');
        },
      },
    );
    const r = seededRandom(78);
    const inputs: unknown[] = [hostile];
    for (let i = 0; i < 1_000; i++) {
      inputs.push(junk(r), { ...removal, [REMOVAL_FIELDS[Math.floor(r.next() * REMOVAL_FIELDS.length)]!]: junk(r) });
    }
    for (const input of inputs) {
      let result: ReturnType<typeof checkRemoval> | undefined;
      expect(() => {
        result = checkRemoval(input, NOW, () => false);
      }).not.toThrow();
      expect(result?.ok).toBe(false);
      expect(REFUSALS.has(codeOf(result!)!)).toBe(true);
    }
    expect(() => signRemoval({ kind: 'provider', key: new Uint8Array(3), removedAt: NOW }, alice)).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT }),
    );
  });
});
