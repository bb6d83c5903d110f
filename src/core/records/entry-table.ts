import { isIdHex, isNodeId, toHex, type NodeId } from '../id.js';
import { OWNER_BYTES, SLOT_BYTES } from './footprint.js';
import type { RecordKind, SignedRecord } from './records.js';

export interface Entry {
  record: SignedRecord;
  /** Local time (this node's clock) after which the entry is gone. */
  expiresAt: number;
  /** entryBytes(record), charged to the store's byte budget. */
  bytes: number;
  /** The latest signed deadline of the versions of this owner's record held in this slot (spent.ts). */
  coversUntil: number;
}

export interface Slot {
  key: NodeId;
  kind: RecordKind;
  /** owner (node id hex) → entry */
  entries: Map<string, Entry>;
}

/** A (key, kind) slot's id: the key's hex, then the kind. */
export const slotId = (keyHex: string, kind: RecordKind): string => `${keyHex}:${kind}`;

const isKind = (v: unknown): v is RecordKind => v === 'provider' || v === 'subscriber';

function keyHexOf(key: NodeId | string): string | undefined {
  if (typeof key === 'string') return isIdHex(key) ? key : undefined;
  return isNodeId(key) ? toHex(key) : undefined;
}

/**
 * The entries a record store holds, filed twice: by (key, kind) slot, for lookups, and by
 * owner, for the per-owner quota. It keeps the store's running totals with them (entries,
 * and the estimated heap of entries, slots and owner sets, footprint.ts), so that checking
 * a bound costs nothing and no total drifts from what is held: every entry goes in and out
 * through add, replace and delete. It decides nothing: what may enter, and when an entry
 * expires, is the store's to say (record-store.ts).
 */
export class EntryTable {
  private readonly slots = new Map<string, Slot>();
  /** owner hex → ids of the slots it holds entries in. */
  private readonly owners = new Map<string, Set<string>>();
  private entryCount = 0;
  private heldBytes = 0;

  /** Entries held, expired or not. */
  get size(): number {
    return this.entryCount;
  }

  /** Estimated heap of entries, slots and owner sets. */
  get bytes(): number {
    return this.heldBytes;
  }

  get slotCount(): number {
    return this.slots.size;
  }

  get ownerCount(): number {
    return this.owners.size;
  }

  /** Every slot by id. An entry may be deleted while this is iterated (a Map allows it). */
  allSlots(): IterableIterator<[string, Slot]> {
    return this.slots.entries();
  }

  slot(id: string): Slot | undefined {
    return this.slots.get(id);
  }

  /** The slot at an untrusted (key, kind); undefined for a junk key or kind. */
  find(key: NodeId | string, kind: RecordKind): Slot | undefined {
    const keyHex = keyHexOf(key);
    return keyHex === undefined || !isKind(kind) ? undefined : this.slots.get(slotId(keyHex, kind));
  }

  /** The entries at (key, kind), only those live at `now` when it is given. */
  entriesAt(key: NodeId | string, kind: RecordKind, now?: number): Entry[] {
    const slot = this.find(key, kind);
    if (slot === undefined) return [];
    const out: Entry[] = [];
    for (const e of slot.entries.values()) if (now === undefined || e.expiresAt > now) out.push(e);
    return out;
  }

  /** The entries live at `now` at (key, kind), newest advertisement first. */
  live(key: NodeId | string, kind: RecordKind, now: number): Entry[] {
    return this.entriesAt(key, kind, now).sort((a, b) => b.record.advertisedAt - a.record.advertisedAt);
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

  entry(id: string, owner: string): Entry | undefined {
    return this.slots.get(id)?.entries.get(owner);
  }

  hasSlot(id: string): boolean {
    return this.slots.has(id);
  }

  /** Ids of the slots `owner` holds entries in. */
  slotsOf(owner: string): ReadonlySet<string> | undefined {
    return this.owners.get(owner);
  }

  /** What a new entry of `bytes` would add: itself, and the slot and owner set it may open. */
  costOfNew(id: string, owner: string, bytes: number): number {
    return bytes + (this.slots.has(id) ? 0 : SLOT_BYTES) + (this.owners.has(owner) ? 0 : OWNER_BYTES);
  }

  /** A new entry of `owner` (none held at `id` yet), opening its slot and owner set when needed. */
  add(id: string, key: NodeId, kind: RecordKind, owner: string, entry: Entry): void {
    this.heldBytes += this.costOfNew(id, owner, entry.bytes);
    let slot = this.slots.get(id);
    if (slot === undefined) {
      slot = { key, kind, entries: new Map() };
      this.slots.set(id, slot);
    }
    slot.entries.set(owner, entry);
    this.entryCount++;
    let set = this.owners.get(owner);
    if (set === undefined) this.owners.set(owner, (set = new Set()));
    set.add(id);
  }

  /** Put `entry` in the place of the one `owner` holds at `id`. */
  replace(id: string, owner: string, entry: Entry): void {
    const slot = this.slots.get(id);
    const current = slot?.entries.get(owner);
    if (slot === undefined || current === undefined) return;
    slot.entries.set(owner, entry);
    this.heldBytes += entry.bytes - current.bytes;
  }

  /** Remove an entry, and its slot and owner set once they are empty. */
  delete(id: string, owner: string): void {
    const slot = this.slots.get(id);
    const entry = slot?.entries.get(owner);
    if (slot === undefined || entry === undefined) return;
    slot.entries.delete(owner);
    this.entryCount--;
    this.heldBytes -= entry.bytes;
    if (slot.entries.size === 0) {
      this.slots.delete(id);
      this.heldBytes -= SLOT_BYTES;
    }
    const set = this.owners.get(owner);
    set?.delete(id);
    if (set !== undefined && set.size === 0) {
      this.owners.delete(owner);
      this.heldBytes -= OWNER_BYTES;
    }
  }
}
