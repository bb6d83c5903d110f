import type { NodeId } from '../id.js';

/**
 * Who introduced us to a node, and the way to them (docs/ARCHITECTURE.md, Overlay signaling).
 * A lookup learns nodes from replies, and a reply says which of the nodes it names the
 * replier holds a channel to (FIND_NODE_REPLY `linked`); the replier itself answered over
 * a path that just proved to work. An offer to such a node, when its own signals have not
 * reached us lately (return-routes.ts), follows that path to the introducer, whose channel
 * carries it the last hop. Sought greedily it would dead-end at the nodes around the
 * target that have no channel to it, which are the very nodes that fail to connect to it:
 * a part of the id space linked to few of its own closest nodes stayed that way.
 *
 * Bounded: at most MAX_INTRODUCTIONS nodes, each forgotten INTRODUCTION_MS after it was
 * last named (the neighbour plan dials a useful contact within a few ticks), the latest
 * introduction wins. Nothing is amplified: the offer is one envelope under the usual hop
 * limit, the route only chooses its hops. An introducer that lied about its channel costs
 * one negotiation that times out; a hop on the route whose channel closed since sends the
 * offer on greedily (router.ts).
 */
const INTRODUCTION_MS = 5 * 60_000;
const MAX_INTRODUCTIONS = 512;

export class Introductions {
  private readonly routes = new Map<string, { via: NodeId[]; until: number }>();

  /** `hex` was named by a node with a channel to it, reached along `via` (our neighbour first, it last). */
  remember(hex: string, via: readonly NodeId[], now: number): void {
    if (via.length === 0) return;
    // Re-inserting keeps the map in order of arrival, so the oldest goes first past the bound.
    this.routes.delete(hex);
    this.routes.set(hex, { via: [...via], until: now + INTRODUCTION_MS });
    if (this.routes.size > MAX_INTRODUCTIONS) this.routes.delete(this.routes.keys().next().value!);
  }

  /** The hops to `hex`'s introducer, nearest first, while remembered. */
  via(hex: string, now: number): NodeId[] | undefined {
    const route = this.routes.get(hex);
    if (route === undefined) return undefined;
    if (route.until > now) return route.via;
    this.routes.delete(hex);
    return undefined;
  }

  get size(): number {
    return this.routes.size;
  }
}
