import { bitAt, type NodeId } from '../id.js';
import type { BucketMembers, ContactId, RoutingTable } from './routing-table.js';

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
    .map((b) => subPrefixGroups(table.members(b), usable, b, open, policy.perBucket));
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
 * the most recently seen. The bucket's usable members are read in place, by position
 * (the table's copy of each as a Contact was most of a review's cost); the sub-prefixes
 * are ranked in the order each was first met, as they always were, so that ties come out
 * the same.
 */
function subPrefixGroups(
  bucket: BucketMembers,
  usable: (c: ContactId) => boolean,
  b: number,
  open: ReadonlySet<string>,
  perBucket: number,
): ContactId[] {
  const better = (x: number, y: number): boolean => {
    const xo = open.has(bucket.ref(x).idHex);
    const yo = open.has(bucket.ref(y).idHex);
    if (xo !== yo) return xo;
    const xl = bucket.lost(x);
    if (xl !== bucket.lost(y)) return !xl;
    return bucket.lastSeen(x) > bucket.lastSeen(y);
  };
  const members: number[] = [];
  // Per sub-prefix, the position of its best member; the sub-prefixes in the order first met.
  const best = [-1, -1, -1, -1];
  const met: number[] = [];
  for (let at = 0; at < bucket.length; at++) {
    const c = bucket.ref(at);
    if (!usable(c)) continue;
    members.push(at);
    const group = b + 2 < 256 ? (bitAt(c.id, b + 1) << 1) | bitAt(c.id, b + 2) : 0;
    const current = best[group]!;
    if (current < 0) met.push(group);
    if (current < 0 || better(at, current)) best[group] = at;
  }
  const picked = met.map((group) => best[group]!).sort((x, y) => (better(x, y) ? -1 : 1));
  // A bucket with fewer sub-prefixes than slots (deep buckets) fills up with its other contacts.
  for (let i = members.length - 1; i >= 0; i--) {
    if (picked.length >= perBucket) break;
    if (!picked.includes(members[i]!)) picked.push(members[i]!);
  }
  if (picked.length > perBucket) picked.length = perBucket;
  return picked.map((at) => bucket.ref(at));
}
