import { Decoder, Encoder } from '@msgpack/msgpack';
import { MAX_METADATA_BYTES, MAX_METADATA_ENTRIES } from '../constants.js';

/**
 * A record's metadata: a flat map of at most MAX_METADATA_ENTRIES keys to strings,
 * numbers, booleans or null, at most MAX_METADATA_BYTES encoded.
 *
 * Why flat: the byte bound alone limits what a record weighs on the wire, not what
 * decoding builds from it. 2,048 bytes of nested empty maps decode into ~2,000 objects,
 * ~136 KB of heap for one stored entry; a flat map of a handful of scalars builds a handful
 * of strings and numbers, so the heap an entry takes stays within a small multiple of its
 * bytes (records/footprint.ts estimates it, and record-memory.test.ts measures it).
 */

export const METADATA_RULE = `a flat map of at most ${MAX_METADATA_ENTRIES} keys to strings, numbers, booleans or null, at most ${MAX_METADATA_BYTES} bytes encoded`;

export type MetadataProblem = { code: 'MALFORMED' | 'TOO_LARGE'; expected: string };
export type NormalizedMetadata = { metadata: Record<string, unknown>; bytes: number };

// One encoder and decoder for the process: a fresh pair per record took three times as long.
const encoder = new Encoder({ sortKeys: true });
const decoder = new Decoder();

/** Canonical MessagePack (a copy): map keys sorted, so key order never changes the bytes. */
export const canonical = (value: unknown): Uint8Array => encoder.encode(value);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** undefined is allowed: MessagePack writes it as nil, so the record holds null. */
const isScalar = (v: unknown): boolean =>
  v === null || v === undefined || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

const shown = (v: unknown): string =>
  Array.isArray(v) ? 'an array' : v instanceof Uint8Array ? 'bytes' : typeof v === 'object' ? 'a map' : typeof v;

/**
 * The shape check, before anything is encoded: it stops at the first entry too many or the
 * first nested value, so a huge or deep map received in a frame costs no more than a glance.
 */
function checkShape(metadata: unknown): MetadataProblem | null {
  if (!isPlainObject(metadata))
    return { code: 'MALFORMED', expected: `${METADATA_RULE} (got ${metadata === null ? 'null' : shown(metadata)})` };
  let entries = 0;
  for (const key in metadata) {
    if (!Object.prototype.hasOwnProperty.call(metadata, key)) continue;
    if (++entries > MAX_METADATA_ENTRIES)
      return { code: 'MALFORMED', expected: `${METADATA_RULE} (got more than ${MAX_METADATA_ENTRIES} keys)` };
    const value = metadata[key];
    if (!isScalar(value))
      return {
        code: 'MALFORMED',
        expected: `${METADATA_RULE} (${JSON.stringify(key.slice(0, 40))} holds ${shown(value)})`,
      };
  }
  return null;
}

/**
 * Metadata in its canonical decoded form (decode(encode(m)) with sorted keys, the form
 * signatures are made and checked over) and its encoded size, or the rule it breaks.
 * Never throws (hostile getters and proxies included).
 */
export function normalizeMetadata(metadata: unknown): NormalizedMetadata | MetadataProblem {
  try {
    const problem = checkShape(metadata);
    if (problem) return problem;
    const bytes = canonical(metadata);
    if (bytes.length > MAX_METADATA_BYTES) {
      return { code: 'TOO_LARGE', expected: `at most ${MAX_METADATA_BYTES} bytes encoded (got ${bytes.length})` };
    }
    const decoded = decoder.decode(bytes);
    // The round trip can only change a value's form (undefined → null), never the shape.
    if (!isPlainObject(decoded) || checkShape(decoded) !== null) return { code: 'MALFORMED', expected: METADATA_RULE };
    return { metadata: decoded, bytes: bytes.length };
  } catch {
    return { code: 'MALFORMED', expected: METADATA_RULE };
  }
}

/**
 * Metadata read back from this node's own snapshot, normalized when its record arrived:
 * the shape is checked again, but the canonical encode and decode are skipped when a bound
 * on the encoded size already proves it within MAX_METADATA_BYTES (a MessagePack map header
 * takes at most 3 bytes, a string at most 5 plus 3 per UTF-16 unit, any other scalar at
 * most 9). That round trip was 45% of the checks of a 10,000-record restore (BENCHMARKS.md,
 * Micro). Anything the bound cannot clear, or a value the round trip would change
 * (undefined), goes through normalizeMetadata. Never throws.
 */
export function trustedMetadata(metadata: unknown): { metadata: Record<string, unknown> } | MetadataProblem {
  try {
    const problem = checkShape(metadata);
    if (problem) return problem;
    const m = metadata as Record<string, unknown>;
    let bound = 3;
    for (const key in m) {
      if (!Object.prototype.hasOwnProperty.call(m, key)) continue;
      const value = m[key];
      if (value === undefined) return normalizeMetadata(metadata);
      bound += 5 + 3 * key.length + (typeof value === 'string' ? 5 + 3 * value.length : 9);
    }
    return bound <= MAX_METADATA_BYTES ? { metadata: m } : normalizeMetadata(metadata);
  } catch {
    return { code: 'MALFORMED', expected: METADATA_RULE };
  }
}
