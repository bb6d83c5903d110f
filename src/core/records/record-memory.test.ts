import { describe, expect, it } from 'vitest';
import { MAX_ENDPOINT_CHARS, MAX_KEYS_PER_OWNER, MAX_METADATA_ENTRIES, MAX_STORED_KEYS } from '../constants.js';
import { seededRandom, type Random } from '../environment.js';
import { ErrorCode } from '../errors.js';
import { nodeIdFromPublicKey } from '../id.js';
import type { Verifier } from '../identity.js';
import { RecordStore } from './record-store.js';
import { MAX_STORED_BYTES } from './store-bounds.js';
import { TOMBSTONE_BYTES } from './footprint.js';
import type { SignedRecord, SignedRemoval } from './records.js';

/**
 * What stored records really cost in heap, measured (heapUsed + external, each after a
 * full GC; the unit tier runs with --expose-gc): per entry for the costliest metadata
 * shapes metadata.ts lets through, held against footprint.ts's estimate the store's byte
 * budget is kept by, and a whole store filled the way the security review filled it.
 * Nothing here is timed; the figures are printed.
 */

const NOW = 1_700_000_000_000;
const acceptAll: Verifier = () => true;
const gc = (globalThis as { gc?: () => void }).gc;
const process = (globalThis as unknown as { process: { memoryUsage(): { heapUsed: number; external: number } } })
  .process;

function retained(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

const letters = (r: Random, n: number): string =>
  Array.from(r.bytes(n), (b) => String.fromCharCode(97 + (b % 26))).join('');
/** Characters outside Latin-1: V8 keeps them two bytes each. */
const wide = (r: Random, n: number): string => Array.from(r.bytes(n), (b) => String.fromCharCode(0x100 + b)).join('');
const flat = (r: Random, key: () => string, value: () => unknown): Record<string, unknown> =>
  Object.fromEntries(Array.from({ length: MAX_METADATA_ENTRIES }, () => [key(), value()]));

/** Every shape at the bounds (2,048 bytes, 16 entries), each key distinct per record so no hidden class is shared. */
const SHAPES: Record<string, (r: Random) => Record<string, unknown>> = {
  empty: () => ({}),
  'one 2,042-char string': () => ({ b: 'x'.repeat(2_042) }),
  'one 1,020-char two-byte string': (r) => ({ b: wide(r, 1_020) }),
  '16 keys → 118-char strings': (r) =>
    flat(
      r,
      () => letters(r, 4),
      () => letters(r, 118),
    ),
  '16 keys → 60-char two-byte strings': (r) =>
    flat(
      r,
      () => letters(r, 3),
      () => wide(r, 60),
    ),
  '16 120-char keys → true': (r) =>
    flat(
      r,
      () => letters(r, 120),
      () => true,
    ),
  '16 keys → doubles': (r) =>
    flat(
      r,
      () => letters(r, 20),
      () => 0.5 + r.next(),
    ),
};

function owner(r: Random): Pick<SignedRecord, 'publicKey' | 'nodeId'> {
  const publicKey = r.bytes(32);
  return { publicKey, nodeId: nodeIdFromPublicKey(publicKey) };
}

const record = (
  r: Random,
  who: Pick<SignedRecord, 'publicKey' | 'nodeId'>,
  key: Uint8Array,
  metadata: Record<string, unknown>,
): SignedRecord => ({
  kind: 'provider',
  key,
  ...who,
  endpoint: wide(r, MAX_ENDPOINT_CHARS),
  metadata,
  advertisedAt: NOW,
  ttl: 86_400,
  signature: r.bytes(64),
});

/**
 * `count` records of one shape: "shared" puts 64 owners' records under each of 64 keys (the
 * store's slots and owner sets amortized), "own" gives every record a key and an owner of its own.
 */
function records(
  shape: (r: Random) => Record<string, unknown>,
  layout: 'shared' | 'own',
  count: number,
  seed: number,
): SignedRecord[] {
  const r = seededRandom(seed);
  const keys = Array.from({ length: MAX_KEYS_PER_OWNER }, () => r.bytes(32));
  const owners = Array.from({ length: Math.ceil(count / MAX_KEYS_PER_OWNER) }, () => owner(r));
  return Array.from({ length: count }, (_, i) =>
    layout === 'shared'
      ? record(r, owners[Math.floor(i / MAX_KEYS_PER_OWNER)]!, keys[i % MAX_KEYS_PER_OWNER]!, shape(r))
      : record(r, owner(r), r.bytes(32), shape(r)),
  );
}

/** Store `input` in a fresh store; the heap it retains, and the store's own estimate of it. */
function measure(
  input: SignedRecord[],
  options: Partial<ConstructorParameters<typeof RecordStore>[0]> = {},
): { stored: number; heap: number; estimate: number; refused: Map<string, number> } {
  const store = new RecordStore({ verify: acceptAll, maxKeys: 1e9, maxEntries: 1e9, maxBytes: Infinity, ...options });
  const refused = new Map<string, number>();
  const before = retained();
  for (const rec of input) {
    const result = store.put(rec, NOW);
    if (!result.ok) refused.set(result.code, (refused.get(result.code) ?? 0) + 1);
  }
  const heap = retained() - before;
  const { entries, bytes } = store.stats();
  expect(store.size).toBe(entries); // keeps the store reachable until after the second measurement
  return { stored: entries, heap, estimate: bytes, refused };
}

describe('record store memory, measured', () => {
  it('runs with a garbage collector to measure against', () => {
    expect(typeof gc).toBe('function');
  });

  it('per entry, the costliest metadata takes a few KB, and never more than the estimate the byte budget uses', () => {
    const COUNT = 1_024;
    const rows: string[] = [];
    for (const layout of ['shared', 'own'] as const) {
      for (const [name, shape] of Object.entries(SHAPES)) {
        const { stored, heap, estimate } = measure(records(shape, layout, COUNT, name.length * 7 + layout.length), {
          maxKeysPerOwner: 1e9,
        });
        expect(stored).toBe(COUNT);
        const perEntry = heap / stored;
        rows.push(
          `${layout.padEnd(6)} ${name.padEnd(36)} ${(perEntry / 1024).toFixed(2).padStart(6)} KiB measured, ${(estimate / stored / 1024).toFixed(2).padStart(6)} KiB estimated`,
        );
        expect({ layout, name, perEntry: Math.min(perEntry, estimate / stored) }).toEqual({ layout, name, perEntry });
        // Against the ~136 KB a 2 KB nested map took before metadata had to be flat.
        expect(perEntry).toBeLessThan(16 * 1024);
      }
    }
    console.log(`heap per stored entry (endpoint: ${MAX_ENDPOINT_CHARS} two-byte characters)\n${rows.join('\n')}`);
  }, 60_000);

  it("an attack like the review's (owners × 64 keys, costliest metadata) stops at the byte budget, and the heap held stays within it", () => {
    // The review's 235 owners × 64 keys passed 2 GB; here a 16 MiB budget and the owners to overfill it.
    const budget = 16 * 2 ** 20;
    const r = seededRandom(5);
    const shape = SHAPES['16 keys → 118-char strings']!;
    const owners = 36;
    // Each owner fills its 64 keys; each key takes 64 owners, as the per-key bound allows.
    const keys = Array.from({ length: Math.ceil(owners / 64) }, () =>
      Array.from({ length: MAX_KEYS_PER_OWNER }, () => r.bytes(32)),
    );
    const input = Array.from({ length: owners }, (_, o) => {
      const who = owner(r);
      return keys[Math.floor(o / 64)]!.map((key) => record(r, who, key, shape(r)));
    }).flat();
    const { stored, heap, estimate, refused } = measure(input, { maxBytes: budget });
    expect(stored).toBeLessThan(input.length);
    expect(refused.get(ErrorCode.STORE_FULL)).toBe(input.length - stored);
    expect(estimate).toBeLessThanOrEqual(budget);
    expect(heap).toBeLessThanOrEqual(budget);
    console.log(
      `${stored} of ${input.length} entries stored, ${(heap / 2 ** 20).toFixed(1)} MiB measured, ${(estimate / 2 ** 20).toFixed(1)} MiB estimated (budget ${budget / 2 ** 20} MiB; MAX_STORED_BYTES ${MAX_STORED_BYTES / 2 ** 20} MiB)`,
    );
  }, 60_000);

  it('a tombstone takes less than TOMBSTONE_BYTES, so the pool of unheld ones stays within a few tens of MB', () => {
    const r = seededRandom(8);
    const COUNT = 2_048;
    const removals = Array.from({ length: COUNT }, (): SignedRemoval => ({
      kind: 'provider',
      key: r.bytes(32),
      ...owner(r),
      removedAt: NOW,
      signature: r.bytes(64),
    }));
    const store = new RecordStore({ verify: acceptAll, maxTombstones: COUNT });
    const before = retained();
    for (const removal of removals) expect(store.remove(removal, NOW).ok).toBe(true);
    const perTombstone = (retained() - before) / store.stats().tombstones;
    expect(store.stats().tombstones).toBe(COUNT);
    expect(perTombstone).toBeLessThanOrEqual(TOMBSTONE_BYTES);
    console.log(
      `heap per tombstone: ${(perTombstone / 1024).toFixed(2)} KiB measured (TOMBSTONE_BYTES ${TOMBSTONE_BYTES / 1024} KiB); a full pool of ${MAX_STORED_KEYS.toLocaleString('en')} unheld ones: ${((perTombstone * MAX_STORED_KEYS) / 2 ** 20).toFixed(1)} MiB`,
    );
  });

  it('a version remembered as expired here (spent.ts) takes a few hundred bytes', () => {
    const input = records(SHAPES['empty']!, 'own', 2_048, 9).map((r) => ({ ...r, ttl: 1 }));
    const store = new RecordStore({ verify: acceptAll, maxSpent: input.length });
    const before = retained();
    for (const rec of input) expect(store.put(rec, NOW).ok).toBe(true);
    expect(store.pruneExpired(NOW + 1_000)).toBe(input.length);
    const perMarker = (retained() - before) / input.length;
    expect(store.stats()).toMatchObject({ entries: 0, keys: 0, owners: 0 });
    expect(perMarker).toBeLessThan(1_024);
    console.log(
      `heap per version remembered as expired: ${perMarker.toFixed(0)} bytes; ${MAX_STORED_KEYS.toLocaleString('en')} of them: ${((perMarker * MAX_STORED_KEYS) / 2 ** 20).toFixed(1)} MiB`,
    );
  });
});
