import { encode } from '@msgpack/msgpack';
import {
  ID_BYTES, MAX_CLOCK_SKEW_MS, MAX_ENDPOINT_CHARS, MAX_METADATA_BYTES, MAX_TTL_S, MIN_TTL_S,
} from './constants.js';
import { ErrorCode } from './errors.js';
import { idsEqual, nodeIdFromPublicKey, toHex } from './id.js';
import { sign, type Identity, type Verifier } from './identity.js';
import type { ProviderInfo } from './service-registry.js';

/**
 * Provider and subscriber records: what a node stores at SHA-256(name) to say "I provide
 * this service" or "I subscribe to this topic". Each is signed by its owner, so any node
 * can check it and only the owner can replace or remove it (DESIGN.md §3).
 */

export type RecordKind = 'provider' | 'subscriber';

export interface SignedRecord {
  kind: RecordKind;
  key: Uint8Array;
  publicKey: Uint8Array;
  nodeId: Uint8Array;
  endpoint: string;
  metadata: Record<string, unknown>;
  /** Milliseconds, by the signer's clock. */
  advertisedAt: number;
  /** Seconds. */
  ttl: number;
  signature: Uint8Array;
}

export interface SignedRemoval {
  kind: RecordKind;
  key: Uint8Array;
  publicKey: Uint8Array;
  nodeId: Uint8Array;
  removedAt: number;
  signature: Uint8Array;
}

export type RecordFields = Pick<SignedRecord, 'kind' | 'key' | 'endpoint' | 'metadata' | 'advertisedAt' | 'ttl'>;

export type Checked<T> = { ok: true; record: T } | { ok: false; code: ErrorCode; reason: string };

const RECORD_CONTEXT = 'macula-web/record/v1';
const REMOVAL_CONTEXT = 'macula-web/removal/v1';

export const recordSigningBytes = (r: Omit<SignedRecord, 'signature' | 'nodeId'>): Uint8Array =>
  encode([RECORD_CONTEXT, r.kind, r.key, r.publicKey, r.endpoint, r.metadata, r.advertisedAt, r.ttl]);

export const removalSigningBytes = (r: Omit<SignedRemoval, 'signature' | 'nodeId'>): Uint8Array =>
  encode([REMOVAL_CONTEXT, r.kind, r.key, r.publicKey, r.removedAt]);

export function signRecord(fields: RecordFields, identity: Identity): SignedRecord {
  const unsigned = { ...fields, publicKey: identity.publicKey };
  return { ...unsigned, nodeId: identity.nodeId, signature: sign(recordSigningBytes(unsigned), identity.secretKey) };
}

export function signRemoval(fields: Pick<SignedRemoval, 'kind' | 'key' | 'removedAt'>, identity: Identity): SignedRemoval {
  const unsigned = { ...fields, publicKey: identity.publicKey };
  return { ...unsigned, nodeId: identity.nodeId, signature: sign(removalSigningBytes(unsigned), identity.secretKey) };
}

/** Validate an untrusted record: shape, bounds, ownership, signature and dates. Never throws. */
export function checkRecord(raw: unknown, now: number, verify: Verifier): Checked<SignedRecord> {
  if (!isObject(raw)) return refuse(ErrorCode.MALFORMED, 'record is not a map');
  const { kind, key, publicKey, nodeId, endpoint, metadata, advertisedAt, ttl, signature } = raw;
  if (kind !== 'provider' && kind !== 'subscriber') return refuse(ErrorCode.MALFORMED, 'kind');
  if (!isBytes(key, ID_BYTES) || !isBytes(publicKey, 32) || !isBytes(nodeId, ID_BYTES) || !isBytes(signature, 64)) {
    return refuse(ErrorCode.MALFORMED, 'key, publicKey, nodeId or signature has the wrong type or length');
  }
  if (typeof endpoint !== 'string' || endpoint.length > MAX_ENDPOINT_CHARS) return refuse(ErrorCode.TOO_LARGE, 'endpoint');
  if (!isPlainObject(metadata)) return refuse(ErrorCode.MALFORMED, 'metadata is not a map');
  if (typeof advertisedAt !== 'number' || !Number.isFinite(advertisedAt)) return refuse(ErrorCode.MALFORMED, 'advertisedAt');
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < MIN_TTL_S || ttl > MAX_TTL_S) return refuse(ErrorCode.MALFORMED, 'ttl');
  let metadataBytes: number;
  try {
    metadataBytes = encode(metadata).length;
  } catch {
    return refuse(ErrorCode.MALFORMED, 'metadata cannot be encoded');
  }
  if (metadataBytes > MAX_METADATA_BYTES) return refuse(ErrorCode.TOO_LARGE, `metadata is ${metadataBytes} bytes (max ${MAX_METADATA_BYTES})`);
  if (!idsEqual(nodeIdFromPublicKey(publicKey), nodeId)) return refuse(ErrorCode.WRONG_OWNER, 'nodeId is not SHA-256 of publicKey');
  if (advertisedAt > now + MAX_CLOCK_SKEW_MS) return refuse(ErrorCode.FUTURE_DATED, 'advertisedAt is in the future');
  if (advertisedAt + ttl * 1000 < now - MAX_CLOCK_SKEW_MS) return refuse(ErrorCode.EXPIRED, 'record expired');
  const record: SignedRecord = { kind, key, publicKey, nodeId, endpoint, metadata, advertisedAt, ttl, signature };
  if (!verify(signature, recordSigningBytes(record), publicKey)) return refuse(ErrorCode.BAD_SIGNATURE, 'signature does not verify');
  return { ok: true, record };
}

export function checkRemoval(raw: unknown, now: number, verify: Verifier): Checked<SignedRemoval> {
  if (!isObject(raw)) return refuse(ErrorCode.MALFORMED, 'removal is not a map');
  const { kind, key, publicKey, nodeId, removedAt, signature } = raw;
  if (kind !== 'provider' && kind !== 'subscriber') return refuse(ErrorCode.MALFORMED, 'kind');
  if (!isBytes(key, ID_BYTES) || !isBytes(publicKey, 32) || !isBytes(nodeId, ID_BYTES) || !isBytes(signature, 64)) {
    return refuse(ErrorCode.MALFORMED, 'key, publicKey, nodeId or signature has the wrong type or length');
  }
  if (typeof removedAt !== 'number' || !Number.isFinite(removedAt)) return refuse(ErrorCode.MALFORMED, 'removedAt');
  if (!idsEqual(nodeIdFromPublicKey(publicKey), nodeId)) return refuse(ErrorCode.WRONG_OWNER, 'nodeId is not SHA-256 of publicKey');
  if (removedAt > now + MAX_CLOCK_SKEW_MS) return refuse(ErrorCode.FUTURE_DATED, 'removedAt is in the future');
  const removal: SignedRemoval = { kind, key, publicKey, nodeId, removedAt, signature };
  if (!verify(signature, removalSigningBytes(removal), publicKey)) return refuse(ErrorCode.BAD_SIGNATURE, 'signature does not verify');
  return { ok: true, record: removal };
}

export const toProviderInfo = (r: SignedRecord): ProviderInfo => ({
  nodeId: toHex(r.nodeId), endpoint: r.endpoint, metadata: r.metadata, advertisedAt: r.advertisedAt, ttl: r.ttl,
});

const refuse = (code: ErrorCode, reason: string): { ok: false; code: ErrorCode; reason: string } => ({ ok: false, code, reason });
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
const isPlainObject = (v: unknown): v is Record<string, unknown> => isObject(v) && Object.getPrototypeOf(v) === Object.prototype;
const isBytes = (v: unknown, length: number): v is Uint8Array => v instanceof Uint8Array && v.length === length;
