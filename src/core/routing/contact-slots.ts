import type { IdHex, NodeId } from '../id.js';

/** A known node's id, as bytes and as hex: what the routing table hands out for a contact. */
export interface ContactId {
  readonly id: NodeId;
  readonly idHex: IdHex;
}

/** Slots made when the store is full: half as many again, at least this many. */
const MIN_GROWTH = 8;

/**
 * What a routing table keeps per contact (routing-table.ts), one slot per contact, each
 * field a typed array indexed by slot: when it was last heard from, its round trip, its
 * unanswered requests, whether it is lost, and its id. A contact was an object with two
 * boxed times and a Map entry, ~150 bytes, and a simulated node holds 60-80 of them
 * (BENCHMARKS.md, Simulator memory); a slot is ~40 bytes, the id shared with every other
 * table of the process that knows it (IdPool).
 *
 * A freed slot goes back to a free list and is handed out again: callers keep the
 * `ContactId`, never the slot. Slots never used yet are those from `used` on, so the free
 * list holds only freed ones.
 */
export class ContactSlots {
  refs: Array<ContactId | undefined> = [];
  /** lastSeen, caller's clock (ms). */
  seen = new Float64Array(0);
  /** Last measured round trip; NaN when none was measured. */
  rtt = new Float64Array(0);
  failures = new Uint32Array(0);
  /** 1 while lost (routing-table.ts Contact.lost). */
  lost = new Uint8Array(0);
  /**
   * The id's bytes 0-3 and 4-7, each as one unsigned number: closest() orders a bucket's
   * members, and lookups by bytes find one, reading these side by side rather than following
   * each contact to its id (a cache miss or two per contact, on every FIND_NODE answered).
   */
  hi = new Uint32Array(0);
  lo = new Uint32Array(0);
  private readonly free: number[] = [];
  private used = 0;

  /** A slot for `ref`, every field set. */
  take(ref: ContactId, seen: number, rttMs: number | undefined): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      if (this.used === this.seen.length) this.grow();
      slot = this.used++;
    }
    this.refs[slot] = ref;
    this.seen[slot] = seen;
    this.rtt[slot] = rttMs ?? NaN;
    this.failures[slot] = 0;
    this.lost[slot] = 0;
    this.hi[slot] = wordAt(ref.id, 0);
    this.lo[slot] = wordAt(ref.id, 4);
    return slot;
  }

  /** The slot's contact is gone: its id is let go, the slot is reused. */
  release(slot: number): void {
    this.refs[slot] = undefined;
    this.free.push(slot);
  }

  rttOf(slot: number): number | undefined {
    const rtt = this.rtt[slot]!;
    return Number.isNaN(rtt) ? undefined : rtt;
  }

  private grow(): void {
    const before = this.seen.length;
    const size = before + Math.max(MIN_GROWTH, before >> 1);
    this.seen = grown(this.seen, new Float64Array(size));
    this.rtt = grown(this.rtt, new Float64Array(size));
    this.failures = grown(this.failures, new Uint32Array(size));
    this.lost = grown(this.lost, new Uint8Array(size));
    this.hi = grown(this.hi, new Uint32Array(size));
    this.lo = grown(this.lo, new Uint32Array(size));
  }
}

/** Bytes at..at+3 of `id` as one unsigned number, the first the most significant. */
export const wordAt = (id: Uint8Array, at: number): number =>
  ((id[at]! << 24) | (id[at + 1]! << 16) | (id[at + 2]! << 8) | id[at + 3]!) >>> 0;

function grown<T extends Float64Array | Uint32Array | Uint8Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
