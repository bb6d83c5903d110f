import { MAX_ENTRIES_PER_KEY, MAX_KEYS_PER_OWNER, MAX_STORED_KEYS } from '../constants.js';
import { ErrorCode } from '../errors.js';
import { isIdHex, isNodeId, toHex, type NodeId } from '../id.js';
import type { Verifier } from '../identity.js';
import { entryBytes, OWNER_BYTES, SLOT_BYTES, TOMBSTONE_BYTES } from './footprint.js';
import {
  checkRecord,
  checkRemoval,
  recordDeadline,
  removalDeadline,
  type RecordKind,
  type SignedRecord,
  type SignedRemoval,
} from './records.js';
import { SpentVersions } from './spent.js';
import { Tombstones } from './tombstones.js';

/**
 * What a storing node holds for others (docs/ARCHITECTURE.md, Semantics): at each (key, kind) the
 * records of many owners side by side, upserted by node id, each with an expiry on this
 * node's own clock. Every structure is bounded, so a flood of valid-looking records or
 * removals costs CPU but never unbounded memory:
 *   - entries per (key, kind)       maxEntriesPerKey  → KEY_FULL
 *   - (key, kind) slots per owner   maxKeysPerOwner   → OWNER_QUOTA
 *   - (key, kind) slots overall     maxKeys           → STORE_FULL
 *   - entries overall               maxEntries        → STORE_FULL
 *   - estimated heap overall        maxBytes          → STORE_FULL (footprint.ts)
 *   - tombstones (tombstones.ts): those that removed an entry here count as entries, in
 *     both bounds above; the others have a pool of maxTombstones; per owner maxKeysPerOwner.
 */

/** Entries overall. */
export const MAX_STORED_ENTRIES = 50_000;
/**
 * Estimated heap overall (footprint.ts): entries, their slots and owners. Small honest
 * records reach MAX_STORED_ENTRIES first; records with the costliest metadata stop at
 * about 14,000.
 */
export const MAX_STORED_BYTES = 128 * 2 ** 20;

export type StoreRefusal = { ok: false; code: ErrorCode; reason: string };
export type PutResult = { ok: true; replaced: boolean } | StoreRefusal;
/** `removal`: the checked copy (known fields only, own byte arrays), the one to pass on. */
export type RemoveResult = { ok: true; removed: boolean; removal: SignedRemoval } | StoreRefusal;

export interface StoredEntry {
  readonly record: SignedRecord;
  /** Local time (this node's clock) after which the entry is gone. */
  readonly expiresAt: number;
}

export interface RecordStoreOptions {
  verify: Verifier;
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

export interface RecordStoreStats {
  /** (key, kind) slots holding entries. */
  keys: number;
  entries: number;
  owners: number;
  tombstones: number;
  /** Estimated heap of entries, slots, owners and the tombstones counted as entries (footprint.ts). */
  bytes: number;
}

/** The persisted form: msgpack- and structured-clone-friendly plain objects. */
export interface RecordStoreJSON {
  version: 1;
  entries: Array<{ record: SignedRecord; expiresAt: number }>;
  /** held: the removal deleted an entry here (tombstones.ts). */
  tombstones: Array<{ removal: SignedRemoval; expiresAt: number; held?: boolean }>;
}

interface Entry {
  record: SignedRecord;
  expiresAt: number;
  /** entryBytes(record), charged to the store's byte budget. */
  bytes: number;
  /** The latest signed deadline of the versions of this owner's record held in this slot (spent.ts). */
  coversUntil: number;
}

interface Slot {
  key: NodeId;
  kind: RecordKind;
  /** owner (node id hex) → entry */
  entries: Map<string, Entry>;
}

const slotId = (keyHex: string, kind: RecordKind): string => `${keyHex}:${kind}`;
const tombId = (slot: string, owner: string): string => `${slot}:${owner}`;
const isKind = (v: unknown): v is RecordKind => v === 'provider' || v === 'subscriber';

function keyHexOf(key: NodeId | string): string | undefined {
  if (typeof key === 'string') return isIdHex(key) ? key : undefined;
  return isNodeId(key) ? toHex(key) : undefined;
}

const refusal = (code: ErrorCode, reason: string): StoreRefusal => ({ ok: false, code, reason });

export class RecordStore {
  private readonly slots = new Map<string, Slot>();
  /** owner hex → ids of the slots it holds entries in. */
  private readonly owners = new Map<string, Set<string>>();
  private readonly tombstones: Tombstones;
  private readonly spent: SpentVersions;
  private readonly verify: Verifier;
  private readonly maxEntriesPerKey: number;
  private readonly maxKeysPerOwner: number;
  private readonly maxKeys: number;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private entryCount = 0;
  private bytes = 0;
  private lastFullPruneAt = -Infinity;

  constructor(options: RecordStoreOptions) {
    this.verify = options.verify;
    this.maxEntriesPerKey = options.maxEntriesPerKey ?? MAX_ENTRIES_PER_KEY;
    this.maxKeysPerOwner = options.maxKeysPerOwner ?? MAX_KEYS_PER_OWNER;
    this.maxKeys = options.maxKeys ?? MAX_STORED_KEYS;
    this.maxEntries = options.maxEntries ?? MAX_STORED_ENTRIES;
    this.maxBytes = options.maxBytes ?? MAX_STORED_BYTES;
    this.tombstones = new Tombstones({
      maxPerOwner: this.maxKeysPerOwner,
      maxUnheld: options.maxTombstones ?? this.maxKeys,
    });
    this.spent = new SpentVersions(options.maxSpent ?? this.maxKeys);
  }

  /** Entries held (an expired one counts until it is pruned or touched). */
  get size(): number {
    return this.entryCount;
  }

  /**
   * Store an untrusted record (network path: never throws). The entry expires on this
   * node's clock at now + min(ttl, remainingMs, time left before the record's signed
   * deadline), so neither a replica's hint nor a replayed old record extends its life; and
   * a version that expired here is refused (EXPIRED) however often it is sent again.
   */
  put(raw: unknown, now: number, remainingMs?: number): PutResult {
    const checked = checkRecord(raw, now, this.verify);
    if (!checked.ok) return checked;
    if (remainingMs !== undefined && (typeof remainingMs !== 'number' || Number.isNaN(remainingMs))) {
      return refusal(ErrorCode.MALFORMED, 'remainingMs: expected a number of milliseconds');
    }
    return this.insert(checked.record, now, remainingMs ?? Infinity);
  }

  /**
   * Apply an untrusted signed removal: only a removal signed by the record's owner passes
   * checkRemoval, and it deletes that owner's entry at (key, kind) if it was advertised
   * at or before removedAt. A tombstone stays behind so the removed record cannot be
   * stored again by a replay or a late replica while it could still pass checkRecord.
   */
  remove(raw: unknown, now: number): RemoveResult {
    const checked = checkRemoval(raw, now, this.verify);
    if (!checked.ok) return checked;
    return this.applyRemoval(checked.removal, now, Infinity, false);
  }

  /** Live records at (key, kind), newest first; never an expired one. A junk key yields []. */
  get(key: NodeId | string, kind: RecordKind, now: number): SignedRecord[] {
    return this.live(key, kind, now).map((e) => e.record);
  }

  /** Live records with the time they have left here, for handing on to another node. */
  getWithRemaining(
    key: NodeId | string,
    kind: RecordKind,
    now: number,
  ): Array<{ record: SignedRecord; remainingMs: number }> {
    return this.live(key, kind, now).map((e) => ({ record: e.record, remainingMs: e.expiresAt - now }));
  }

  /** Entries at (key, kind) with their local expiry; only live ones when `now` is given. */
  entriesForKey(key: NodeId | string, kind: RecordKind, now?: number): StoredEntry[] {
    const keyHex = keyHexOf(key);
    const slot = keyHex === undefined || !isKind(kind) ? undefined : this.slots.get(slotId(keyHex, kind));
    if (slot === undefined) return [];
    const out: StoredEntry[] = [];
    for (const e of slot.entries.values())
      if (now === undefined || e.expiresAt > now) out.push({ record: e.record, expiresAt: e.expiresAt });
    return out;
  }

  /** Distinct keys holding entries, of either kind. */
  keys(): NodeId[] {
    const seen = new Map<string, NodeId>();
    for (const [id, slot] of this.slots) {
      const keyHex = id.slice(0, 64);
      if (!seen.has(keyHex)) seen.set(keyHex, slot.key);
    }
    return [...seen.values()];
  }

  /** (key, kind) pairs holding entries. */
  slotKeys(): Array<{ key: NodeId; kind: RecordKind }> {
    return [...this.slots.values()].map((s) => ({ key: s.key, kind: s.kind }));
  }

  /** Drop expired entries and tombstones; returns the number of entries dropped. */
  pruneExpired(now: number): number {
    let removed = 0;
    for (const [id, slot] of this.slots) {
      for (const [owner, e] of slot.entries) {
        if (e.expiresAt <= now) {
          this.expire(id, owner, e, now);
          removed++;
        }
      }
    }
    this.tombstones.prune(now);
    this.spent.prune(now);
    return removed;
  }

  /** Take over the live entries and tombstones of another store (a restored snapshot). */
  absorb(other: RecordStore, now: number): void {
    for (const t of other.tombstones.values())
      if (t.expiresAt > now) this.applyRemoval(t.removal, now, t.expiresAt, t.held);
    for (const slot of other.slots.values()) {
      for (const e of slot.entries.values()) if (e.expiresAt > now) this.insert(e.record, now, e.expiresAt - now);
    }
  }

  stats(): RecordStoreStats {
    return {
      keys: this.slots.size,
      entries: this.entryCount,
      owners: this.owners.size,
      tombstones: this.tombstones.size,
      bytes: this.usedBytes,
    };
  }

  /** A snapshot of what is live at `now`. */
  toJSON(now: number): RecordStoreJSON {
    const live = (expiresAt: number): boolean => typeof now !== 'number' || expiresAt > now;
    const entries: RecordStoreJSON['entries'] = [];
    for (const slot of this.slots.values()) {
      for (const e of slot.entries.values())
        if (live(e.expiresAt)) entries.push({ record: e.record, expiresAt: e.expiresAt });
    }
    const tombstones: RecordStoreJSON['tombstones'] = [];
    for (const t of this.tombstones.values())
      if (live(t.expiresAt))
        tombstones.push({ removal: t.removal, expiresAt: t.expiresAt, ...(t.held ? { held: true } : {}) });
    return { version: 1, entries, tombstones };
  }

  /**
   * Rebuild from a snapshot (untrusted: it may be corrupt or from an older build). Every
   * record and removal is checked again, expired ones are dropped, and restored entries
   * keep at most the lifetime they had. Never throws.
   */
  static fromJSON(
    data: unknown,
    now: number,
    verify: Verifier,
    options: Omit<RecordStoreOptions, 'verify'> = {},
  ): RecordStore {
    const store = new RecordStore({ ...options, verify });
    store.load(data, now);
    return store;
  }

  /**
   * Load a persisted snapshot (toJSON's shape) into this store, with put's checks: `verify`
   * may be trustSignatures for this node's own snapshot. Loading in place, rather than
   * fromJSON then absorb, inserts each record once. Returns how many entries it added.
   */
  load(data: unknown, now: number, verify: Verifier = this.verify): number {
    if (typeof data !== 'object' || data === null) return 0;
    const before = this.entryCount;
    const { entries, tombstones } = data as { entries?: unknown; tombstones?: unknown };
    if (Array.isArray(tombstones)) {
      for (const item of tombstones as unknown[]) {
        const expiresAt = expiryOf(item, now);
        if (expiresAt === undefined) continue;
        const checked = checkRemoval((item as { removal?: unknown }).removal, now, verify);
        if (checked.ok) this.applyRemoval(checked.removal, now, expiresAt, (item as { held?: unknown }).held === true);
      }
    }
    if (Array.isArray(entries)) {
      for (const item of entries as unknown[]) {
        const expiresAt = expiryOf(item, now);
        if (expiresAt === undefined) continue;
        const checked = checkRecord((item as { record?: unknown }).record, now, verify);
        if (checked.ok) this.insert(checked.record, now, expiresAt - now);
      }
    }
    return this.entryCount - before;
  }

  // -------------------------------------------------------------------------------------

  private live(key: NodeId | string, kind: RecordKind, now: number): Entry[] {
    const keyHex = keyHexOf(key);
    const slot = keyHex === undefined || !isKind(kind) ? undefined : this.slots.get(slotId(keyHex, kind));
    if (slot === undefined) return [];
    const out: Entry[] = [];
    for (const e of slot.entries.values()) if (e.expiresAt > now) out.push(e);
    return out.sort((a, b) => b.record.advertisedAt - a.record.advertisedAt);
  }

  /** Upsert a verified record with at most `maxLifetimeMs` to live here. */
  private insert(record: SignedRecord, now: number, maxLifetimeMs: number): PutResult {
    const lifetime = Math.min(record.ttl * 1000, maxLifetimeMs, recordDeadline(record) - now);
    if (!(lifetime > 0)) return refusal(ErrorCode.EXPIRED, 'record: no lifetime left');
    const expiresAt = now + lifetime;
    const owner = toHex(record.nodeId);
    const id = slotId(toHex(record.key), record.kind);

    const tid = tombId(id, owner);
    let tomb = this.tombstones.get(tid);
    if (tomb !== undefined && tomb.expiresAt <= now) {
      this.tombstones.delete(tid);
      tomb = undefined;
    }
    if (tomb !== undefined && tomb.removal.removedAt >= record.advertisedAt)
      return refusal(ErrorCode.STALE, 'record: removed by its owner');

    let slot = this.slots.get(id);
    let current = slot?.entries.get(owner);
    if (current !== undefined && current.expiresAt <= now) {
      this.expire(id, owner, current, now);
      current = undefined;
    }
    if (this.spent.refuses(tid, record.advertisedAt, now))
      return refusal(ErrorCode.EXPIRED, 'record: this version already expired here');
    const bytes = entryBytes(record);
    const coversUntil = Math.max(recordDeadline(record), current?.coversUntil ?? 0);
    if (current !== undefined) {
      if (record.advertisedAt < current.record.advertisedAt)
        return refusal(ErrorCode.STALE, 'record: a newer one is stored');
      const grows = bytes - current.bytes;
      if (grows > 0 && this.usedBytes + grows > this.maxBytes) {
        this.pruneWhenFull(now);
        if (this.usedBytes + grows > this.maxBytes)
          return refusal(ErrorCode.STORE_FULL, `store: holds ~${this.usedBytes} bytes`);
      }
      // The same advertisement again may keep its longer expiry; a newer one starts afresh.
      const keep =
        record.advertisedAt === current.record.advertisedAt ? Math.max(current.expiresAt, expiresAt) : expiresAt;
      slot!.entries.set(owner, { record, expiresAt: keep, bytes, coversUntil });
      this.bytes += grows;
      return { ok: true, replaced: true };
    }
    slot = this.slots.get(id);

    if (slot !== undefined && slot.entries.size >= this.maxEntriesPerKey) {
      this.pruneSlot(id, now);
      if (slot.entries.size >= this.maxEntriesPerKey) {
        return refusal(ErrorCode.KEY_FULL, `key: holds ${slot.entries.size} entries`);
      }
    }
    const ownerSlots = this.owners.get(owner);
    if (ownerSlots !== undefined && ownerSlots.size >= this.maxKeysPerOwner) {
      for (const s of [...ownerSlots]) this.pruneSlot(s, now);
      const left = this.owners.get(owner)?.size ?? 0;
      if (left >= this.maxKeysPerOwner)
        return refusal(ErrorCode.OWNER_QUOTA, `owner: holds entries under ${left} keys here`);
    }
    // What the entry adds: itself, and the slot and owner set it may open, less the place of a
    // tombstone of its owner's here, which it takes over.
    const cost = (): number =>
      bytes + (this.slots.has(id) ? 0 : SLOT_BYTES) + (this.owners.has(owner) ? 0 : OWNER_BYTES);
    const freed = (): number => (tomb?.held === true ? 1 : 0);
    if (
      (!this.slots.has(id) && this.slots.size >= this.maxKeys) ||
      this.counted - freed() >= this.maxEntries ||
      this.usedBytes - freed() * TOMBSTONE_BYTES + cost() > this.maxBytes
    ) {
      this.pruneWhenFull(now);
      if (!this.slots.has(id) && this.slots.size >= this.maxKeys)
        return refusal(ErrorCode.STORE_FULL, `store: holds ${this.slots.size} keys`);
      if (this.counted - freed() >= this.maxEntries)
        return refusal(
          ErrorCode.STORE_FULL,
          `store: holds ${this.entryCount} entries, ${this.tombstones.held} tombstones of removed ones`,
        );
      if (this.usedBytes - freed() * TOMBSTONE_BYTES + cost() > this.maxBytes)
        return refusal(ErrorCode.STORE_FULL, `store: holds ~${this.usedBytes} bytes`);
    }

    // A newer record where its owner's tombstone stands takes the place the tombstone held.
    if (tomb !== undefined) this.tombstones.release(tid);
    this.bytes += cost();
    slot = this.slots.get(id);
    if (slot === undefined) {
      slot = { key: record.key, kind: record.kind, entries: new Map() };
      this.slots.set(id, slot);
    }
    slot.entries.set(owner, { record, expiresAt, bytes, coversUntil });
    this.entryCount++;
    let set = this.owners.get(owner);
    if (set === undefined) this.owners.set(owner, (set = new Set()));
    set.add(id);
    return { ok: true, replaced: false };
  }

  /**
   * Apply a verified removal; its tombstone lives until no version it covers could pass
   * checkRecord (removalDeadline), at most until `maxExpiresAt`. `held` (a restored
   * tombstone that had removed an entry) is honoured while the entry bound has room.
   */
  private applyRemoval(removal: SignedRemoval, now: number, maxExpiresAt: number, held: boolean): RemoveResult {
    const owner = toHex(removal.nodeId);
    const id = slotId(toHex(removal.key), removal.kind);
    let current = this.slots.get(id)?.entries.get(owner);
    if (current !== undefined && current.expiresAt <= now) {
      this.expire(id, owner, current, now);
      current = undefined;
    }
    if (current !== undefined && current.record.advertisedAt > removal.removedAt) {
      return refusal(ErrorCode.STALE, 'removal: the stored record is newer');
    }
    // The entry removed here turns into its tombstone, in its place in the entry bound.
    if (current !== undefined) this.deleteEntry(id, owner);
    const expiresAt = Math.min(removalDeadline(removal), maxExpiresAt);
    const counts =
      current !== undefined ||
      (held && this.counted < this.maxEntries && this.usedBytes + TOMBSTONE_BYTES <= this.maxBytes);
    if (expiresAt > now) this.tombstones.put(tombId(id, owner), { removal, owner, expiresAt, held: counts }, now);
    return { ok: true, removed: current !== undefined, removal };
  }

  /** Entries and the tombstones that took an entry's place: what maxEntries bounds. */
  private get counted(): number {
    return this.entryCount + this.tombstones.held;
  }

  /** Estimated heap of entries, slots, owners and held tombstones: what maxBytes bounds. */
  private get usedBytes(): number {
    return this.bytes + this.tombstones.held * TOMBSTONE_BYTES;
  }

  private pruneSlot(id: string, now: number): void {
    const slot = this.slots.get(id);
    if (slot === undefined) return;
    for (const [owner, e] of slot.entries) if (e.expiresAt <= now) this.expire(id, owner, e, now);
  }

  /** An entry whose time here is up: gone, and its version (and older ones) not taken back (spent.ts). */
  private expire(id: string, owner: string, entry: Entry, now: number): void {
    this.deleteEntry(id, owner);
    this.spent.note(tombId(id, owner), entry.record.advertisedAt, entry.coversUntil, now);
  }

  /** A full prune at most once a second, so a flood against a full store stays cheap. */
  private pruneWhenFull(now: number): void {
    if (now - this.lastFullPruneAt < 1_000) return;
    this.lastFullPruneAt = now;
    this.pruneExpired(now);
  }

  private deleteEntry(id: string, owner: string): void {
    const slot = this.slots.get(id);
    const entry = slot?.entries.get(owner);
    if (slot === undefined || entry === undefined) return;
    slot.entries.delete(owner);
    this.entryCount--;
    this.bytes -= entry.bytes;
    if (slot.entries.size === 0) {
      this.slots.delete(id);
      this.bytes -= SLOT_BYTES;
    }
    const set = this.owners.get(owner);
    set?.delete(id);
    if (set !== undefined && set.size === 0) {
      this.owners.delete(owner);
      this.bytes -= OWNER_BYTES;
    }
  }
}

function expiryOf(item: unknown, now: number): number | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  const expiresAt = (item as { expiresAt?: unknown }).expiresAt;
  return typeof expiresAt === 'number' && expiresAt > now ? expiresAt : undefined;
}
