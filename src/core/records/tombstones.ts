import type { SignedRemoval } from './records.js';

/**
 * What a signed removal leaves behind in the record store: a tombstone per (key, kind,
 * owner) that refuses any version of the owner's record advertised at or before the
 * removal, until no such version could pass checkRecord anywhere (removalDeadline).
 *
 * Two kinds, because removals are free to make and tombstones are not free to keep:
 *   - held: the removal deleted an entry stored here (or followed one that did). These
 *     are the ones a replay would undo: this node served the record. The store counts them
 *     with its entries, against the same count and byte bounds, so one only ever takes the
 *     place of the entry it removed and no flood of removals can push one out. Only the
 *     owner's own removals can (the per-owner cap below).
 *   - unheld: a removal of something not stored here (it may arrive before a replica).
 *     Anyone can make these with throw-away keys, so they have a pool of their own, and a
 *     full pool forgets its oldest first.
 * Each owner keeps at most maxPerOwner tombstones of either kind, its earliest-expiring
 * forgotten first: only that owner's removals can fill its share.
 */

export interface Tombstone {
  readonly removal: SignedRemoval;
  readonly owner: string;
  readonly expiresAt: number;
  readonly held: boolean;
}

export interface TombstoneLimits {
  maxPerOwner: number;
  maxUnheld: number;
}

/**
 * What a store without tombstones reads (Tombstones.put makes its own before any write): shared
 * by every store, so never written to: every write follows a put, or a tombstone found by id.
 */
const NO_TOMBSTONES: ReadonlyMap<string, Tombstone> = new Map();
const NO_OWNERS = new Map<string, Set<string>>();
const NO_IDS = new Set<string>();

export class Tombstones {
  // The three are made at the first tombstone (put): most nodes never hold one, and an empty
  // Map or Set is ~0.2 KB, which a simulator of thousands of nodes pays for each.
  private byId: Map<string, Tombstone> | undefined;
  /** owner hex → ids of its tombstones. */
  private byOwner: Map<string, Set<string>> = NO_OWNERS;
  /** Ids of unheld tombstones, oldest first. */
  private unheld: Set<string> = NO_IDS;
  private heldCount = 0;

  constructor(private readonly limits: TombstoneLimits) {}

  get size(): number {
    return this.byId?.size ?? 0;
  }

  /** Held tombstones, which the store counts with its entries. */
  get held(): number {
    return this.heldCount;
  }

  get(id: string): Tombstone | undefined {
    return this.byId?.get(id);
  }

  values(): IterableIterator<Tombstone> {
    return (this.byId ?? NO_TOMBSTONES).values();
  }

  /**
   * Keep `tomb` at `id`, merged with a live one already there: the later removal, the later
   * expiry, held if either was.
   */
  put(id: string, tomb: Tombstone, now: number): void {
    if (this.byId === undefined) {
      this.byId = new Map();
      this.byOwner = new Map();
      this.unheld = new Set();
    }
    const previous = this.byId.get(id);
    if (previous !== undefined && previous.expiresAt > now) {
      tomb = {
        removal: previous.removal.removedAt > tomb.removal.removedAt ? previous.removal : tomb.removal,
        owner: tomb.owner,
        expiresAt: Math.max(previous.expiresAt, tomb.expiresAt),
        held: previous.held || tomb.held,
      };
    }
    if (previous !== undefined) this.delete(id);
    const mine = this.byOwner.get(tomb.owner);
    if (mine !== undefined && mine.size >= this.limits.maxPerOwner) this.evictEarliest(mine);
    if (!tomb.held) this.makeRoomForUnheld();
    if (!tomb.held) this.unheld.add(id);
    else this.heldCount++;
    this.byId.set(id, tomb);
    let set = this.byOwner.get(tomb.owner);
    if (set === undefined) this.byOwner.set(tomb.owner, (set = new Set()));
    set.add(id);
  }

  /**
   * A held tombstone gives its place in the entry bound back to a newer record of its owner
   * stored where it stands (while that entry lives, it refuses older versions itself).
   */
  release(id: string): void {
    const t = this.byId?.get(id);
    if (t === undefined || !t.held) return;
    this.byId!.set(id, { ...t, held: false });
    this.heldCount--;
    this.makeRoomForUnheld();
    this.unheld.add(id);
  }

  delete(id: string): void {
    const t = this.byId?.get(id);
    if (t === undefined) return;
    this.byId!.delete(id);
    if (t.held) this.heldCount--;
    else this.unheld.delete(id);
    const set = this.byOwner.get(t.owner);
    set?.delete(id);
    if (set !== undefined && set.size === 0) this.byOwner.delete(t.owner);
  }

  prune(now: number): void {
    if (this.byId === undefined) return;
    for (const [id, t] of this.byId) if (t.expiresAt <= now) this.delete(id);
  }

  /** A full pool of unheld tombstones forgets its oldest. */
  private makeRoomForUnheld(): void {
    while (this.unheld.size >= this.limits.maxUnheld && this.unheld.size > 0)
      this.delete(this.unheld.values().next().value!);
  }

  private evictEarliest(ids: Iterable<string>): void {
    let victim: string | undefined;
    let earliest = Infinity;
    for (const id of ids) {
      const t = this.byId?.get(id);
      if (t !== undefined && t.expiresAt < earliest) {
        earliest = t.expiresAt;
        victim = id;
      }
    }
    if (victim !== undefined) this.delete(victim);
  }
}
