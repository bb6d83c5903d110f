import type { SignedRecord } from './records.js';

/**
 * What a stored entry costs in heap, estimated from its fields, so the record store can
 * be bounded by bytes as well as by count. The figures were measured in V8 (Node 20,
 * record-memory.test.ts measures them again on every run) and rounded up: the estimate
 * is meant to be an upper bound of the heap an entry really takes, so a store that stays
 * within its byte budget by this estimate stays within it in fact.
 *
 * Measured (heapUsed + external after a full GC, per entry, 1,024 entries, a 256-character
 * endpoint): empty metadata 1.6 KB; the costliest shapes metadata.ts lets through (16
 * distinct keys to long strings) 5.3-5.9 KB, 6.3 KB when every entry also opens a (key,
 * kind) slot and an owner of its own. Before metadata had to be flat, 2 KB of nested empty
 * maps took ~136 KB.
 */

/** An entry with its record: the record object, four byte arrays, map entries, owner strings. */
export const ENTRY_BYTES = 2_048;
/** A (key, kind) slot: its map, its id strings, its place in the store's maps (measured ~300 bytes). */
export const SLOT_BYTES = 512;
/** An owner's set of slots and its place in the store's maps (measured ~150 bytes). */
export const OWNER_BYTES = 512;
/**
 * A tombstone: the removal (three byte arrays and the key), its id and owner strings. Not
 * more than ENTRY_BYTES, so an entry turning into its tombstone never grows the store.
 */
export const TOMBSTONE_BYTES = 2_048;
/** A metadata entry beyond its key and value: the property, its share of the object's hidden classes. */
const PROPERTY_BYTES = 128;
/** A heap string's header; its characters are counted at two bytes each (the worst case). */
const STRING_HEADER_BYTES = 24;
const NUMBER_BYTES = 16;

export const stringBytes = (s: string): number => STRING_HEADER_BYTES + 2 * s.length;

/** Flat metadata (metadata.ts): per entry, its property, its key and its value. */
export function metadataBytes(metadata: Record<string, unknown>): number {
  let bytes = 0;
  for (const key in metadata) {
    if (!Object.prototype.hasOwnProperty.call(metadata, key)) continue;
    const value = metadata[key];
    bytes += PROPERTY_BYTES + stringBytes(key);
    if (typeof value === 'string') bytes += stringBytes(value);
    else if (typeof value === 'number') bytes += NUMBER_BYTES;
  }
  return bytes;
}

/** The estimated heap of one stored entry, its slot and owner not included. */
export const entryBytes = (record: Pick<SignedRecord, 'endpoint' | 'metadata'>): number =>
  ENTRY_BYTES + stringBytes(record.endpoint) + metadataBytes(record.metadata);
