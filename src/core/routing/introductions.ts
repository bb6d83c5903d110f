import { RememberedRoutes } from './remembered-routes.js';

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
 * Bounded (remembered-routes.ts): at most MAX_INTRODUCTIONS nodes, each forgotten
 * INTRODUCTION_MS after it was last named (the neighbour plan dials a useful contact within
 * a few ticks), the latest introduction wins. An introducer that lied about its channel
 * costs one negotiation that times out.
 */
const INTRODUCTION_MS = 5 * 60_000;
const MAX_INTRODUCTIONS = 512;

/** `remember(hex, via, now)`: `hex` was named by a node with a channel to it, reached along `via`. */
export class Introductions extends RememberedRoutes {
  constructor() {
    super(MAX_INTRODUCTIONS, INTRODUCTION_MS);
  }
}
