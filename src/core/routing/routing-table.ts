/**
 * Kademlia routing table: 256 k-buckets keyed by shared prefix length with our own id.
 *
 * It does no I/O and evicts nobody on its own. When a bucket is full it only reports the
 * bucket's least-recently-seen contact; the node pings it and then calls `markDead` or
 * `update` (as dht-rpc's table does). Keeping the decision outside makes the table
 * trivially testable and lets the node count and budget the pings it sends.
 */
import { ID_BITS, K, REPLACEMENT_CACHE_SIZE } from '../constants.js';
import { invalidArgument } from '../errors.js';
import { bucketIndex, fromHex, idsEqual, isIdHex, isNodeId, toHex } from '../id.js';
import type { IdHex, NodeId } from '../id.js';
import { ContactSlots, wordAt, type ContactId } from './contact-slots.js';

export type { ContactId } from './contact-slots.js';

/**
 * A known node as the table saw it when asked (bucket(), replacements(), all(), contact()):
 * a copy, so changing it changes nothing in the table. The table itself keeps contacts in
 * slots (contact-slots.ts) and hands out only their `ContactId` where it is asked often.
 */
export interface Contact extends ContactId {
  /** When we last heard from it (caller's clock, ms). */
  readonly lastSeen: number;
  /** Last measured round trip, if any; kept across updates that carry none. */
  readonly rttMs?: number;
  /** Unanswered requests since it was last heard from. */
  readonly failures: number;
  /**
   * Its channel closed and nothing has been heard from it since. A lost contact is neither
   * handed out nor used for lookups, but stays (when its bucket has no replacement) as a
   * candidate to redial: a partition that heals must still find the other side.
   */
  readonly lost?: boolean;
}

export type UpdateResult =
  | { readonly kind: 'self' }
  | { readonly kind: 'updated'; readonly contact: ContactId }
  | { readonly kind: 'added'; readonly contact: ContactId }
  /**
   * The bucket has no room. `candidate` now sits in the bucket's replacement cache; the
   * caller should ping `oldest` and then call `markDead(oldest.id)` (which promotes the
   * candidate) or `update(oldest.id, now)` (which keeps the old, proven contact).
   */
  | { readonly kind: 'full'; readonly oldest: ContactId; readonly bucket: number; readonly candidate: ContactId };

export interface RoutingTableOptions {
  /** Bucket size. */
  k?: number;
  /** Contacts remembered per bucket while it is full, to replace dead ones without a lookup. */
  replacementCacheSize?: number;
  /** Told of every id `markDead` drops (from a bucket or a replacement cache), so the owner can refuse hearsay about it. */
  onDead?: (idHex: IdHex) => void;
  /** Where a new contact's id comes from; by default the table keeps a copy of its own (see IdPool). */
  ids?: IdPool;
}

/**
 * Hands out the one copy of an id (bytes and hex) that tables keep. A node alone keeps its
 * own copies; the simulator's 10,000 nodes in one process share one pool, so a node id
 * known to every table is stored once instead of in each of them (about 300 bytes per
 * contact, most of a simulated node's memory). What it hands out is never written to.
 *
 * The table also finds its contacts through the pool (`find`, then a scan of the one bucket
 * the id belongs in): a Map of its own from hex to contact was ~2 KB a simulated node.
 */
export interface IdPool {
  keep(id: NodeId, idHex: IdHex): ContactId;
  /** The id kept for `idHex`, if any (for a table's own pool: only while the table holds it). */
  find(idHex: string): ContactId | undefined;
}

/** Persisted form: contacts only. Replacement caches are cheap to relearn and go stale fast. */
export interface RoutingTableJSON {
  contacts: Array<{ id: IdHex; lastSeen: number; rttMs?: number }>;
}

/** Ids given either as bytes or as hex, since the node mostly holds peers by their hex id. */
export type IdRef = NodeId | IdHex;

export class RoutingTable {
  readonly self: NodeId;
  readonly selfHex: IdHex;
  readonly k: number;
  readonly replacementCacheSize: number;
  /** Bumped whenever a contact joins or leaves a bucket, so callers can skip work when nothing changed. */
  version = 0;

  /**
   * buckets[i]: the slots of the contacts sharing exactly i leading bits with self, oldest
   * lastSeen first. Only as long as the deepest bucket ever used: past some 20 bits no node
   * shares our prefix, and 256 slots were 2 KB a node in a simulator of 10,000 (see bucketAt).
   */
  private readonly buckets: number[][] = [];
  /** Per bucket, slots of its replacements, most recent last; allocated lazily because most buckets never fill. */
  private readonly caches: Array<number[] | undefined> = [];
  private readonly slots = new ContactSlots();
  private readonly ids: IdPool;
  /** The pool when the table keeps its own ids: it lets go of an id the table drops. */
  private readonly own: OwnIds | undefined;
  private count = 0;
  private lostCount = 0;
  private readonly onDead: ((idHex: IdHex) => void) | undefined;
  /** No bucket past this one has ever held a contact: closest() need not look further. */
  private deepestUsed = -1;
  /**
   * Last update or lookup per bucket; -Infinity ("never") makes a fresh table refresh
   * everything once. Grown as deeper buckets are touched (see touchedAt), for the same
   * reason as `buckets`.
   */
  private touched = new Float64Array(0);

  constructor(self: NodeId, opts: RoutingTableOptions = {}) {
    if (!isNodeId(self)) throw invalidArgument('self', 'a 32-byte Uint8Array', self);
    const k = opts.k ?? K;
    const cacheSize = opts.replacementCacheSize ?? REPLACEMENT_CACHE_SIZE;
    if (!Number.isInteger(k) || k < 1) throw invalidArgument('opts.k', 'a positive integer', k);
    if (!Number.isInteger(cacheSize) || cacheSize < 0) {
      throw invalidArgument('opts.replacementCacheSize', 'a non-negative integer', cacheSize);
    }
    // Copy so a caller reusing its buffer cannot move us around the id space.
    this.self = self.slice();
    this.selfHex = toHex(self);
    this.k = k;
    this.replacementCacheSize = cacheSize;
    this.onDead = opts.onDead;
    this.own = opts.ids === undefined ? new OwnIds() : undefined;
    this.ids = opts.ids ?? this.own!;
  }

  /** Contacts in buckets, lost ones included. */
  get size(): number {
    return this.count;
  }

  /** Contacts marked lost (see Contact.lost). */
  get lost(): number {
    return this.lostCount;
  }

  /** Number of non-empty buckets. */
  get bucketCount(): number {
    let n = 0;
    for (const b of this.buckets) if (b.length > 0) n++;
    return n;
  }

  /** Record that `id` was heard from at `now`; see UpdateResult for what the caller must do. */
  update(id: NodeId, now: number, rttMs?: number): UpdateResult {
    if (!isNodeId(id)) throw invalidArgument('id', 'a 32-byte Uint8Array', id);
    const i = bucketIndex(this.self, id);
    if (i < 0) return { kind: 'self' };
    this.touchBucket(i, now);
    // An empty bucket gets an array of its own here: every update of one adds a contact.
    while (this.buckets.length <= i) this.buckets.push(NO_CONTACTS);
    let bucket = this.buckets[i]!;
    if (bucket === NO_CONTACTS) {
      this.buckets[i] = bucket = [];
      if (i > this.deepestUsed) this.deepestUsed = i;
    }
    const { slots } = this;

    // Most updates are of a contact already in its bucket: found by its bytes, no hex needed.
    const existing = this.slotOfBytes(id);
    if (existing >= 0) {
      removeFrom(bucket, existing);
      slots.seen[existing] = now;
      if (rttMs !== undefined) slots.rtt[existing] = rttMs;
      slots.failures[existing] = 0;
      if (slots.lost[existing] === 1) {
        slots.lost[existing] = 0;
        this.lostCount--;
        this.version++;
      }
      bucket.push(existing);
      return { kind: 'updated', contact: slots.refs[existing]! };
    }
    const idHex = toHex(id);
    const known = this.ids.find(idHex);

    // A cached candidate carries its last rtt forward: it was measured on the same peer.
    let slot = known === undefined ? -1 : this.takeFromCache(i, known);
    if (slot >= 0) {
      slots.seen[slot] = now;
      if (rttMs !== undefined) slots.rtt[slot] = rttMs;
    }
    const ref = known ?? this.ids.keep(id, idHex);

    if (bucket.length < this.k) {
      if (slot < 0) slot = slots.take(ref, now, rttMs);
      bucket.push(slot);
      this.count++;
      this.version++;
      return { kind: 'added', contact: ref };
    }

    if (this.replacementCacheSize > 0) {
      if (slot < 0) slot = slots.take(ref, now, rttMs);
      let cache = this.caches[i];
      if (!cache) this.caches[i] = cache = [];
      cache.push(slot);
      // Most recently seen wins: it is the likeliest to still be online.
      if (cache.length > this.replacementCacheSize) this.free(cache.shift()!);
    } else {
      this.own?.release(idHex);
    }
    return { kind: 'full', oldest: slots.refs[bucket[0]!]!, bucket: i, candidate: ref };
  }

  /**
   * Drop a contact that stopped answering and promote the most recently seen replacement
   * of its bucket. Returns the promoted contact, if any. A dead id found only in a
   * replacement cache is dropped from there too.
   */
  markDead(id: IdRef): Contact | undefined {
    const idHex = hexOf(id);
    const i = this.bucketOf(id);
    if (idHex === undefined || i < 0) return undefined;
    const known = this.ids.find(idHex);
    if (known === undefined) return undefined;
    const cached = this.takeFromCache(i, known);
    const bucket = this.buckets[i];
    const slot = bucket === undefined ? -1 : this.inBucket(bucket, known);
    if (cached >= 0 || slot >= 0) this.onDead?.(idHex);
    if (cached >= 0) this.free(cached);
    if (slot < 0) return undefined;
    this.detach(bucket!, slot);

    const promoted = this.caches[i]?.pop();
    if (promoted === undefined) return undefined;
    // Insert by lastSeen rather than at the tail so the bucket stays truly oldest-first.
    const { seen } = this.slots;
    let at = bucket!.length;
    while (at > 0 && seen[bucket![at - 1]!]! > seen[promoted]!) at--;
    bucket!.splice(at, 0, promoted);
    this.count++;
    return this.snapshot(promoted);
  }

  /** Count an unanswered request; returns the new count (0 for unknown ids). */
  recordFailure(id: IdRef): number {
    const slot = this.slotOf(id);
    return slot < 0 ? 0 : ++this.slots.failures[slot]!;
  }

  /** Forget a contact everywhere without promoting a replacement; true when it was in a bucket. */
  remove(id: IdRef): boolean {
    const idHex = hexOf(id);
    const i = this.bucketOf(id);
    if (idHex === undefined || i < 0) return false;
    const known = this.ids.find(idHex);
    if (known === undefined) return false;
    const cached = this.takeFromCache(i, known);
    if (cached >= 0) this.free(cached);
    const bucket = this.buckets[i];
    const slot = bucket === undefined ? -1 : this.inBucket(bucket, known);
    if (slot < 0) return false;
    this.detach(bucket!, slot);
    return true;
  }

  /**
   * Its channel closed without a word: replace it from the bucket's replacement cache when
   * one waits there, otherwise keep it marked lost until it is heard from again (update)
   * or declared dead. Returns what happened.
   */
  markLost(id: IdRef): 'replaced' | 'lost' | 'unknown' {
    const slot = this.slotOf(id);
    if (slot < 0) return 'unknown';
    const { slots } = this;
    const contact = slots.refs[slot]!;
    const i = bucketIndex(this.self, contact.id);
    if ((this.caches[i]?.length ?? 0) > 0) {
      this.markDead(contact.idHex);
      return 'replaced';
    }
    if (slots.lost[slot] !== 1) {
      slots.lost[slot] = 1;
      this.lostCount++;
      this.version++;
    }
    return 'lost';
  }

  /** The contact's id, when it is in a bucket (lost or not). */
  get(idHex: IdHex): ContactId | undefined {
    const slot = this.slotOf(idHex);
    return slot < 0 ? undefined : this.slots.refs[slot];
  }

  /** A copy of what the table knows of a contact in a bucket. */
  contact(idHex: IdHex): Contact | undefined {
    const slot = this.slotOf(idHex);
    return slot < 0 ? undefined : this.snapshot(slot);
  }

  has(id: IdRef): boolean {
    return this.slotOf(id) >= 0;
  }

  /** In a bucket and marked lost (see Contact.lost). */
  isLost(id: IdRef): boolean {
    const slot = this.slotOf(id);
    return slot >= 0 && this.slots.lost[slot] === 1;
  }

  /** In a bucket and not lost: a contact believed alive. */
  isLive(id: IdRef): boolean {
    const slot = this.slotOf(id);
    return slot >= 0 && this.slots.lost[slot] === 0;
  }

  /** When a contact in a bucket was last heard from. */
  lastSeen(id: IdRef): number | undefined {
    const slot = this.slotOf(id);
    return slot < 0 ? undefined : this.slots.seen[slot];
  }

  /**
   * The id for `idHex` as this table keeps it: a contact's, or the shared pool's (IdPool),
   * so that others holding the id (the neighbour set) need no copy of their own.
   */
  idFor(idHex: IdHex): NodeId {
    const known = this.ids.find(idHex);
    if (known !== undefined) return known.id;
    const id = fromHex(idHex);
    return this.own === undefined ? this.ids.keep(id, idHex).id : id;
  }

  /** A copy of bucket `i`, oldest first (copied so callers may markDead while iterating). */
  bucket(i: number): readonly Contact[] {
    return this.buckets[i]?.map((slot) => this.snapshot(slot)) ?? [];
  }

  /**
   * Bucket `i`'s members read in place, oldest first: for the neighbour plan, which reads
   * every bucket on each review, and copied each member into a Contact to do so. Valid
   * only until the table next changes.
   */
  members(i: number): BucketMembers {
    return new BucketReader(this.buckets[i] ?? NO_CONTACTS, this.slots);
  }

  /** Replacement cache of bucket `i`, most recent last. */
  replacements(i: number): readonly Contact[] {
    return this.caches[i]?.map((slot) => this.snapshot(slot)) ?? [];
  }

  nonEmptyBuckets(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.buckets.length; i++) if (this.buckets[i]!.length > 0) out.push(i);
    return out;
  }

  /** Every contact, bucket 0 first, each bucket oldest first. */
  all(): Contact[] {
    const out: Contact[] = [];
    for (const b of this.buckets) for (const slot of b) out.push(this.snapshot(slot));
    return out;
  }

  /**
   * The `n` contacts closest to `target` by XOR distance, closest first.
   *
   * No global sort: every contact of bucket j shares self's first j bits and differs at
   * bit j, so its distance to `target` has a fixed (j+1)-bit prefix and each bucket is a
   * distance class of its own. With x = self XOR target, bucket j is closer than every
   * deeper bucket exactly when bit j of x is 1. Hence the buckets, nearest class first,
   * are: the j with x_j = 1 ascending, then the j with x_j = 0 descending. We walk them in
   * that order and order only the members of the buckets we actually take. Measured on a
   * 194-contact table (k = 20, 10,000 ids offered): ~4 µs per call against ~57 µs for
   * sorting every contact.
   *
   * Lost contacts are left out unless `includeLost` (the neighbour policy redials them).
   */
  closest(target: NodeId, n: number, exclude?: (c: ContactId) => boolean, includeLost = false): ContactId[] {
    if (!isNodeId(target)) throw invalidArgument('target', 'a 32-byte Uint8Array', target);
    const skipLost = !includeLost && this.lostCount > 0;
    const out: ContactId[] = [];
    if (!(n > 0) || this.count === 0) return out;
    // Buckets past deepestUsed are empty: only the order of those up to it matters. Bit j of
    // self XOR target, read in place: this runs for every FIND_NODE a node answers.
    const { self } = this;
    const last = this.deepestUsed;
    for (let j = 0; j <= last; j++) {
      const differs = ((self[j >> 3]! ^ target[j >> 3]!) >> (7 - (j & 7))) & 1;
      if (differs === 1 && this.take(j, target, n, out, exclude, skipLost)) return out;
    }
    for (let j = last; j >= 0; j--) {
      const differs = ((self[j >> 3]! ^ target[j >> 3]!) >> (7 - (j & 7))) & 1;
      if (differs === 0 && this.take(j, target, n, out, exclude, skipLost)) return out;
    }
    return out;
  }

  /** Note a lookup aimed into bucket `i` (update() notes its own), deferring that bucket's refresh. */
  touchBucket(i: number, now: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= ID_BITS) throw invalidArgument('i', `an integer in [0, ${ID_BITS})`, i);
    if (i >= this.touched.length) {
      const grown = new Float64Array(Math.min(ID_BITS, Math.max(i + 1, 2 * this.touched.length, 16))).fill(-Infinity);
      grown.set(this.touched);
      this.touched = grown;
    }
    if (now > this.touched[i]!) this.touched[i] = now;
  }

  private touchedAt(i: number): number {
    return i < this.touched.length ? this.touched[i]! : -Infinity;
  }

  /**
   * Buckets not updated or looked up for at least `refreshMs`, which the node should refresh
   * with a lookup of a random id in them. Only buckets up to one past the deepest non-empty
   * one count: deeper ranges are (almost surely) empty of nodes, and refreshing the one just
   * past it is how we find nodes closer to us than any we know. Never-touched buckets are
   * stale, so a newly joined node refreshes its whole range once.
   */
  staleBuckets(now: number, refreshMs: number): number[] {
    const out: number[] = [];
    if (this.count === 0) return out;
    // No bucket past deepestUsed ever held a contact: start there rather than at the top.
    let deepest = this.deepestUsed;
    while (this.buckets[deepest]!.length === 0) deepest--;
    const last = Math.min(deepest + 1, ID_BITS - 1);
    for (let i = 0; i <= last; i++) if (now - this.touchedAt(i) >= refreshMs) out.push(i);
    return out;
  }

  toJSON(): RoutingTableJSON {
    const contacts: RoutingTableJSON['contacts'] = [];
    const { slots } = this;
    // Lost contacts are not persisted: a reload would take them for live ones.
    for (const b of this.buckets) {
      for (const slot of b) {
        if (slots.lost[slot] === 1) continue;
        const id = slots.refs[slot]!.idHex;
        const lastSeen = slots.seen[slot]!;
        const rttMs = slots.rttOf(slot);
        contacts.push(rttMs === undefined ? { id, lastSeen } : { id, lastSeen, rttMs });
      }
    }
    return { contacts };
  }

  /**
   * Rebuild a table from `toJSON()` output. Storage is untrusted (older versions, manual
   * edits, corruption), so malformed entries are skipped instead of failing the node's start.
   */
  static fromJSON(self: NodeId, data: unknown, opts?: RoutingTableOptions): RoutingTable {
    const table = new RoutingTable(self, opts);
    const list = typeof data === 'object' && data !== null ? (data as { contacts?: unknown }).contacts : undefined;
    if (!Array.isArray(list)) return table;
    const valid: Array<{ id: NodeId; lastSeen: number; rttMs: number | undefined }> = [];
    for (const entry of list as unknown[]) {
      if (typeof entry !== 'object' || entry === null) continue;
      const { id, lastSeen, rttMs } = entry as { id?: unknown; lastSeen?: unknown; rttMs?: unknown };
      if (!isIdHex(id) || typeof lastSeen !== 'number' || !Number.isFinite(lastSeen)) continue;
      // A bad rtt only loses the measurement, not the contact.
      const rtt = typeof rttMs === 'number' && Number.isFinite(rttMs) && rttMs >= 0 ? rttMs : undefined;
      valid.push({ id: fromHex(id), lastSeen, rttMs: rtt });
    }
    // Replay oldest first so each bucket comes back in least-recently-seen order.
    valid.sort((a, b) => a.lastSeen - b.lastSeen);
    for (const c of valid) table.update(c.id, c.lastSeen, c.rttMs);
    return table;
  }

  /** closest(): append bucket `j`'s members nearest `target` first, up to `n` in all; true once `out` is full. */
  private take(
    j: number,
    target: NodeId,
    n: number,
    out: ContactId[],
    exclude: ((c: ContactId) => boolean) | undefined,
    skipLost: boolean,
  ): boolean {
    const bucket = this.buckets[j]!;
    if (bucket.length === 0) return false;
    // Members agree on their first j+1 distance bits, so whole leading bytes can be skipped.
    const from = (j + 1) >> 3;
    // Only the best `room` are wanted: a bounded insertion pass at the end of `out`. Each member's
    // id is read once, for its next four distance bytes (`keys`): the whole id only breaks a tie.
    const room = Math.floor(n - out.length);
    if (room < 1) return out.length >= n;
    const { refs, lost, hi, lo } = this.slots;
    // Insertion is quadratic: a table with big buckets (a large k) sorts them instead.
    if (bucket.length > INSERTION_MAX) return this.takeSorted(bucket, target, from, room, n, out, exclude, skipLost);
    const start = out.length;
    // The members' distance keys come from the slots' copies of their first eight bytes (all
    // a bucket up to j = 38 needs) without following each member to its id: that was most
    // of closest()'s time, a cache miss or two per member.
    const inSlots = from <= MAX_WORD_FROM;
    const targetWord = inSlots ? windowOf(wordAt(target, 0), wordAt(target, 4), from) : 0;
    const keys = KEYS;
    for (const slot of bucket) {
      if (skipLost && lost[slot] === 1) continue;
      const c = refs[slot]!;
      if (exclude !== undefined && exclude(c)) continue;
      const key = inSlots ? (windowOf(hi[slot]!, lo[slot]!, from) ^ targetWord) >>> 0 : distanceKey(target, c.id, from);
      let at = out.length - start;
      if (at >= room) {
        // Full: one closer than the farthest kept takes its place.
        if (!closer(target, from, key, c, keys[at - 1]!, out[start + at - 1]!)) continue;
        at--;
      } else out.push(c);
      while (at > 0 && closer(target, from, key, c, keys[at - 1]!, out[start + at - 1]!)) {
        out[start + at] = out[start + at - 1]!;
        keys[at] = keys[at - 1]!;
        at--;
      }
      out[start + at] = c;
      keys[at] = key;
    }
    return out.length >= n;
  }

  /** take() for a bucket too big to order by insertion: a sorted copy of its members, the first `room` of them kept. */
  private takeSorted(
    bucket: readonly number[],
    target: NodeId,
    from: number,
    room: number,
    n: number,
    out: ContactId[],
    exclude: ((c: ContactId) => boolean) | undefined,
    skipLost: boolean,
  ): boolean {
    const { refs, lost } = this.slots;
    const members: ContactId[] = [];
    for (const slot of bucket) {
      const c = refs[slot]!;
      if (!((skipLost && lost[slot] === 1) || (exclude !== undefined && exclude(c)))) members.push(c);
    }
    members.sort((a, b) => compareFrom(target, a.id, b.id, from));
    for (let i = 0; i < members.length && i < room; i++) out.push(members[i]!);
    return out.length >= n;
  }

  /** What the table knows of the contact in `slot`, as a copy. */
  private snapshot(slot: number): Contact {
    const { slots } = this;
    const ref = slots.refs[slot]!;
    return {
      id: ref.id,
      idHex: ref.idHex,
      lastSeen: slots.seen[slot]!,
      rttMs: slots.rttOf(slot),
      failures: slots.failures[slot]!,
      lost: slots.lost[slot] === 1 ? true : undefined,
    };
  }

  /**
   * The slot of a contact in a bucket, or -1. Hex that is not an id is found nowhere: the
   * pool holds only ids, so it needs no check of its own (a regular expression, ~2% of a
   * simulation's time when it ran on every call).
   */
  private slotOf(id: IdRef): number {
    if (typeof id !== 'string') return isNodeId(id) ? this.slotOfBytes(id) : -1;
    const known = this.ids.find(id);
    if (known === undefined) return -1;
    // The bucket from the hex just looked up (in cache) rather than from the id's bytes (a
    // cache miss or two away): the pool found it, so it is an id's hex.
    const bucket = this.buckets[bucketOfHex(this.selfHex, id)];
    return bucket === undefined ? -1 : this.inBucket(bucket, known);
  }

  /**
   * slotOf() for an id given as bytes: its bucket's members compared by their first eight
   * bytes in the slots, the whole id only for a match, rather than turning the id into hex
   * to look it up in the pool (a table holds each id once, so equal bytes are the contact).
   */
  private slotOfBytes(id: NodeId): number {
    const bucket = this.buckets[bucketIndex(this.self, id)];
    if (bucket === undefined) return -1;
    const { hi, lo, refs } = this.slots;
    const h = wordAt(id, 0);
    const l = wordAt(id, 4);
    for (const slot of bucket) if (hi[slot] === h && lo[slot] === l && idsEqual(refs[slot]!.id, id)) return slot;
    return -1;
  }

  /** Where `ref` sits in `bucket` (whose members share its prefix), or -1: at most k slots to look at. */
  private inBucket(bucket: readonly number[], ref: ContactId): number {
    const { refs } = this.slots;
    for (const slot of bucket) if (refs[slot] === ref) return slot;
    return -1;
  }

  private detach(bucket: number[], slot: number): void {
    removeFrom(bucket, slot);
    this.count--;
    if (this.slots.lost[slot] === 1) this.lostCount--;
    this.version++;
    this.free(slot);
  }

  /** The slot's contact left the table (bucket and cache): its slot is reused, and a table's own copy of its id let go. */
  private free(slot: number): void {
    const ref = this.slots.refs[slot]!;
    this.slots.release(slot);
    this.own?.release(ref.idHex);
  }

  private bucketOf(id: IdRef): number {
    if (typeof id === 'string') {
      const known = this.ids.find(id);
      if (known) return bucketIndex(this.self, known.id);
      return isIdHex(id) ? bucketIndex(this.self, fromHex(id)) : -1;
    }
    return isNodeId(id) ? bucketIndex(this.self, id) : -1;
  }

  /** Take `ref`'s slot out of bucket `i`'s replacement cache; -1 when it is not there. */
  private takeFromCache(i: number, ref: ContactId): number {
    const cache = this.caches[i];
    if (!cache) return -1;
    const { refs } = this.slots;
    const at = cache.findIndex((slot) => refs[slot] === ref);
    return at < 0 ? -1 : cache.splice(at, 1)[0]!;
  }
}

/** A bucket's members by position, 0 the oldest (RoutingTable.members). */
export interface BucketMembers {
  readonly length: number;
  ref(at: number): ContactId;
  lastSeen(at: number): number;
  lost(at: number): boolean;
}

class BucketReader implements BucketMembers {
  constructor(
    private readonly bucket: readonly number[],
    private readonly slots: ContactSlots,
  ) {}

  get length(): number {
    return this.bucket.length;
  }

  ref(at: number): ContactId {
    return this.slots.refs[this.bucket[at]!]!;
  }

  lastSeen(at: number): number {
    return this.slots.seen[this.bucket[at]!]!;
  }

  lost(at: number): boolean {
    return this.slots.lost[this.bucket[at]!] === 1;
  }
}

/** A table's own ids when it shares no pool: kept while the table holds the contact, let go after. */
class OwnIds implements IdPool {
  private readonly byHex = new Map<string, ContactId>();

  keep(id: NodeId, idHex: IdHex): ContactId {
    let entry = this.byHex.get(idHex);
    if (entry === undefined) {
      // A copy: the caller may reuse its buffer, or hand in a view into a frame.
      entry = { id: id.slice(), idHex };
      this.byHex.set(idHex, entry);
    }
    return entry;
  }

  find(idHex: string): ContactId | undefined {
    return this.byHex.get(idHex);
  }

  release(idHex: string): void {
    this.byHex.delete(idHex);
  }
}

/**
 * What every bucket holds until its first contact: most of the 256 never get one, and an
 * array each was 8 KB per node (a simulator runs 10,000). Frozen, so a write to it fails.
 */
const NO_CONTACTS = Object.freeze([]) as unknown as number[];

function hexOf(id: IdRef): IdHex | undefined {
  if (typeof id === 'string') return isIdHex(id) ? id : undefined;
  return isNodeId(id) ? toHex(id) : undefined;
}

function removeFrom<T>(list: T[], item: T): void {
  const at = list.indexOf(item);
  if (at >= 0) list.splice(at, 1);
}

/** bucketIndex() of two ids given as hex (lowercase, as ids' hex always is); -1 when equal. */
function bucketOfHex(selfHex: string, idHex: string): number {
  for (let i = 0; i < selfHex.length; i++) {
    const a = selfHex.charCodeAt(i);
    const b = idHex.charCodeAt(i);
    if (a !== b) return 4 * i + Math.clz32(hexValue(a) ^ hexValue(b)) - 28;
  }
  return -1;
}

/** The value of a lowercase hex digit's character code. */
const hexValue = (code: number): number => (code <= 0x39 ? code - 0x30 : code - 0x57);

/** Buckets up to this size are ordered by insertion in closest() (k is 20 in the product). */
const INSERTION_MAX = 32;

/** The last `from` whose four bytes lie within the slots' first eight (ContactSlots.hi, lo). */
const MAX_WORD_FROM = 4;

/** Scratch for take()'s distance keys: it runs for every FIND_NODE answered, and calls nothing that calls it again. */
const KEYS = new Uint32Array(INSERTION_MAX);

/** Bytes from..from+3 (from 0 to 4) of an id whose bytes 0-3 are `hi` and 4-7 `lo`, as one unsigned number. */
function windowOf(hi: number, lo: number, from: number): number {
  if (from === 0) return hi;
  if (from === MAX_WORD_FROM) return lo;
  return ((hi << (8 * from)) | (lo >>> (32 - 8 * from))) >>> 0;
}

/** Bytes from..from+3 of id XOR target, as one number (bytes past the id read as 0). */
function distanceKey(target: NodeId, id: NodeId, from: number): number {
  let key = 0;
  for (let i = from; i < from + 4; i++) key = key * 256 + (i < id.length ? id[i]! ^ target[i]! : 0);
  return key;
}

/** Whether `a` (distance key `ka`) is closer to `target` than `b` (key `kb`); both agree before byte `from`. */
function closer(target: NodeId, from: number, ka: number, a: ContactId, kb: number, b: ContactId): boolean {
  return ka < kb || (ka === kb && compareFrom(target, a.id, b.id, from + 4) < 0);
}

/** compareDistance starting at byte `from`, for ids known to agree on their distance before it. */
function compareFrom(target: NodeId, a: NodeId, b: NodeId, from: number): number {
  for (let i = from; i < a.length; i++) {
    const da = a[i]! ^ target[i]!;
    const db = b[i]! ^ target[i]!;
    if (da !== db) return da - db;
  }
  return 0;
}
