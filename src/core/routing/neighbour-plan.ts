import { bitAt, type NodeId } from '../id.js';
import type { Contact, ContactId, RoutingTable } from './routing-table.js';

/**
 * Which contacts deserve one of the scarce open channels (docs/ARCHITECTURE.md, The neighbour-set rule).
 *
 * Greedy forwarding by XOR distance reaches any node as long as every node keeps at least
 * one neighbour in each non-empty bucket: that neighbour shares at least one more prefix
 * bit with any destination in the bucket. Keeping up to `perBucket` neighbours spread over
 * the bucket's sub-prefixes (the next two bits) makes each hop fix about three bits
 * instead of one, which is what keeps routes at ~log2(N)/3 hops. The closest
 * `siblings` are kept too, so the last hops towards a key never dead-end.
 */
export interface NeighbourPolicy {
  maxNeighbours: number;
  perBucket: number;
  siblings: number;
}

export interface NeighbourPlan {
  /** Contacts to keep or open a channel to, most important first, at most maxNeighbours. */
  desired: string[];
  /**
   * The part of `desired` that routing needs: the siblings and one neighbour per bucket.
   * The rest only shortens routes, so it may be opened slowly (connections are scarce).
   */
  required: Set<string>;
  /** Desired contacts without an open channel. */
  toConnect: string[];
  /** Open channels beyond the cap that are not desired. */
  toDrop: string[];
}

export function planNeighbours(
  self: NodeId,
  table: RoutingTable,
  open: ReadonlySet<string>,
  policy: NeighbourPolicy,
  /** Contacts not to dial now (their channel just closed); other contacts stand in for them. */
  avoid: ReadonlySet<string> = new Set(),
): NeighbourPlan {
  const desired: string[] = [];
  const chosen = new Set<string>();
  const take = (c: ContactId | undefined): void => {
    if (c === undefined || chosen.has(c.idHex) || desired.length >= policy.maxNeighbours) return;
    chosen.add(c.idHex);
    desired.push(c.idHex);
  };

  const usable = (c: ContactId): boolean => open.has(c.idHex) || !avoid.has(c.idHex);
  // Lost contacts stay eligible: redialling one after its cooldown is how it is found alive again.
  for (const c of table.closest(self, policy.siblings, (c) => !usable(c), true)) take(c);

  // First one neighbour per bucket (what reachability needs), then fill up the sub-prefixes.
  const groupsByBucket = table
    .nonEmptyBuckets()
    .map((b) => subPrefixGroups(table.bucket(b).filter(usable), b, open, policy.perBucket));
  for (const groups of groupsByBucket) take(groups[0]);
  const required = new Set(desired);
  for (let round = 1; round < policy.perBucket; round++) {
    for (const groups of groupsByBucket) take(groups[round]);
  }

  const toConnect = desired.filter((id) => !open.has(id));
  const surplus = open.size - policy.maxNeighbours;
  const toDrop = surplus > 0 ? [...open].filter((id) => !chosen.has(id)).slice(0, surplus) : [];
  return { desired, required, toConnect, toDrop };
}

/**
 * One representative per sub-prefix of the bucket (bits b+1, b+2), preferring contacts we
 * already have a channel to (so the plan is stable and costs no new connections), then
 * the most recently seen.
 */
function subPrefixGroups(
  bucket: readonly Contact[],
  b: number,
  open: ReadonlySet<string>,
  perBucket: number,
): Contact[] {
  const best = new Map<number, Contact>();
  for (const c of bucket) {
    const group = b + 2 < 256 ? (bitAt(c.id, b + 1) << 1) | bitAt(c.id, b + 2) : 0;
    const current = best.get(group);
    if (current === undefined || better(c, current, open)) best.set(group, c);
  }
  const picked = [...best.values()].sort((x, y) => (better(x, y, open) ? -1 : 1));
  // A bucket with fewer sub-prefixes than slots (deep buckets) fills up with its other contacts.
  for (const c of [...bucket].reverse()) {
    if (picked.length >= perBucket) break;
    if (!picked.includes(c)) picked.push(c);
  }
  return picked.slice(0, perBucket);
}

function better(a: Contact, b: Contact, open: ReadonlySet<string>): boolean {
  const ao = open.has(a.idHex);
  const bo = open.has(b.idHex);
  if (ao !== bo) return ao;
  const al = a.lost === true;
  if (al !== (b.lost === true)) return !al;
  return a.lastSeen > b.lastSeen;
}
