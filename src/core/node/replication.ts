import type { DhtNode } from './dht-node.js';
import { compareDistance, fromHex, toHex } from '../id.js';

/** How often stored records are offered to newly seen nodes that became one of the k closest. */
const REPLICATION_INTERVAL_MS = 10_000;
/** Bound on the work of one pass (keys examined). */
const MAX_KEYS_PER_PASS = 2_000;

/**
 * Kademlia replication: a node that stores records hands them on to nodes that join
 * closer to the key, so a lookup that reaches the newcomer still finds them. Records are
 * handed on with their remaining lifetime, never a fresh one: replication must not keep
 * a record alive after its owner stopped re-advertising it.
 */
export class Replication {
  private fresh = new Set<string>();
  private nextPassAt = 0;

  constructor(private readonly node: DhtNode) {}

  noteNewContact(idHex: string): void {
    this.fresh.add(idHex);
  }

  tick(now: number): void {
    if (now < this.nextPassAt || this.fresh.size === 0) return;
    this.nextPassAt = now + REPLICATION_INTERVAL_MS;
    const { node } = this;
    const newcomers = [...this.fresh].filter((hex) => node.table.get(hex) !== undefined).map((hex) => fromHex(hex));
    this.fresh = new Set();
    if (newcomers.length === 0) return;
    let examined = 0;
    for (const key of node.records.keys()) {
      if (++examined > MAX_KEYS_PER_PASS) break;
      const closest = node.table.closest(key, node.k);
      const kth = closest[closest.length - 1];
      // Only a node that is itself among the k closest holds the record legitimately.
      if (closest.length >= node.k && kth !== undefined && compareDistance(key, node.self, kth.id) > 0) continue;
      for (const newcomer of newcomers) {
        if (closest.length >= node.k && kth !== undefined && compareDistance(key, newcomer, kth.id) > 0) continue;
        this.handOn(key, newcomer, now);
      }
    }
  }

  private handOn(key: Uint8Array, to: Uint8Array, now: number): void {
    const { node } = this;
    const peer = node.table.get(toHex(to))?.idHex;
    if (peer === undefined) return;
    for (const kind of ['provider', 'subscriber'] as const) {
      for (const { record, remainingMs } of node.records.getWithRemaining(key, kind, now)) {
        // The receiver starts the clock when the STORE arrives: hand it on short by what a
        // routed message may spend in transit, so the trip can never lengthen the record's life.
        const handedMs = remainingMs - node.hopTimeoutMs;
        if (handedMs <= 0) continue;
        node.count('replication.handedOn');
        node.placements.note(kind, key, record.nodeId, peer);
        node.messenger.sendToPeer(peer, 'STORE', { rid: node.messenger.newId(), record, remainingMs: handedMs });
      }
    }
  }
}
