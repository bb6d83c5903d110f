import type { Neighbour } from '../context.js';
import type { NodeId } from '../id.js';
import { prefixOf } from '../routing/router.js';

/**
 * The record of a channel that just opened (context.ts, Neighbour), every field set from the
 * start: V8 then gives all neighbours one compact shape, where a field set later costs each
 * a property array. Liveness, vetting and trust keep their state about a neighbour here:
 * five Maps keyed by neighbour, each with entries of its own and boxed times, were some
 * 8 KB of a simulated node (BENCHMARKS.md, Simulator memory).
 */
export function newNeighbour(id: NodeId, idHex: string, now: number): Neighbour {
  return {
    id,
    idHex,
    prefix: prefixOf(id),
    openedAt: now,
    lastHeard: now,
    rttMs: undefined,
    kind: undefined,
    failures: 0,
    junk: 0,
    ping: undefined,
    nextTestAt: Infinity,
    testedAt: undefined,
    testsWithoutAnswer: 0,
    through: 0,
    lostInARow: 0,
    testsFailedInARow: 0,
  };
}
