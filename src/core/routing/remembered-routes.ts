import type { NodeId } from '../id.js';

/** Slots made when the table is full: half as many again, at least this many. */
const MIN_GROWTH = 8;
/** Every table's times until its first route (grow() replaces it before anything is written): shared, so never written to. */
const NO_TIMES = new Float64Array(0);

/**
 * Source routes to nodes, remembered for a while: the hops (our neighbour first) by which
 * an envelope to a node should go instead of being forwarded greedily. Return routes
 * (return-routes.ts) and introductions (introductions.ts) are two uses of it, each with its
 * own bound and lifetime and its own reason.
 *
 * Bounded: at most `maxNodes` nodes, each route forgotten `lifetimeMs` after it was last
 * remembered; the latest route wins, and past the bound the oldest goes first. A route only
 * chooses an envelope's hops under the usual hop limit, so it amplifies nothing, and the
 * router falls back to greedy forwarding when a hop on it has no open channel any more.
 *
 * Kept as a Map from node to slot, and per slot the route and when it is forgotten, in
 * arrays grown with use: an object per route and its boxed time were ~60 bytes of a
 * simulated node's ~50 introductions each (BENCHMARKS.md, Simulator memory).
 */
export class RememberedRoutes {
  /** Made at the first route: most nodes never retrace a signal, and an empty Map is ~0.2 KB. */
  private routes: Map<string, number> | undefined;
  private readonly hops: Array<NodeId[] | undefined> = [];
  private until = NO_TIMES;
  /** Slots freed; those never used yet are from `used` on. */
  private readonly free: number[] = [];
  private used = 0;

  constructor(
    private readonly maxNodes: number,
    private readonly lifetimeMs: number,
  ) {}

  /**
   * Envelopes to `hex` go along `via` (our neighbour first) until the route is forgotten.
   * `via` is kept as given, not copied: callers hand over an array nobody changes after (a
   * lookup's route to a responder serves every node that responder introduced).
   */
  remember(hex: string, via: NodeId[], now: number): void {
    if (via.length === 0) return;
    // Re-inserting keeps the map in order of arrival, so the oldest goes first past the bound.
    const routes = (this.routes ??= new Map());
    // Every route lives lifetimeMs from its arrival, so the expired ones are the map's first:
    // forgotten here, not only when asked for (via), they do not wait out the bound.
    for (const [h, slot] of routes) {
      if (this.until[slot]! > now) break;
      this.drop(h, slot);
    }
    const old = routes.get(hex);
    if (old !== undefined) this.drop(hex, old);
    let slot = this.free.pop();
    if (slot === undefined) {
      if (this.used === this.until.length) this.grow();
      slot = this.used++;
    }
    this.hops[slot] = via;
    this.until[slot] = now + this.lifetimeMs;
    routes.set(hex, slot);
    if (routes.size > this.maxNodes) {
      const [first, at] = routes.entries().next().value!;
      this.drop(first, at);
    }
  }

  /** The hops to `hex`, nearest first, while remembered. */
  via(hex: string, now: number): NodeId[] | undefined {
    const slot = this.routes?.get(hex);
    if (slot === undefined) return undefined;
    if (this.until[slot]! > now) return this.hops[slot];
    this.drop(hex, slot);
    return undefined;
  }

  get size(): number {
    return this.routes?.size ?? 0;
  }

  private drop(hex: string, slot: number): void {
    this.routes!.delete(hex);
    this.hops[slot] = undefined;
    this.free.push(slot);
  }

  private grow(): void {
    const before = this.until.length;
    const until = new Float64Array(before + Math.max(MIN_GROWTH, before >> 1));
    until.set(this.until);
    this.until = until;
  }
}
