import { ErrorCode } from '../errors.js';
import { toHex, type NodeId } from '../id.js';
import type { Verifier } from '../identity.js';
import { EntryTable, slotId, type Entry } from './entry-table.js';
import { entryBytes, TOMBSTONE_BYTES } from './footprint.js';
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
import { storeBounds, type StoreBoundOptions, type StoreBounds } from './store-bounds.js';
import { readSnapshot, writeSnapshot, type RecordStoreJSON } from './store-snapshot.js';
import { Tombstones } from './tombstones.js';

export type { RecordStoreJSON } from './store-snapshot.js';

/**
 * What a storing node holds for others (docs/ARCHITECTURE.md, Semantics): at each (key, kind) the
 * records of many owners side by side, upserted by node id, each with an expiry on this
 * node's own clock. Every structure is bounded (store-bounds.ts); a signed removal leaves a
 * tombstone (tombstones.ts), and a version that expired here is not taken back (spent.ts).
 */

export type StoreRefusal = { ok: false; code: ErrorCode; reason: string };
export type PutResult = { ok: true; replaced: boolean } | StoreRefusal;
/** `removal`: the checked copy (known fields only, own byte arrays), the one to pass on. */
export type RemoveResult = { ok: true; removed: boolean; removal: SignedRemoval } | StoreRefusal;

export interface StoredEntry {
  readonly record: SignedRecord;
  /** Local time (this node's clock) after which the entry is gone. */
  readonly expiresAt: number;
}

export interface RecordStoreOptions extends StoreBoundOptions {
  verify: Verifier;
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

const tombId = (slot: string, owner: string): string => `${slot}:${owner}`;

const refusal = (code: ErrorCode, reason: string): StoreRefusal => ({ ok: false, code, reason });

export class RecordStore {
  /** The entries by slot and by owner, with their count and bytes (entry-table.ts). */
  private readonly table = new EntryTable();
  private readonly tombstones: Tombstones;
  private readonly spent: SpentVersions;
  private readonly verify: Verifier;
  private readonly bounds: StoreBounds;
  private lastFullPruneAt = -Infinity;

  constructor(options: RecordStoreOptions) {
    this.verify = options.verify;
    const bounds = (this.bounds = storeBounds(options));
    this.tombstones = new Tombstones({ maxPerOwner: bounds.maxKeysPerOwner, maxUnheld: bounds.maxTombstones });
    this.spent = new SpentVersions(bounds.maxSpent);
  }

  /** Entries held (an expired one counts until it is pruned or touched). */
  get size(): number {
    return this.table.size;
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
    return this.table.live(key, kind, now).map((e) => e.record);
  }

  /** Live records with the time they have left here, for handing on to another node. */
  getWithRemaining(
    key: NodeId | string,
    kind: RecordKind,
    now: number,
  ): Array<{ record: SignedRecord; remainingMs: number }> {
    return this.table.live(key, kind, now).map((e) => ({ record: e.record, remainingMs: e.expiresAt - now }));
  }

  /** Entries at (key, kind) with their local expiry; only live ones when `now` is given. */
  entriesForKey(key: NodeId | string, kind: RecordKind, now?: number): StoredEntry[] {
    return this.table.entriesAt(key, kind, now).map((e) => ({ record: e.record, expiresAt: e.expiresAt }));
  }

  /** Distinct keys holding entries, of either kind. */
  keys(): NodeId[] {
    return this.table.keys();
  }

  /** (key, kind) pairs holding entries. */
  slotKeys(): Array<{ key: NodeId; kind: RecordKind }> {
    return this.table.slotKeys();
  }

  /** Drop expired entries and tombstones; returns the number of entries dropped. */
  pruneExpired(now: number): number {
    let removed = 0;
    for (const [id, slot] of this.table.allSlots()) {
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
    for (const [, slot] of other.table.allSlots()) {
      for (const e of slot.entries.values()) if (e.expiresAt > now) this.insert(e.record, now, e.expiresAt - now);
    }
  }

  stats(): RecordStoreStats {
    return {
      keys: this.table.slotCount,
      entries: this.table.size,
      owners: this.table.ownerCount,
      tombstones: this.tombstones.size,
      bytes: this.usedBytes,
    };
  }

  /** A snapshot of what is live at `now` (store-snapshot.ts). */
  toJSON(now: number): RecordStoreJSON {
    return writeSnapshot(this.allEntries(), this.tombstones.values(), now);
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
    const before = this.table.size;
    readSnapshot(data, now, verify, {
      removal: (removal, expiresAt, held) => void this.applyRemoval(removal, now, expiresAt, held),
      record: (record, expiresAt, ids) => void this.insert(record, now, expiresAt - now, ids),
    });
    return this.table.size - before;
  }

  // -------------------------------------------------------------------------------------

  private *allEntries(): Generator<Entry> {
    for (const [, slot] of this.table.allSlots()) yield* slot.entries.values();
  }

  /**
   * Upsert a verified record with at most `maxLifetimeMs` to live here; `ids`, its owner in
   * hex and its slot id, when a batch read made them already.
   */
  private insert(
    record: SignedRecord,
    now: number,
    maxLifetimeMs: number,
    ids?: { owner: string; slot: string },
  ): PutResult {
    const lifetime = Math.min(record.ttl * 1000, maxLifetimeMs, recordDeadline(record) - now);
    if (!(lifetime > 0)) return refusal(ErrorCode.EXPIRED, 'record: no lifetime left');
    const expiresAt = now + lifetime;
    const owner = ids?.owner ?? toHex(record.nodeId);
    const id = ids?.slot ?? slotId(toHex(record.key), record.kind);

    // Tombstones and spent markers are keyed by (slot, owner); a store with neither (a tab
    // restoring into its empty store) need not build that key for every record.
    const tid = this.tombstones.size > 0 || this.spent.size > 0 ? tombId(id, owner) : undefined;
    let tomb = tid === undefined ? undefined : this.tombstones.get(tid);
    if (tomb !== undefined && tomb.expiresAt <= now) {
      this.tombstones.delete(tid!);
      tomb = undefined;
    }
    if (tomb !== undefined && tomb.removal.removedAt >= record.advertisedAt)
      return refusal(ErrorCode.STALE, 'record: removed by its owner');

    let slot = this.table.slot(id);
    let current = slot?.entries.get(owner);
    if (current !== undefined && current.expiresAt <= now) {
      this.expire(id, owner, current, now);
      current = undefined;
      slot = this.table.slot(id);
    }
    if (this.spent.size > 0 && this.spent.refuses(tombId(id, owner), record.advertisedAt, now))
      return refusal(ErrorCode.EXPIRED, 'record: this version already expired here');
    const bytes = entryBytes(record);
    const coversUntil = Math.max(recordDeadline(record), current?.coversUntil ?? 0);
    if (current !== undefined) {
      if (record.advertisedAt < current.record.advertisedAt)
        return refusal(ErrorCode.STALE, 'record: a newer one is stored');
      const grows = bytes - current.bytes;
      if (grows > 0 && this.usedBytes + grows > this.bounds.maxBytes) {
        this.pruneWhenFull(now);
        if (this.usedBytes + grows > this.bounds.maxBytes)
          return refusal(ErrorCode.STORE_FULL, `store: holds ~${this.usedBytes} bytes`);
      }
      // The same advertisement again may keep its longer expiry; a newer one starts afresh.
      const keep =
        record.advertisedAt === current.record.advertisedAt ? Math.max(current.expiresAt, expiresAt) : expiresAt;
      this.table.replace(id, owner, { record, expiresAt: keep, bytes, coversUntil });
      return { ok: true, replaced: true };
    }

    if (slot !== undefined && slot.entries.size >= this.bounds.maxEntriesPerKey) {
      this.pruneSlot(id, now);
      if (slot.entries.size >= this.bounds.maxEntriesPerKey) {
        return refusal(ErrorCode.KEY_FULL, `key: holds ${slot.entries.size} entries`);
      }
    }
    const ownerSlots = this.table.slotsOf(owner);
    if (ownerSlots !== undefined && ownerSlots.size >= this.bounds.maxKeysPerOwner) {
      for (const s of [...ownerSlots]) this.pruneSlot(s, now);
      const left = this.table.slotsOf(owner)?.size ?? 0;
      if (left >= this.bounds.maxKeysPerOwner)
        return refusal(ErrorCode.OWNER_QUOTA, `owner: holds entries under ${left} keys here`);
    }
    // What the entry adds: itself, and the slot and owner set it may open, less the place of a
    // tombstone of its owner's here, which it takes over.
    const freed = tomb?.held === true ? 1 : 0;
    if (this.overBounds(id, owner, bytes, freed)) {
      this.pruneWhenFull(now);
      if (!this.table.hasSlot(id) && this.table.slotCount >= this.bounds.maxKeys)
        return refusal(ErrorCode.STORE_FULL, `store: holds ${this.table.slotCount} keys`);
      if (this.counted - freed >= this.bounds.maxEntries)
        return refusal(
          ErrorCode.STORE_FULL,
          `store: holds ${this.table.size} entries, ${this.tombstones.held} tombstones of removed ones`,
        );
      if (this.usedBytes - freed * TOMBSTONE_BYTES + this.table.costOfNew(id, owner, bytes) > this.bounds.maxBytes)
        return refusal(ErrorCode.STORE_FULL, `store: holds ~${this.usedBytes} bytes`);
    }

    // A newer record where its owner's tombstone stands takes the place the tombstone held.
    if (tomb !== undefined) this.tombstones.release(tid!);
    this.table.add(id, record.key, record.kind, owner, { record, expiresAt, bytes, coversUntil });
    return { ok: true, replaced: false };
  }

  /** Whether a new entry at (id, owner) of `bytes` would break the key, entry or byte bound. */
  private overBounds(id: string, owner: string, bytes: number, freed: number): boolean {
    return (
      (!this.table.hasSlot(id) && this.table.slotCount >= this.bounds.maxKeys) ||
      this.counted - freed >= this.bounds.maxEntries ||
      this.usedBytes - freed * TOMBSTONE_BYTES + this.table.costOfNew(id, owner, bytes) > this.bounds.maxBytes
    );
  }

  /**
   * Apply a verified removal; its tombstone lives until no version it covers could pass
   * checkRecord (removalDeadline), at most until `maxExpiresAt`. `held` (a restored
   * tombstone that had removed an entry) is honoured while the entry bound has room.
   */
  private applyRemoval(removal: SignedRemoval, now: number, maxExpiresAt: number, held: boolean): RemoveResult {
    const owner = toHex(removal.nodeId);
    const id = slotId(toHex(removal.key), removal.kind);
    let current = this.table.entry(id, owner);
    if (current !== undefined && current.expiresAt <= now) {
      this.expire(id, owner, current, now);
      current = undefined;
    }
    if (current !== undefined && current.record.advertisedAt > removal.removedAt) {
      return refusal(ErrorCode.STALE, 'removal: the stored record is newer');
    }
    // The entry removed here turns into its tombstone, in its place in the entry bound.
    if (current !== undefined) this.table.delete(id, owner);
    const expiresAt = Math.min(removalDeadline(removal), maxExpiresAt);
    const counts =
      current !== undefined ||
      (held && this.counted < this.bounds.maxEntries && this.usedBytes + TOMBSTONE_BYTES <= this.bounds.maxBytes);
    if (expiresAt > now) this.tombstones.put(tombId(id, owner), { removal, owner, expiresAt, held: counts }, now);
    return { ok: true, removed: current !== undefined, removal };
  }

  /** Entries and the tombstones that took an entry's place: what maxEntries bounds. */
  private get counted(): number {
    return this.table.size + this.tombstones.held;
  }

  /** Estimated heap of entries, slots, owners and held tombstones: what maxBytes bounds. */
  private get usedBytes(): number {
    return this.table.bytes + this.tombstones.held * TOMBSTONE_BYTES;
  }

  private pruneSlot(id: string, now: number): void {
    const slot = this.table.slot(id);
    if (slot === undefined) return;
    for (const [owner, e] of slot.entries) if (e.expiresAt <= now) this.expire(id, owner, e, now);
  }

  /** An entry whose time here is up: gone, and its version (and older ones) not taken back (spent.ts). */
  private expire(id: string, owner: string, entry: Entry, now: number): void {
    this.table.delete(id, owner);
    this.spent.note(tombId(id, owner), entry.record.advertisedAt, entry.coversUntil, now);
  }

  /** A full prune at most once a second, so a flood against a full store stays cheap. */
  private pruneWhenFull(now: number): void {
    if (now - this.lastFullPruneAt < 1_000) return;
    this.lastFullPruneAt = now;
    this.pruneExpired(now);
  }
}
