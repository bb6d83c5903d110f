import type { Neighbour, Neighbours } from '../context.js';
import { idsEqual, prefixOf, toHex, type NodeId } from '../id.js';
import type { HopList } from '../routing/router.js';

/**
 * The open channels by hex id (context.ts, Neighbours), with a second view kept in step:
 * the records in an array and each one's first 32 bits beside it in a typed array.
 *
 * The router picks the next hop of every routed envelope among all open channels (up to
 * MAX_NEIGHBOURS), and vetting asks of every id a neighbour names whether it is one of
 * ours. Walking the Map for that touched every record, a cache miss each: the router's
 * walk alone was 5-8% of a simulation's time (BENCHMARKS.md, Simulator speed). The
 * prefixes side by side are a few cache lines, and a record is read only when its prefix
 * makes it a contender.
 *
 * The array's order is not the Map's (a removal moves the last record into the gap):
 * nothing that reads it depends on order. Iterating the Map is unchanged.
 */
export class NeighbourMap extends Map<string, Neighbour> implements HopList {
  readonly hops: Neighbour[] = [];
  prefixes = new Int32Array(8);

  override set(peer: string, neighbour: Neighbour): this {
    const before = super.get(peer);
    super.set(peer, neighbour);
    const at = before === undefined ? this.hops.length : this.hops.indexOf(before);
    if (at === this.prefixes.length) {
      const grown = new Int32Array(2 * this.prefixes.length);
      grown.set(this.prefixes);
      this.prefixes = grown;
    }
    this.hops[at] = neighbour;
    this.prefixes[at] = prefixOf(neighbour.id) | 0;
    return this;
  }

  override delete(peer: string): boolean {
    const neighbour = super.get(peer);
    if (neighbour === undefined) return false;
    super.delete(peer);
    const at = this.hops.indexOf(neighbour);
    const last = this.hops.length - 1;
    this.hops[at] = this.hops[last]!;
    this.prefixes[at] = this.prefixes[last]!;
    this.hops.pop();
    return true;
  }

  override clear(): void {
    super.clear();
    this.hops.length = 0;
  }

  /** Whether a channel to `id` is open, without turning it into hex. */
  hasId(id: NodeId): boolean {
    const prefix = prefixOf(id) | 0;
    const { hops, prefixes } = this;
    for (let i = 0; i < hops.length; i++) if (prefixes[i] === prefix && idsEqual(hops[i]!.id, id)) return true;
    return false;
  }
}

/** Whether `neighbours` holds a channel to `id`: by its bytes when it is a NeighbourMap, by its hex otherwise (a plain Map, in tests). */
export function hasNeighbour(neighbours: Neighbours, id: NodeId): boolean {
  return neighbours instanceof NeighbourMap ? neighbours.hasId(id) : neighbours.has(toHex(id));
}
