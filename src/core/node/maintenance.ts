import type { NodeId } from '../id.js';
import type { LookupOptions, LookupResult } from '../lookup/lookup.js';
import type { RecordStore } from '../records/record-store.js';
import type { RoutingTable } from '../routing/routing-table.js';

/**
 * A part with work to do now and then; it decides itself whether any is due. `dueAt` is
 * the earliest time its tick can have any (Infinity: none until something happens); a
 * change that brings that earlier is told through its host's `wake`.
 */
interface Periodic {
  tick(now: number): void;
  dueAt(): number;
}

/**
 * Record expiry and stale buckets keep no due time of their own: they are looked at in
 * every tick, and at least this often. A bucket untouched for 15 minutes is refreshed at
 * most this much later; an expired record is never handed out meanwhile (reads check the
 * time), only its memory waits.
 */
export const HOUSEKEEPING_MS = 5_000;

export interface MaintenanceHost {
  readonly self: NodeId;
  readonly table: Pick<RoutingTable, 'nonEmptyBuckets' | 'staleBuckets'>;
  readonly records: Pick<RecordStore, 'pruneExpired'>;
  /** The parts with periodic work, by the order they run in (see tick). */
  readonly liveness: Periodic;
  readonly quietContacts: Periodic;
  readonly vetting: Periodic;
  readonly siblingExchange: Periodic;
  readonly neighbourSet: Periodic;
  readonly replication: Periodic;
  count(name: string, by?: number): void;
  findNode(target: NodeId, opts: LookupOptions): Promise<LookupResult>;
  /** A lookup of a random id in bucket `index` (lookup.ts refreshBucket); it never rejects. */
  refreshBucket(index: number): Promise<unknown>;
}

/**
 * What keeps a node in the mesh beyond answering: joining (and joining again after
 * isolation), and the periodic work of every part. Kademlia keeps a table fresh by looking
 * up an id in each bucket that has gone quiet; a join does that for every bucket at once,
 * after the lookup of our own id that finds our siblings.
 */
export class Maintenance {
  private joining: Promise<void> | undefined;
  private lastTickAt = -Infinity;

  constructor(
    private readonly host: MaintenanceHost,
    /** Siblings a join confirms (the closest contacts, asked directly). */
    private readonly siblings: number,
    private readonly bucketRefreshMs: number,
  ) {}

  /** Join: look ourselves up, then refresh every bucket once. A join already running is joined, not repeated. */
  join(): Promise<void> {
    this.joining ??= this.run().finally(() => {
      this.joining = undefined;
    });
    return this.joining;
  }

  /** Everything periodic, always in this order: a seeded simulation replays only if it stays the same. */
  tick(now: number): void {
    const { host } = this;
    this.lastTickAt = now;
    host.liveness.tick(now);
    host.quietContacts.tick(now);
    host.vetting.tick(now);
    host.siblingExchange.tick(now);
    host.neighbourSet.tick(now);
    const pruned = host.records.pruneExpired(now);
    if (pruned > 0) host.count('records.expired', pruned);
    for (const b of host.table.staleBuckets(now, this.bucketRefreshMs)) void host.refreshBucket(b);
    host.replication.tick(now);
  }

  /**
   * The earliest time a tick can have work: a driver may skip the ticks before it (the
   * simulator does: thousands of nodes, most of whose ticks find nothing due), as long as
   * it listens to the parts' wake calls. A tick at any time is still correct.
   */
  dueAt(): number {
    const { host } = this;
    return Math.min(
      this.lastTickAt + HOUSEKEEPING_MS,
      host.liveness.dueAt(),
      host.quietContacts.dueAt(),
      host.vetting.dueAt(),
      host.siblingExchange.dueAt(),
      host.neighbourSet.dueAt(),
      host.replication.dueAt(),
    );
  }

  private async run(): Promise<void> {
    const { host } = this;
    // Confirming our closest siblings is what a join needs; they become neighbours.
    await host.findNode(host.self, { refine: this.siblings });
    // Refreshes only need to meet some nodes of each bucket: one path each is enough.
    const deepest = Math.max(0, ...host.table.nonEmptyBuckets());
    const refreshes: Promise<unknown>[] = [];
    for (let b = 0; b <= Math.min(deepest, 255); b++) refreshes.push(host.refreshBucket(b));
    await Promise.all(refreshes);
  }
}
