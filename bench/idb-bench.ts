/**
 * The browser half of `npm run bench:micro` (bench/idb.bench.html loads it; micro.bench.ts
 * builds it with Vite and drives it with Playwright). It persists 10,000 signed records in
 * real IndexedDB three ways and restores them, timing the read apart from the rebuild and
 * the signature checks:
 *
 * - blob: what src/peer/persistence.ts does today: one `records` value
 *   `{ version, entries: [{ record, expiresAt }], tombstones }`, written with setMany;
 * - keys: one IndexedDB key per record, all written by one batched setMany, read back with
 *   keys() + getMany() (what the Store interface offers);
 * - keysGetAll: the same, in a database of its own, read back with one getAll (idb-keyval `values`);
 * - packed: the same snapshot as one MessagePack-encoded Uint8Array.
 *
 * Every store is src/storage/idb-store.ts (the worker's own), one database per layout.
 * Nothing here leaves the page: the records arrive from the benchmark's 127.0.0.1 server.
 */
import { decode, encode } from '@msgpack/msgpack';
import { createStore, values } from 'idb-keyval';
import type { Store } from '../src/core/environment.js';
import { nodeIdFromPublicKey, toHex } from '../src/core/id.js';
import { verify as nobleVerify, type Verifier } from '../src/core/identity.js';
import { RecordStore, type RecordStoreJSON } from '../src/core/records/record-store.js';
import { recordSigningBytes, trustSignatures, type SignedRecord } from '../src/core/records/records.js';
import { createIdbStore } from '../src/storage/idb-store.js';

export type Layout = 'blob' | 'keys' | 'keysGetAll' | 'packed';

export interface WriteTiming {
  layout: Layout;
  /** setMany until its transaction completed. */
  writeMs: number;
  /** packed only: MessagePack encoding before the write. */
  encodeMs: number;
  bytes: number;
}

export interface ReadTiming {
  layout: Layout;
  /** From the first call on a fresh store (opening its database included) until the values are in hand. */
  readMs: number;
  /** packed only: MessagePack decoding after the read. */
  decodeMs: number;
  entries: number;
}

export interface RebuildTiming {
  /** RecordStore.fromJSON with the given verifier: shape checks, ownership, expiry, insertion. */
  ms: number;
  /**
   * Then absorb() into an empty store, as Persistence.restore() hands the result to the node's
   * store. absorb inserts without any check, so it is also what a trusted restore would cost.
   */
  absorbMs: number;
  restored: number;
}

/** Where RecordStore.fromJSON's time goes apart from the signature check, summed over all records. */
export interface RebuildParts {
  /** nodeIdFromPublicKey: SHA-256 of each owner key (the ownership check). */
  sha256Ms: number;
  /** recordSigningBytes: the canonical MessagePack the signature covers (built even when nothing verifies it). */
  signingBytesMs: number;
  /** normalizeMetadata's canonical encode and decode of the metadata. */
  metadataMs: number;
}

export interface CryptoRates {
  nobleVerifyPerS: number;
  /** WebCrypto Ed25519 (importKey of each owner's raw key + verify), or null where unsupported. */
  webCryptoVerifyPerS: number | null;
  webCryptoVerifyCachedKeyPerS: number | null;
}

export interface IdbBench {
  load(url: string): Promise<number>;
  firstOpen(): Promise<number>;
  write(layout: Layout): Promise<WriteTiming>;
  /** The flush after one record changed: the whole snapshot again for blob and packed, one key for keys. */
  writeOne(layout: Layout): Promise<number>;
  read(layout: Layout): Promise<ReadTiming>;
  rebuild(layout: Layout, verifier: 'none' | 'noble' | 'webcrypto'): Promise<RebuildTiming>;
  parts(layout: Layout): RebuildParts;
  crypto(samples: number): Promise<CryptoRates>;
  usage(): Promise<number | null>;
}

const nodeIds: Record<Layout, string> = {
  blob: 'bench-blob',
  keys: 'bench-keys',
  keysGetAll: 'bench-keys-getall',
  packed: 'bench-packed',
};
const RECORD_PREFIX = 'record/';
const META = { version: 1, savedAt: 0 };

let records: SignedRecord[] = [];
let expiresAt = 0;
/** What the last read of each layout produced, ready for rebuild(). */
const restored = new Map<Layout, RecordStoreJSON>();

const recordKey = (r: SignedRecord): string => `${RECORD_PREFIX}${toHex(r.key)}/${r.kind}/${toHex(r.nodeId)}`;
const snapshot = (): RecordStoreJSON => ({
  version: 1,
  entries: records.map((record) => ({ record, expiresAt })),
  tombstones: [],
});
const store = (layout: Layout): Store => createIdbStore(nodeIds[layout]);

/** A private copy: a decoded view into the download would drag the whole download into every clone. */
const own = (v: unknown): Uint8Array => new Uint8Array(v as Uint8Array);

async function load(url: string): Promise<number> {
  const body = new Uint8Array(await (await fetch(url)).arrayBuffer());
  const raw = decode(body) as { expiresAt: number; records: Array<Record<string, unknown>> };
  expiresAt = raw.expiresAt;
  records = raw.records.map((r) => ({
    kind: r['kind'] as SignedRecord['kind'],
    key: own(r['key']),
    publicKey: own(r['publicKey']),
    nodeId: own(r['nodeId']),
    endpoint: r['endpoint'] as string,
    metadata: r['metadata'] as Record<string, unknown>,
    advertisedAt: r['advertisedAt'] as number,
    ttl: r['ttl'] as number,
    signature: own(r['signature']),
  }));
  return records.length;
}

/** The first IndexedDB open of a fresh browser: the origin's backing store starts here. */
async function firstOpen(): Promise<number> {
  const t0 = performance.now();
  await createIdbStore('bench-warmup').getMany(['meta']);
  return performance.now() - t0;
}

async function write(layout: Layout): Promise<WriteTiming> {
  const s = store(layout);
  const meta: [string, unknown] = ['meta', { ...META, savedAt: Date.now() }];
  await s.getMany(['meta']); // open the database first: the figure is the write alone
  let encodeMs = 0;
  let bytes = 0;
  let entries: Array<[string, unknown]>;
  if (layout === 'blob') {
    entries = [['records', snapshot()], meta];
  } else if (layout === 'keys' || layout === 'keysGetAll') {
    entries = [...records.map((record): [string, unknown] => [recordKey(record), { record, expiresAt }]), meta];
  } else {
    const t0 = performance.now();
    const packed = encode(snapshot());
    encodeMs = performance.now() - t0;
    bytes = packed.length;
    entries = [['records', packed], meta];
  }
  const t0 = performance.now();
  await s.setMany(entries);
  return { layout, writeMs: performance.now() - t0, encodeMs, bytes };
}

async function writeOne(layout: Layout): Promise<number> {
  const s = store(layout);
  await s.getMany(['meta']);
  const changed = records[records.length >> 1]!;
  const meta: [string, unknown] = ['meta', { ...META, savedAt: Date.now() }];
  const t0 = performance.now();
  if (layout === 'blob') await s.setMany([['records', snapshot()], meta]);
  else if (layout === 'keys' || layout === 'keysGetAll')
    await s.setMany([[recordKey(changed), { record: changed, expiresAt }], meta]);
  else await s.setMany([['records', encode(snapshot())], meta]);
  return performance.now() - t0;
}

async function read(layout: Layout): Promise<ReadTiming> {
  let decodeMs = 0;
  let snap: RecordStoreJSON;
  const t0 = performance.now();
  if (layout === 'blob') {
    // Exactly Persistence.restore()'s read.
    const [, , recs] = await store(layout).getMany(['meta', 'contacts', 'records', 'services']);
    snap = recs as RecordStoreJSON;
  } else if (layout === 'keys') {
    const s = store(layout);
    const keys = (await s.keys()).filter((k) => k.startsWith(RECORD_PREFIX));
    snap = { version: 1, entries: (await s.getMany(keys)) as RecordStoreJSON['entries'], tombstones: [] };
  } else if (layout === 'keysGetAll') {
    // One getAll over the object store (the database name is idb-store.ts's).
    const all = await values<unknown>(createStore(`macula-web/node/${nodeIds.keysGetAll}`, 'state'));
    const entries = all.filter(
      (v) => typeof v === 'object' && v !== null && 'record' in v,
    ) as RecordStoreJSON['entries'];
    snap = { version: 1, entries, tombstones: [] };
  } else {
    const [packed] = await store(layout).getMany(['records']);
    const t1 = performance.now();
    snap = decode(packed as Uint8Array) as RecordStoreJSON;
    decodeMs = performance.now() - t1;
  }
  const readMs = performance.now() - t0 - decodeMs;
  restored.set(layout, snap);
  return { layout, readMs, decodeMs, entries: snap.entries.length };
}

function parts(layout: Layout): RebuildParts {
  const snap = restored.get(layout);
  if (snap === undefined) throw new Error(`read ${layout} first`);
  const rs = snap.entries.map((e) => e.record);
  let sink = 0;
  let t0 = performance.now();
  for (const r of rs) sink += nodeIdFromPublicKey(r.publicKey)[0]!;
  const sha256Ms = performance.now() - t0;
  t0 = performance.now();
  for (const r of rs) sink += recordSigningBytes(r).length;
  const signingBytesMs = performance.now() - t0;
  t0 = performance.now();
  for (const r of rs) sink += Object.keys(decode(encode(r.metadata, { sortKeys: true })) as object).length;
  const metadataMs = performance.now() - t0;
  if (sink < 0) throw new Error('unreachable');
  return { sha256Ms, signingBytesMs, metadataMs };
}

/** WebCrypto Ed25519 as a Verifier (asynchronous underneath, so only rates are measured with it). */
async function webCryptoVerify(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
  key?: CryptoKey,
): Promise<boolean> {
  const k =
    key ?? (await crypto.subtle.importKey('raw', publicKey as BufferSource, { name: 'Ed25519' }, false, ['verify']));
  return crypto.subtle.verify({ name: 'Ed25519' }, k, signature as BufferSource, message as BufferSource);
}

async function rebuild(layout: Layout, verifier: 'none' | 'noble' | 'webcrypto'): Promise<RebuildTiming> {
  const snap = restored.get(layout);
  if (snap === undefined) throw new Error(`read ${layout} first`);
  const now = Date.now();
  if (verifier === 'webcrypto') {
    // RecordStore's Verifier is synchronous: check every signature with WebCrypto first, in
    // parallel, then rebuild with the answers — what a restore would do with an async verifier.
    const t0 = performance.now();
    const verdicts = new Map<string, boolean>();
    await Promise.all(
      snap.entries.map(async ({ record: r }) => {
        verdicts.set(toHex(r.signature), await webCryptoVerify(r.signature, recordSigningBytes(r), r.publicKey));
      }),
    );
    const lookup: Verifier = (signature) => verdicts.get(toHex(signature)) === true;
    const rebuilt = RecordStore.fromJSON(snap, now, lookup);
    return { ms: performance.now() - t0, ...absorbed(rebuilt, now) };
  }
  if (verifier === 'none') {
    // What Persistence.restore() does: load in place into the node's (empty) store, trusting
    // its own snapshot's signatures: one insertion per record, no absorb.
    const target = new RecordStore({ verify: nobleVerify });
    const t0 = performance.now();
    target.load(snap, now, trustSignatures);
    return { ms: performance.now() - t0, absorbMs: 0, restored: target.size };
  }
  const t0 = performance.now();
  const rebuilt = RecordStore.fromJSON(snap, now, nobleVerify);
  return { ms: performance.now() - t0, ...absorbed(rebuilt, now) };
}

function absorbed(rebuilt: RecordStore, now: number): { absorbMs: number; restored: number } {
  const target = new RecordStore({ verify: nobleVerify });
  const t0 = performance.now();
  target.absorb(rebuilt, now);
  return { absorbMs: performance.now() - t0, restored: target.size };
}

async function cryptoRates(samples: number): Promise<CryptoRates> {
  const pick = records.length > 0 ? records : ([...restored.values()][0]?.entries.map((e) => e.record) ?? []);
  const subset = pick.slice(0, samples);
  const messages = subset.map((r) => recordSigningBytes(r));
  let t0 = performance.now();
  let ok = 0;
  subset.forEach((r, i) => (ok += nobleVerify(r.signature, messages[i]!, r.publicKey) ? 1 : 0));
  const nobleVerifyPerS = (subset.length * 1000) / (performance.now() - t0);
  if (ok !== subset.length) throw new Error(`noble: ${subset.length - ok} signatures failed`);
  let webCryptoVerifyPerS: number | null = null;
  let webCryptoVerifyCachedKeyPerS: number | null = null;
  try {
    t0 = performance.now();
    const results = await Promise.all(subset.map((r, i) => webCryptoVerify(r.signature, messages[i]!, r.publicKey)));
    webCryptoVerifyPerS = (subset.length * 1000) / (performance.now() - t0);
    if (results.some((x) => !x)) throw new Error('WebCrypto: a signature failed');
    const keys = await Promise.all(
      subset.map((r) =>
        crypto.subtle.importKey('raw', r.publicKey as BufferSource, { name: 'Ed25519' }, false, ['verify']),
      ),
    );
    t0 = performance.now();
    await Promise.all(subset.map((r, i) => webCryptoVerify(r.signature, messages[i]!, r.publicKey, keys[i])));
    webCryptoVerifyCachedKeyPerS = (subset.length * 1000) / (performance.now() - t0);
  } catch (e) {
    if (!(e instanceof DOMException && e.name === 'NotSupportedError')) throw e;
  }
  return { nobleVerifyPerS, webCryptoVerifyPerS, webCryptoVerifyCachedKeyPerS };
}

async function usage(): Promise<number | null> {
  return (await navigator.storage?.estimate?.())?.usage ?? null;
}

const bench: IdbBench = { load, firstOpen, write, writeOne, read, rebuild, parts, crypto: cryptoRates, usage };
(globalThis as unknown as { __idbBench: IdbBench }).__idbBench = bench;
