import { ExpiringIds } from '../expiring-ids.js';

/**
 * Nodes this node caught making ids up, remembered for a while (S/Kademlia's lesson that
 * a lookup should not have to rediscover, at a timeout per made-up id, what an earlier
 * lookup already proved). A lookup convicts a node that named an id implausibly close to
 * its target which then never answered (candidates.ts): no genuine id is that close, so
 * the node forged it. A stale contact, or one cut off by a partition or frozen in a
 * paused tab, is at a plausible distance and convicts nobody.
 *
 * A convict's word counts for nothing in any lookup, and it loses its place in the routing
 * table and its channel (dht-node.ts). It is forgotten LIAR_MEMORY_MS after its last
 * offence, and the memory is bounded: the oldest offenders go first.
 */
export const LIAR_MEMORY_MS = 30 * 60_000;
const MAX_REMEMBERED = 4_096;

export class Liars extends ExpiringIds {
  constructor() {
    super(LIAR_MEMORY_MS, MAX_REMEMBERED);
  }

  /** Remember `hex` as a liar; true when it was not already. */
  convict(hex: string, now: number): boolean {
    return this.add(hex, now);
  }
}
