import { MAX_ENTRIES_PER_KEY, MAX_KEYS_PER_OWNER, MAX_STORED_KEYS } from '../constants.js';

/**
 * How much a record store holds at most. Every structure is bounded, so a flood of
 * valid-looking records or removals costs CPU but never unbounded memory:
 *   - entries per (key, kind)       maxEntriesPerKey  → KEY_FULL
 *   - (key, kind) slots per owner   maxKeysPerOwner   → OWNER_QUOTA
 *   - (key, kind) slots overall     maxKeys           → STORE_FULL
 *   - entries overall               maxEntries        → STORE_FULL
 *   - estimated heap overall        maxBytes          → STORE_FULL (footprint.ts)
 *   - tombstones (tombstones.ts): those that removed an entry here count as entries, in
 *     both bounds above; the others have a pool of maxTombstones; per owner maxKeysPerOwner.
 *   - versions remembered as expired here (spent.ts): maxSpent.
 */

/** Entries overall. */
export const MAX_STORED_ENTRIES = 50_000;
/**
 * Estimated heap overall (footprint.ts): entries, their slots and owners. Small honest
 * records reach MAX_STORED_ENTRIES first; records with the costliest metadata stop at
 * about 14,000.
 */
export const MAX_STORED_BYTES = 128 * 2 ** 20;

/** The bounds a store is given; those left out take their defaults. */
export interface StoreBoundOptions {
  maxEntriesPerKey?: number;
  maxKeysPerOwner?: number;
  maxKeys?: number;
  maxEntries?: number;
  /** Estimated heap of entries, slots and owners (footprint.ts). */
  maxBytes?: number;
  /**
   * Tombstones of removals of nothing stored here; defaults to maxKeys. Those that removed
   * an entry count as entries instead. Per owner, tombstones are capped at maxKeysPerOwner.
   */
  maxTombstones?: number;
  /** Versions remembered as expired here (spent.ts); defaults to maxKeys. */
  maxSpent?: number;
}

export type StoreBounds = Readonly<Required<StoreBoundOptions>>;

export function storeBounds(options: StoreBoundOptions): StoreBounds {
  const maxKeys = options.maxKeys ?? MAX_STORED_KEYS;
  return {
    maxEntriesPerKey: options.maxEntriesPerKey ?? MAX_ENTRIES_PER_KEY,
    maxKeysPerOwner: options.maxKeysPerOwner ?? MAX_KEYS_PER_OWNER,
    maxKeys,
    maxEntries: options.maxEntries ?? MAX_STORED_ENTRIES,
    maxBytes: options.maxBytes ?? MAX_STORED_BYTES,
    maxTombstones: options.maxTombstones ?? maxKeys,
    maxSpent: options.maxSpent ?? maxKeys,
  };
}
