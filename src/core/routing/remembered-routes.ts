import type { NodeId } from '../id.js';

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
 */
export class RememberedRoutes {
  /** Made at the first route: most nodes never retrace a signal, and an empty Map is ~0.2 KB. */
  private routes: Map<string, { via: NodeId[]; until: number }> | undefined;

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
    for (const [h, route] of routes) {
      if (route.until > now) break;
      routes.delete(h);
    }
    routes.delete(hex);
    routes.set(hex, { via, until: now + this.lifetimeMs });
    if (routes.size > this.maxNodes) routes.delete(routes.keys().next().value!);
  }

  /** The hops to `hex`, nearest first, while remembered. */
  via(hex: string, now: number): NodeId[] | undefined {
    const route = this.routes?.get(hex);
    if (route === undefined) return undefined;
    if (route.until > now) return route.via;
    this.routes!.delete(hex);
    return undefined;
  }

  get size(): number {
    return this.routes?.size ?? 0;
  }
}
