import type { NodeId } from '../id.js';
import { RememberedRoutes } from './remembered-routes.js';

/**
 * The way back to nodes whose signaling reached us through the overlay (docs/ARCHITECTURE.md,
 * Overlay signaling). An offer from a node that is not our neighbour arrives as a routed
 * SIGNAL whose path names every hop it took; our answer retraces that path, as a REPLY
 * retraces its request's, instead of seeking the dialling node greedily. Greedy forwarding
 * only reaches a node that some node XOR-close to it has a channel to, and a node that
 * entered through another relay, with few channels yet, often has none such: its offers
 * get out (its own neighbours forward them), but answers sought greedily dead-end, and its
 * relay cannot carry them either (the answering node is not admitted there). So it stays
 * poorly connected, and calls to it fail the same way. The path proved to work moments ago.
 *
 * Bounded (remembered-routes.ts): at most MAX_ROUTES nodes, each route forgotten ROUTE_MS
 * after its last signal (a negotiation is over within the page's 15 s open timeout). The
 * latest signal's path wins. A neighbour that makes up envelopes can only point answers
 * through itself, which it could drop anyway.
 */
const ROUTE_MS = 30_000;
const MAX_ROUTES = 256;

export class ReturnRoutes {
  private readonly routes = new RememberedRoutes(MAX_ROUTES, ROUTE_MS);

  /** A routed envelope from `srcHex` arrived along `path` (its first hop first): answers go back along it. */
  remember(srcHex: string, path: readonly NodeId[], now: number): void {
    this.routes.remember(srcHex, [...path].reverse(), now);
  }

  /** The hops back to `destHex`, nearest first, while remembered. */
  via(destHex: string, now: number): NodeId[] | undefined {
    return this.routes.via(destHex, now);
  }

  get size(): number {
    return this.routes.size;
  }
}
