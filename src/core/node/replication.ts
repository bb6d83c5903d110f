import type { Messaging, NodeBasics } from '../context.js';
import { compareDistance, toHex, type NodeId } from '../id.js';
import type { Placements } from '../records/placements.js';
import type { RecordStore } from '../records/record-store.js';
import type { RoutingTable } from '../routing/routing-table.js';

/** How often stored records are offered to newly seen nodes that became one of the k closest. */
const REPLICATION_INTERVAL_MS = 10_000;
/** Bound on the work of one pass (keys examined). */
const MAX_KEYS_PER_PASS = 2_000;

export interface ReplicationHost extends NodeBasics {
  readonly table: Pick<RoutingTable, 'get' | 'closest'>;
  readonly records: Pick<RecordStore, 'keys' | 'getWithRemaining'>;
  /** Where each copy went, for a removal to follow. */
  readonly placements: Pick<Placements, 'note'>;
  readonly messenger: Pick<Messaging, 'newId' | 'sendToPeer'>;
  /** Work may be due at `at` (maintenance.ts, dueAt). */
  wake?(at: number): void;
}

/**
 * Kademlia replication: a node that stores records hands them on to nodes that join
 * closer to the key, so a lookup that reaches the newcomer still finds them. Records are
 * handed on with their remaining lifetime, never a fresh one: replication must not keep
 * a record alive after its owner stopped re-advertising it.
 */
export class Replication {
  /** Made at the first newcomer of a pass (an empty Set is ~0.2 KB a node, and most passes have none). */
  private fresh: Set<string> | undefined;
  private nextPassAt = 0;

  constructor(private readonly host: ReplicationHost) {}

  noteNewContact(idHex: string): void {
    if (this.fresh === undefined) this.host.wake?.(this.nextPassAt);
    (this.fresh ??= new Set()).add(idHex);
  }

  /** A pass is due only with newcomers to hand records on to. */
  dueAt(): number {
    return this.fresh === undefined ? Infinity : this.nextPassAt;
  }

  tick(now: number): void {
    if (now < this.nextPassAt || this.fresh === undefined) return;
    this.nextPassAt = now + REPLICATION_INTERVAL_MS;
    const { host } = this;
    // The table's copy of each id (the bytes of its hex), not a new one parsed from the hex.
    const newcomers: NodeId[] = [];
    for (const hex of this.fresh) {
      const contact = host.table.get(hex);
      if (contact !== undefined) newcomers.push(contact.id);
    }
    this.fresh = undefined;
    if (newcomers.length === 0) return;
    let examined = 0;
    for (const key of host.records.keys()) {
      if (++examined > MAX_KEYS_PER_PASS) break;
      const closest = host.table.closest(key, host.k);
      const kth = closest[closest.length - 1];
      // Only a node that is itself among the k closest holds the record legitimately.
      if (closest.length >= host.k && kth !== undefined && compareDistance(key, host.self, kth.id) > 0) continue;
      for (const newcomer of newcomers) {
        if (closest.length >= host.k && kth !== undefined && compareDistance(key, newcomer, kth.id) > 0) continue;
        this.handOn(key, newcomer, now);
      }
    }
  }

  private handOn(key: Uint8Array, to: Uint8Array, now: number): void {
    const { host } = this;
    const peer = host.table.get(toHex(to))?.idHex;
    if (peer === undefined) return;
    for (const kind of ['provider', 'subscriber'] as const) {
      for (const { record, remainingMs } of host.records.getWithRemaining(key, kind, now)) {
        // The receiver starts the clock when the STORE arrives: hand it on short by what a
        // routed message may spend in transit, so the trip can never lengthen the record's life.
        const handedMs = remainingMs - host.hopTimeoutMs;
        if (handedMs <= 0) continue;
        host.count('replication.handedOn');
        host.placements.note(kind, key, record.nodeId, peer);
        host.messenger.sendToPeer(peer, 'STORE', { rid: host.messenger.newId(), record, remainingMs: handedMs });
      }
    }
  }
}
