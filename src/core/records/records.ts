import { ID_BYTES, MAX_CLOCK_SKEW_MS, MAX_ENDPOINT_CHARS, MAX_TTL_S, MIN_TTL_S } from '../constants.js';
import { ErrorCode, MeshError, invalidArgument } from '../errors.js';
import { idsEqual, nodeIdFromPublicKey, toHex, type NodeId } from '../id.js';
import { sign, type Identity, type Verifier } from '../identity.js';
import { canonical, normalizeMetadata, trustedMetadata } from './metadata.js';
import type { OwnerProofs } from './owner-proofs.js';

/** What discovery returns for a provider (or subscriber) record: macula's provider map. */
export interface ProviderInfo {
  nodeId: string;
  endpoint: string;
  metadata: Record<string, unknown>;
  advertisedAt: number;
  ttl: number;
}

/**
 * Signed provider and subscriber records (docs/ARCHITECTURE.md, Identity and trust). A record is what macula stored
 * at SHA-256(name) — `{node_id, endpoint, metadata, advertised_at, ttl}` — plus the
 * owner's public key and an Ed25519 signature, so every node that stores or returns one
 * can check it, and only its owner can replace or remove it.
 *
 * Signing bytes are MessagePack of a fixed-order array with a domain tag. Metadata maps
 * are encoded with sorted keys, and a record's metadata is always held in its decoded
 * form (decode(encode(m))), so the bytes a verifier rebuilds from a record that crossed
 * the wire, IndexedDB or a worker boundary equal the bytes that were signed.
 */

export type RecordKind = 'provider' | 'subscriber';

export interface SignedRecord {
  readonly kind: RecordKind;
  /** SHA-256 of the service or topic name. */
  readonly key: NodeId;
  readonly publicKey: Uint8Array;
  /** SHA-256(publicKey). */
  readonly nodeId: NodeId;
  readonly endpoint: string;
  readonly metadata: Record<string, unknown>;
  /** Milliseconds since the epoch, by the signer's clock. */
  readonly advertisedAt: number;
  /** Seconds. */
  readonly ttl: number;
  readonly signature: Uint8Array;
}

/** What the owner fills in; signRecord adds publicKey, nodeId and signature. */
export type UnsignedRecord = Pick<SignedRecord, 'kind' | 'key' | 'endpoint' | 'metadata' | 'advertisedAt' | 'ttl'>;
/** Another name for UnsignedRecord. */
export type RecordFields = UnsignedRecord;

/** A signed request by a record's owner to delete its record at (key, kind) advertised up to `removedAt`. */
export interface SignedRemoval {
  readonly kind: RecordKind;
  readonly key: NodeId;
  readonly publicKey: Uint8Array;
  readonly nodeId: NodeId;
  /** Milliseconds since the epoch, by the signer's clock. */
  readonly removedAt: number;
  readonly signature: Uint8Array;
}

export type UnsignedRemoval = Pick<SignedRemoval, 'kind' | 'key' | 'removedAt'>;

/** Codes a record or removal check refuses with. */
export type RefusalCode =
  | typeof ErrorCode.MALFORMED
  | typeof ErrorCode.TOO_LARGE
  | typeof ErrorCode.WRONG_OWNER
  | typeof ErrorCode.BAD_SIGNATURE
  | typeof ErrorCode.FUTURE_DATED
  | typeof ErrorCode.EXPIRED;

export interface Refusal {
  ok: false;
  code: RefusalCode;
  reason: string;
}

export type RecordCheck = { ok: true; record: SignedRecord } | Refusal;
export type RemovalCheck = { ok: true; removal: SignedRemoval } | Refusal;

export const RECORD_DOMAIN = 'macula-web/record/v1';
export const REMOVAL_DOMAIN = 'macula-web/removal/v1';
const SIGNATURE_BYTES = 64;
const PUBLIC_KEY_BYTES = 32;

export function recordSigningBytes(r: Omit<SignedRecord, 'signature' | 'nodeId'>): Uint8Array {
  return canonical([RECORD_DOMAIN, r.kind, r.key, r.publicKey, r.endpoint, r.metadata, r.advertisedAt, r.ttl]);
}

export function removalSigningBytes(r: Omit<SignedRemoval, 'signature' | 'nodeId'>): Uint8Array {
  return canonical([REMOVAL_DOMAIN, r.kind, r.key, r.publicKey, r.removedAt]);
}

// ---------------------------------------------------------------------------------------
// Field checks shared by signing (local input: throw) and checking (untrusted: refuse).

interface Problem {
  code: RefusalCode;
  field: string;
  expected: string;
}

const problem = (field: string, expected: string, code: RefusalCode = ErrorCode.MALFORMED): Problem => ({
  code,
  field,
  expected,
});

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);

const isKind = (v: unknown): v is RecordKind => v === 'provider' || v === 'subscriber';
const isBytes = (v: unknown, length: number): v is Uint8Array => v instanceof Uint8Array && v.length === length;

/** A private copy: never keep a view into a (possibly large) received frame. */
const copyBytes = (v: Uint8Array): Uint8Array => new Uint8Array(v);

function checkKindKey(kind: unknown, key: unknown): Problem | null {
  if (!isKind(kind)) return problem('kind', "'provider' or 'subscriber'");
  if (!isBytes(key, ID_BYTES)) return problem('key', `Uint8Array(${ID_BYTES})`);
  return null;
}

function checkEndpoint(endpoint: unknown): Problem | null {
  if (typeof endpoint !== 'string') return problem('endpoint', 'a string');
  if (endpoint.length > MAX_ENDPOINT_CHARS)
    return problem('endpoint', `at most ${MAX_ENDPOINT_CHARS} characters`, ErrorCode.TOO_LARGE);
  return null;
}

const checkTtl = (ttl: unknown): Problem | null =>
  typeof ttl === 'number' && Number.isInteger(ttl) && ttl >= MIN_TTL_S && ttl <= MAX_TTL_S
    ? null
    : problem('ttl', `an integer number of seconds in [${MIN_TTL_S}, ${MAX_TTL_S}]`);

const checkTime = (field: string, t: unknown): Problem | null =>
  typeof t === 'number' && Number.isFinite(t) ? null : problem(field, 'a finite number of milliseconds');

/** Metadata in its canonical decoded form, or the rule it breaks (metadata.ts). */
function checkMetadataField(metadata: unknown, trusted = false): { metadata: Record<string, unknown> } | Problem {
  const m = trusted ? trustedMetadata(metadata) : normalizeMetadata(metadata);
  return 'code' in m
    ? problem('metadata', m.expected, m.code === 'TOO_LARGE' ? ErrorCode.TOO_LARGE : ErrorCode.MALFORMED)
    : m;
}

/**
 * Local input (advertise, subscribe): the metadata a record would carry, in canonical form;
 * throws INVALID_ARGUMENT naming the rule (metadata.ts), or TOO_LARGE.
 */
export function checkMetadata(metadata: unknown): Record<string, unknown> {
  const m = checkMetadataField(metadata);
  if ('code' in m) throwProblem(m, metadata);
  return m.metadata;
}

function checkOwnerFields(o: Record<string, unknown>): Problem | null {
  if (!isBytes(o.publicKey, PUBLIC_KEY_BYTES)) return problem('publicKey', `Uint8Array(${PUBLIC_KEY_BYTES})`);
  if (!isBytes(o.nodeId, ID_BYTES)) return problem('nodeId', `Uint8Array(${ID_BYTES})`);
  if (!isBytes(o.signature, SIGNATURE_BYTES)) return problem('signature', `Uint8Array(${SIGNATURE_BYTES})`);
  return null;
}

const refuse = (p: Problem): Refusal => ({ ok: false, code: p.code, reason: `${p.field}: expected ${p.expected}` });

function safeVerify(verify: Verifier, signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return verify(signature, message, publicKey) === true;
  } catch {
    return false;
  }
}

function throwProblem(p: Problem, got: unknown): never {
  if (p.code === ErrorCode.MALFORMED) throw invalidArgument(p.field, p.expected, got);
  throw new MeshError(p.code, `${p.field}: expected ${p.expected}`, { argument: p.field });
}

// ---------------------------------------------------------------------------------------
// Records.

/** Sign a record with `identity`; throws a MeshError (INVALID_ARGUMENT, TOO_LARGE) on bad fields. */
export function signRecord(fields: UnsignedRecord, identity: Identity): SignedRecord {
  if (!isObject(fields)) throw invalidArgument('fields', 'an object', fields);
  const p =
    checkKindKey(fields.kind, fields.key) ??
    checkEndpoint(fields.endpoint) ??
    checkTtl(fields.ttl) ??
    checkTime('advertisedAt', fields.advertisedAt);
  if (p) throwProblem(p, (fields as unknown as Record<string, unknown>)[p.field]);
  const meta = checkMetadataField(fields.metadata);
  if ('code' in meta) throwProblem(meta, fields.metadata);
  const unsigned = {
    kind: fields.kind,
    key: copyBytes(fields.key),
    publicKey: copyBytes(identity.publicKey),
    endpoint: fields.endpoint,
    metadata: meta.metadata,
    advertisedAt: fields.advertisedAt,
    ttl: fields.ttl,
  };
  const signature = sign(recordSigningBytes(unsigned), identity.secretKey);
  return { ...unsigned, nodeId: copyBytes(identity.nodeId), signature };
}

/**
 * Validate an untrusted record at local time `now`: shape and bounds, ownership
 * (nodeId = SHA-256(publicKey)), dates, and last (the costly part) the signature.
 * Returns a fresh record holding only the known fields (own copies of the byte arrays,
 * metadata in canonical form). `owners`, when a batch of records is checked, hashes each
 * owner's key once for the batch (owner-proofs.ts), and the batch's records share one copy
 * of each id. Never throws.
 */
export function checkRecord(record: unknown, now: number, verify: Verifier, owners?: OwnerProofs): RecordCheck {
  try {
    return checkRecordUnsafe(record, now, verify, owners);
  } catch (e) {
    return { ok: false, code: ErrorCode.MALFORMED, reason: `record: ${e instanceof Error ? e.message : 'unreadable'}` };
  }
}

interface Ids {
  key: Uint8Array;
  publicKey: Uint8Array;
  nodeId: Uint8Array;
}

/**
 * The ids a checked record or removal keeps when nodeId = SHA-256(publicKey): copies of its
 * own, or in a batch the batch's shared copies (owner-proofs.ts, batch-ids.ts); undefined
 * when the node id is not its key's.
 */
function ownedIds(key: Uint8Array, publicKey: Uint8Array, nodeId: Uint8Array, owners?: OwnerProofs): Ids | undefined {
  if (owners === undefined) {
    if (!idsEqual(nodeIdFromPublicKey(publicKey), nodeId)) return undefined;
    return { key: copyBytes(key), publicKey: copyBytes(publicKey), nodeId: copyBytes(nodeId) };
  }
  const proven = owners.prove(publicKey, nodeId);
  return proven && { key: owners.ids.intern(key).bytes, ...proven };
}

function checkRecordUnsafe(input: unknown, now: number, verify: Verifier, owners?: OwnerProofs): RecordCheck {
  if (!isObject(input)) return refuse(problem('record', 'a map'));
  const r = input;
  const p =
    checkKindKey(r.kind, r.key) ??
    checkOwnerFields(r) ??
    checkEndpoint(r.endpoint) ??
    checkTtl(r.ttl) ??
    checkTime('advertisedAt', r.advertisedAt);
  if (p) return refuse(p);
  // This node's own snapshot (trustSignatures): its metadata was made canonical when it arrived.
  const meta = checkMetadataField(r.metadata, verify === trustSignatures);
  if ('code' in meta) return refuse(meta);
  // The checks above narrowed properties of `r`; read them once, typed.
  const advertisedAt = r.advertisedAt as number;
  const ttl = r.ttl as number;
  const ids = ownedIds(r.key as Uint8Array, r.publicKey as Uint8Array, r.nodeId as Uint8Array, owners);
  if (ids === undefined) {
    return { ok: false, code: ErrorCode.WRONG_OWNER, reason: 'nodeId: not SHA-256 of publicKey' };
  }
  if (advertisedAt > now + MAX_CLOCK_SKEW_MS) {
    return { ok: false, code: ErrorCode.FUTURE_DATED, reason: `advertisedAt: ${advertisedAt - now} ms in the future` };
  }
  if (advertisedAt + ttl * 1000 < now - MAX_CLOCK_SKEW_MS) {
    return { ok: false, code: ErrorCode.EXPIRED, reason: 'record: expired' };
  }
  const record: SignedRecord = {
    kind: r.kind as RecordKind,
    key: ids.key,
    publicKey: ids.publicKey,
    nodeId: ids.nodeId,
    endpoint: r.endpoint as string,
    metadata: meta.metadata,
    advertisedAt,
    ttl,
    signature: copyBytes(r.signature as Uint8Array),
  };
  if (
    verify !== trustSignatures &&
    !safeVerify(verify, record.signature, recordSigningBytes(record), record.publicKey)
  ) {
    return { ok: false, code: ErrorCode.BAD_SIGNATURE, reason: 'signature: does not verify' };
  }
  return { ok: true, record };
}

/**
 * A verifier for records this node checked itself before (its own persisted snapshot):
 * checkRecord still checks shape, ownership and expiry, but skips the signature and the
 * signing bytes it would need (a third of a 10,000-record restore without it), and the
 * metadata's canonical round trip when its size is clearly within bounds (metadata.ts).
 */
export const trustSignatures: Verifier = () => true;

/**
 * The last local time at which a record can pass checkRecord's expiry test: the signer's
 * expiry plus the allowed skew. A storing node never keeps a record beyond it, so
 * replaying an old record cannot give it a fresh TTL.
 */
export const recordDeadline = (r: Pick<SignedRecord, 'advertisedAt' | 'ttl'>): number =>
  r.advertisedAt + r.ttl * 1000 + MAX_CLOCK_SKEW_MS;

/**
 * The last local time at which a record a removal covers (advertised at or before
 * removedAt, with any TTL up to the largest allowed) can pass checkRecord: a removal's
 * tombstone is kept until then, whatever the TTL of the version it removed (a version
 * advertised earlier with a longer TTL may still be replayed), and a removal older than
 * this covers nothing and is refused.
 */
export const removalDeadline = (r: Pick<SignedRemoval, 'removedAt'>): number =>
  r.removedAt + MAX_TTL_S * 1000 + MAX_CLOCK_SKEW_MS;

/** The public ProviderInfo shape of a record. */
export const toProviderInfo = (r: SignedRecord): ProviderInfo => ({
  nodeId: toHex(r.nodeId),
  endpoint: r.endpoint,
  metadata: r.metadata,
  advertisedAt: r.advertisedAt,
  ttl: r.ttl,
});

// ---------------------------------------------------------------------------------------
// Removals.

/** Sign a removal of this identity's record at (key, kind) advertised at or before `removedAt`. */
export function signRemoval(fields: UnsignedRemoval, identity: Identity): SignedRemoval {
  if (!isObject(fields)) throw invalidArgument('fields', 'an object', fields);
  const p = checkKindKey(fields.kind, fields.key) ?? checkTime('removedAt', fields.removedAt);
  if (p) throwProblem(p, (fields as unknown as Record<string, unknown>)[p.field]);
  const unsigned = {
    kind: fields.kind,
    key: copyBytes(fields.key),
    publicKey: copyBytes(identity.publicKey),
    removedAt: fields.removedAt,
  };
  const signature = sign(removalSigningBytes(unsigned), identity.secretKey);
  return { ...unsigned, nodeId: copyBytes(identity.nodeId), signature };
}

/**
 * Validate an untrusted removal at local time `now`. A removal older than the longest
 * possible record life is refused as EXPIRED: every record it could cover is gone
 * everywhere. Never throws.
 */
export function checkRemoval(removal: unknown, now: number, verify: Verifier, owners?: OwnerProofs): RemovalCheck {
  try {
    return checkRemovalUnsafe(removal, now, verify, owners);
  } catch (e) {
    return {
      ok: false,
      code: ErrorCode.MALFORMED,
      reason: `removal: ${e instanceof Error ? e.message : 'unreadable'}`,
    };
  }
}

function checkRemovalUnsafe(input: unknown, now: number, verify: Verifier, owners?: OwnerProofs): RemovalCheck {
  if (!isObject(input)) return refuse(problem('removal', 'a map'));
  const r = input;
  const p = checkKindKey(r.kind, r.key) ?? checkOwnerFields(r) ?? checkTime('removedAt', r.removedAt);
  if (p) return refuse(p);
  const removedAt = r.removedAt as number;
  const ids = ownedIds(r.key as Uint8Array, r.publicKey as Uint8Array, r.nodeId as Uint8Array, owners);
  if (ids === undefined) {
    return { ok: false, code: ErrorCode.WRONG_OWNER, reason: 'nodeId: not SHA-256 of publicKey' };
  }
  if (removedAt > now + MAX_CLOCK_SKEW_MS) {
    return { ok: false, code: ErrorCode.FUTURE_DATED, reason: `removedAt: ${removedAt - now} ms in the future` };
  }
  if (removalDeadline({ removedAt }) < now) {
    return { ok: false, code: ErrorCode.EXPIRED, reason: 'removal: older than any record it could remove' };
  }
  const removal: SignedRemoval = {
    kind: r.kind as RecordKind,
    key: ids.key,
    publicKey: ids.publicKey,
    nodeId: ids.nodeId,
    removedAt,
    signature: copyBytes(r.signature as Uint8Array),
  };
  if (!safeVerify(verify, removal.signature, removalSigningBytes(removal), removal.publicKey)) {
    return { ok: false, code: ErrorCode.BAD_SIGNATURE, reason: 'signature: does not verify' };
  }
  return { ok: true, removal };
}
