import type { Neighbour } from '../context.js';
import type { NodeId } from '../id.js';
import type { PeerKind } from '../wire/messages.js';

/**
 * The record of a channel that just opened (context.ts, Neighbour). Liveness, vetting and
 * trust keep their state about a neighbour here: five Maps keyed by neighbour, each with
 * entries of its own and boxed times, were some 8 KB of a simulated node (BENCHMARKS.md,
 * Simulator memory).
 *
 * Every field is set in the constructor, so V8 gives all neighbours one compact shape. A
 * number field that ever holds a value outside the small-integer range (31 bits) keeps
 * each value in a box of its own, 16 bytes: a clock reading (~1.7e12 ms) always is, and so
 * would be. So the times other than `openedAt` are kept as offsets from it (small integers
 * for the first 24 days of a channel); the accessors give back the same numbers. (The id's
 * first 32 bits, which the router compares, sit in neighbour-map.ts's typed array.) An offset is exact: a time and
 * `openedAt` are whole milliseconds (Date.now(), the simulator's clock), or within a factor
 * of two of each other, where a difference of doubles is exact.
 */
class NeighbourRecord implements Neighbour {
  readonly id: NodeId;
  readonly idHex: string;
  readonly openedAt: number;
  rttMs: number | undefined = undefined;
  kind: PeerKind | undefined = undefined;
  failures = 0;
  junk = 0;
  ping: { rid: number; sentAt: number } | undefined = undefined;
  testsWithoutAnswer = 0;
  through = 0;
  lostInARow = 0;
  testsFailedInARow = 0;
  floodRow = -1;
  /** lastHeard - openedAt. */
  private heard = 0;
  /** nextTestAt - openedAt; null for Infinity (a box again otherwise). */
  private nextTest: number | null = null;
  /** testedAt - openedAt. */
  private tested: number | undefined = undefined;

  constructor(id: NodeId, idHex: string, now: number) {
    this.id = id;
    this.idHex = idHex;
    this.openedAt = now;
  }

  get lastHeard(): number {
    return this.heard + this.openedAt;
  }

  set lastHeard(at: number) {
    this.heard = at - this.openedAt;
  }

  get nextTestAt(): number {
    return this.nextTest === null ? Infinity : this.nextTest + this.openedAt;
  }

  set nextTestAt(at: number) {
    this.nextTest = at === Infinity ? null : at - this.openedAt;
  }

  get testedAt(): number | undefined {
    return this.tested === undefined ? undefined : this.tested + this.openedAt;
  }

  set testedAt(at: number | undefined) {
    this.tested = at === undefined ? undefined : at - this.openedAt;
  }
}

export function newNeighbour(id: NodeId, idHex: string, now: number): Neighbour {
  return new NeighbourRecord(id, idHex, now);
}
