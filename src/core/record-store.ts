import { MAX_ENTRIES_PER_KEY, MAX_KEYS_PER_OWNER, MAX_STORED_KEYS } from './constants.js';
import { ErrorCode } from './errors.js';
import { fromHex, toHex } from './id.js';
import type { Verifier } from './identity.js';
import { checkRecord, checkRemoval, type RecordKind, type SignedRecord } from './records.js';

/**
 * What a storing node holds for others: at each (key, kind) a list of records upserted by
 * owner. Expiry is computed on this node's own clock when a record arrives, so a signer's
 * skewed clock cannot stretch a record's life; every bound holds under attack (entries
 * per key, keys per owner, keys overall, tombstones).
 */
export type PutResult = { ok: true; replaced: boolean } | { ok: false; code: ErrorCode; reason: string };

interface Entry {
  record: SignedRecord;
  expiresAt: number;
}

interface Tombstone {
  removedAt: number;
  expiresAt: number;
}

export interface RecordStoreOptions {
  verify: Verifier;
  maxEntriesPerKey?: number;
  maxKeysPerOwner?: number;
  maxKeys?: number;
}

export interface RecordStoreJSON {
  entries: Array<{ record: SignedRecord; expiresAt: number }>;
}

const slot = (keyHex: string, kind: RecordKind): string => `${keyHex}:${kind}`;

export class RecordStore {
  private readonly slots = new Map<string, Map<string, Entry>>();
  private readonly tombstones = new Map<string, Tombstone>();
  /** owner hex → slots it holds entries in. */
  private readonly owners = new Map<string, Set<string>>();
  private readonly verify: Verifier;
  private readonly maxEntriesPerKey: number;
  private readonly maxKeysPerOwner: number;
  private readonly maxKeys: number;
  private entries = 0;

  constructor(opts: RecordStoreOptions) {
    this.verify = opts.verify;
    this.maxEntriesPerKey = opts.maxEntriesPerKey ?? MAX_ENTRIES_PER_KEY;
    this.maxKeysPerOwner = opts.maxKeysPerOwner ?? MAX_KEYS_PER_OWNER;
    this.maxKeys = opts.maxKeys ?? MAX_STORED_KEYS;
  }

  get size(): number {
    return this.entries;
  }

  /**
   * Store an untrusted record. `remainingMs` is the lifetime a replica reports when it
   * hands a record on; it can only shorten the record's life here, never extend it.
   */
  put(raw: unknown, now: number, remainingMs?: number): PutResult {
    const checked = checkRecord(raw, now, this.verify);
    if (!checked.ok) return checked;
    const record = checked.record;
    const owner = toHex(record.nodeId);
    const id = slot(toHex(record.key), record.kind);
    const tomb = this.tombstones.get(`${id}:${owner}`);
    if (tomb !== undefined && tomb.expiresAt > now && tomb.removedAt >= record.advertisedAt) {
      return { ok: false, code: ErrorCode.STALE, reason: 'the owner removed this record' };
    }
    const lifetime = Math.min(record.ttl * 1000, remainingMs ?? Infinity);
    const expiresAt = now + Math.max(0, lifetime);
    const entries = this.slots.get(id);
    const current = entries?.get(owner);
    if (current !== undefined) {
      if (record.advertisedAt < current.record.advertisedAt) return { ok: false, code: ErrorCode.STALE, reason: 'a newer record is stored' };
      entries!.set(owner, { record, expiresAt });
      return { ok: true, replaced: true };
    }
    if (entries !== undefined && entries.size >= this.maxEntriesPerKey) {
      return { ok: false, code: ErrorCode.KEY_FULL, reason: `key holds ${entries.size} entries` };
    }
    const ownerSlots = this.owners.get(owner);
    if (ownerSlots !== undefined && ownerSlots.size >= this.maxKeysPerOwner) {
      return { ok: false, code: ErrorCode.OWNER_QUOTA, reason: `owner holds ${ownerSlots.size} keys here` };
    }
    if (entries === undefined && this.slots.size >= this.maxKeys) {
      return { ok: false, code: ErrorCode.STORE_FULL, reason: 'this node stores its maximum of keys' };
    }
    const target = entries ?? new Map<string, Entry>();
    if (entries === undefined) this.slots.set(id, target);
    target.set(owner, { record, expiresAt });
    (ownerSlots ?? this.ownerSet(owner)).add(id);
    this.entries++;
    return { ok: true, replaced: false };
  }

  /** Apply a signed removal; it also leaves a tombstone so an older copy cannot be replayed in. */
  remove(raw: unknown, now: number): PutResult {
    const checked = checkRemoval(raw, now, this.verify);
    if (!checked.ok) return checked;
    const removal = checked.record;
    const owner = toHex(removal.nodeId);
    const id = slot(toHex(removal.key), removal.kind);
    const current = this.slots.get(id)?.get(owner);
    if (current !== undefined && current.record.advertisedAt > removal.removedAt) {
      return { ok: false, code: ErrorCode.STALE, reason: 'the stored record is newer than the removal' };
    }
    if (current !== undefined) this.deleteEntry(id, owner);
    // Tombstones are bounded like entries: only owners that may hold keys here get one.
    const tombKey = `${id}:${owner}`;
    if (this.tombstones.size < this.maxKeys * 2 || this.tombstones.has(tombKey)) {
      const expiresAt = now + (current ? current.expiresAt - now : 24 * 3600_000);
      this.tombstones.set(tombKey, { removedAt: removal.removedAt, expiresAt: Math.min(expiresAt, now + 24 * 3600_000) });
    }
    return { ok: true, replaced: current !== undefined };
  }

  /** Live records at a key; never an expired one. */
  get(key: Uint8Array, kind: RecordKind, now: number): SignedRecord[] {
    const entries = this.slots.get(slot(toHex(key), kind));
    if (entries === undefined) return [];
    const out: SignedRecord[] = [];
    for (const e of entries.values()) if (e.expiresAt > now) out.push(e.record);
    return out;
  }

  getWithRemaining(key: Uint8Array, kind: RecordKind, now: number): Array<{ record: SignedRecord; remainingMs: number }> {
    const entries = this.slots.get(slot(toHex(key), kind));
    if (entries === undefined) return [];
    const out: Array<{ record: SignedRecord; remainingMs: number }> = [];
    for (const e of entries.values()) if (e.expiresAt > now) out.push({ record: e.record, remainingMs: e.expiresAt - now });
    return out;
  }

  /** Distinct keys with entries (either kind). */
  keys(): Uint8Array[] {
    const seen = new Set<string>();
    for (const id of this.slots.keys()) seen.add(id.slice(0, 64));
    return [...seen].map((hex) => fromHex(hex));
  }

  pruneExpired(now: number): number {
    let removed = 0;
    for (const [id, entries] of this.slots) {
      for (const [owner, e] of entries) {
        if (e.expiresAt <= now) {
          this.deleteEntry(id, owner);
          removed++;
        }
      }
    }
    for (const [k, t] of this.tombstones) if (t.expiresAt <= now) this.tombstones.delete(k);
    return removed;
  }

  /** Take over every live entry of another store (a restored snapshot). */
  absorb(other: RecordStore, now: number): void {
    for (const entries of other.slots.values()) {
      for (const e of entries.values()) if (e.expiresAt > now) this.put(e.record, now, e.expiresAt - now);
    }
  }

  stats(): Record<string, number> {
    return { entries: this.entries, keys: this.slots.size, owners: this.owners.size, tombstones: this.tombstones.size };
  }

  toJSON(now: number): RecordStoreJSON {
    const entries: RecordStoreJSON['entries'] = [];
    for (const slotEntries of this.slots.values()) {
      for (const e of slotEntries.values()) if (e.expiresAt > now) entries.push({ record: e.record, expiresAt: e.expiresAt });
    }
    return { entries };
  }

  /** Rebuild from persisted data: expired entries are dropped and every record is verified again. */
  static fromJSON(data: unknown, now: number, verify: Verifier): RecordStore {
    const store = new RecordStore({ verify });
    const list = typeof data === 'object' && data !== null ? (data as { entries?: unknown }).entries : undefined;
    if (!Array.isArray(list)) return store;
    for (const item of list as unknown[]) {
      if (typeof item !== 'object' || item === null) continue;
      const { record, expiresAt } = item as { record?: unknown; expiresAt?: unknown };
      if (typeof expiresAt !== 'number' || expiresAt <= now) continue;
      store.put(record, now, expiresAt - now);
    }
    return store;
  }

  private ownerSet(owner: string): Set<string> {
    const s = new Set<string>();
    this.owners.set(owner, s);
    return s;
  }

  private deleteEntry(id: string, owner: string): void {
    const entries = this.slots.get(id);
    if (entries === undefined || !entries.delete(owner)) return;
    this.entries--;
    if (entries.size === 0) this.slots.delete(id);
    const ownerSlots = this.owners.get(owner);
    ownerSlots?.delete(id);
    if (ownerSlots !== undefined && ownerSlots.size === 0) this.owners.delete(owner);
  }
}

