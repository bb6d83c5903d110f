import { idsEqual, toHex } from '../id.js';
import type { ReplyInfo } from '../routing/requests.js';

/**
 * How many of the nodes nearest a key, of those a lookup knows, count as holders whose
 * answer is the whole set (below).
 */
export const NEAREST_HOLDERS = 3;

/**
 * When a value lookup's paths have nothing left to add (docs/ARCHITECTURE.md, Lookups).
 *
 * A lookup takes the union of the records its paths bring back. A path ends at the first
 * node that holds records for the key, and a node far from the key may hold an older,
 * partial set (it was among the closest before newer nodes joined nearer the key, and took
 * STOREs of that time only): that is why the slower paths get a grace to add theirs. But
 * the few nodes nearest the key hold every provider's record: every STORE goes to the k
 * closest a node lookup proves, the nearest of which no lookup misses (views disagree at
 * the k-th place, not the first), and replication hands records on to a node that joins
 * nearer. So once one of the NEAREST_HOLDERS nearest nodes the lookup knows (the ids its
 * answers named included) has answered with records, the slower paths would bring nothing
 * new, and the lookup need not wait for them. A node farther out does not end the wait.
 *
 * The sender of a routed reply is the envelope's unsigned `src` (README, Security model):
 * a node on a path could answer with a subset of the records in a near node's name. So a
 * single near holder ends the wait only when its answer is authenticated: it came straight
 * from it, over its own channel (one hop, handed over by that node). Otherwise two near
 * holders must have answered, over two paths whose first hops differ: one colluder on one
 * path cannot cut the union short.
 */
export class ValueHolders {
  private readonly near = new Set<string>();
  private proven = false;
  /** The near holder whose straight answer ended the wait (hex), if one did. */
  provenBy: string | undefined;

  /**
   * A path's answer carried records; `isNear(hex)` says whether its sender is among the
   * NEAREST_HOLDERS nearest nodes to the key the lookup knows.
   */
  answered(info: ReplyInfo, isNear: (hex: string) => boolean): void {
    const from = toHex(info.from);
    if (!isNear(from)) return;
    this.near.add(from);
    const straight = info.hops === 1 && info.path.length === 1 && idsEqual(info.path[0]!, info.from);
    if (straight && info.by === from && !this.proven) {
      this.proven = true;
      this.provenBy = from;
    }
  }

  /** True when waiting for the remaining paths would add no record. */
  get settled(): boolean {
    return this.proven || this.near.size >= 2;
  }
}
