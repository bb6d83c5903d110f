import { decodeFrame, type Frame } from '../wire/codec.js';
import { MAX_FRAME_BYTES, MAX_HOPS } from '../constants.js';
import type { CounterName } from '../counters.js';
import type { Clock, Random } from '../environment.js';
import type { FrameTransport } from '../wire/frame-transport.js';
import { compareDistance, idsEqual, prefixOf, type NodeId } from '../id.js';
import type { Message, MessageBodies, MessageName, RouteMsg } from '../wire/messages.js';

/**
 * Greedy forwarding of routed envelopes (macula's RPC_ROUTE) over the open channels.
 *
 * A node can only send to neighbours, so every request that is not for a neighbour
 * travels as an envelope: each hop hands it to the neighbour closest (XOR) to `dest`
 * that is closer than itself and not yet on the path. `exact` envelopes must reach the
 * node whose id is `dest`; the others stop at the closest node the greedy walk finds
 * (or earlier, when a node on the way can answer). A hop to a neighbour that has been
 * quiet is acknowledged; one not acknowledged in time is retried through the next-best
 * neighbour, which lets lookups survive silently failed nodes without starting over.
 */

export interface RouterHost {
  readonly self: NodeId;
  readonly selfHex: string;
  readonly transport: FrameTransport;
  readonly clock: Clock;
  readonly random: Random;
  /** Open channels. */
  hops(): HopList;
  /** Acknowledgement timeout for a hop to this neighbour. */
  ackTimeoutMs(peerHex: string): number;
  /** True when the neighbour was heard from so recently that a hop to it needs no acknowledgement. */
  recentlyHeard(peerHex: string): boolean;
  /** The neighbour did not acknowledge in time. */
  onHopFailure(peerHex: string): void;
  /** True when this node answers a non-exact envelope itself instead of forwarding it. */
  answersHere(inner: Message): boolean;
  /**
   * An envelope arrived at its end, here. `from` is the neighbour that handed it over
   * (undefined when this node started it): the one sender of it known for sure.
   */
  deliver(envelope: RouteMsg, inner: Message, from: string | undefined): void;
  /**
   * May `inner` be handed to `next`, where it may end? False sheds the hop (the neighbour
   * would refuse what it carries: defence/rate-limit.ts) and the next-best one is tried.
   */
  mayHandOver(next: string, inner: Frame): boolean;
  count(counter: CounterName, by?: number): void;
}

/** An open channel, as the host lists them. */
type Hop = { readonly id: NodeId; readonly idHex: string };

/**
 * The open channels, and at the same index each one's first 32 bits as a signed number
 * (`prefixOf(id) | 0`): a hop is chosen by scanning the prefixes side by side, reading a
 * record only when its prefix makes it a contender (node/neighbour-map.ts keeps one).
 */
export interface HopList {
  readonly hops: readonly Hop[];
  readonly prefixes: Int32Array;
}

/** A HopList of `hops`, made afresh (for a host whose channels are not kept as one). */
export function listHops(hops: Iterable<Hop>): HopList {
  const list = [...hops];
  return { hops: list, prefixes: Int32Array.from(list, (hop) => prefixOf(hop.id) | 0) };
}

interface PendingHop {
  envelope: RouteMsg;
  /** The neighbour that handed us the envelope; undefined when it started here. */
  from: string | undefined;
  next: string;
  /** Neighbours this hop went to, in order (a few at most: MAX_REROUTES_PER_HOP). */
  tried: string[];
  cancel: () => void;
}

export interface RouteOptions {
  /** Ids to follow first (a reply retracing its request's path, a proven route). */
  via?: NodeId[];
  /** The first neighbour (disjoint lookup paths). */
  firstHop?: NodeId;
}

const MAX_REROUTES_PER_HOP = 3;
/**
 * Sideways steps an exact envelope may take without getting closer to its destination
 * than the closest node it already passed. A live destination is found within a step or
 * two; one that left would otherwise be sought until MAX_HOPS (probes of lost contacts
 * were an eighth of the maintenance traffic under churn, most of it such walks).
 */
const MAX_DETOUR_STEPS = 3;

/** Whether `ids` holds `id` (a path: a few ids, looked through on every hop). */
function holds(ids: readonly NodeId[], id: NodeId): boolean {
  for (const x of ids) if (idsEqual(x, id)) return true;
  return false;
}

export { prefixOf } from '../id.js';

export class Router {
  private readonly pending = new Map<number, PendingHop>();

  constructor(private readonly host: RouterHost) {}

  /**
   * Start an envelope at this node. `firstHop` forces the first neighbour (disjoint lookup
   * paths). Returns the neighbour it left through (undefined when it went nowhere).
   */
  originate<N extends MessageName>(
    dest: NodeId,
    exact: boolean,
    type: N,
    body: MessageBodies[N],
    opts: RouteOptions = {},
  ): string | undefined {
    const envelope: RouteMsg = {
      dest,
      src: this.host.self,
      hops: 0,
      max: MAX_HOPS,
      exact,
      path: [],
      hid: 0,
      body: this.host.transport.frame(type, body),
    };
    const via = opts.firstHop ? [opts.firstHop] : opts.via;
    if (via && via.length > 0) envelope.via = via;
    return this.route(envelope, [], undefined);
  }

  /** An envelope arrived from a neighbour. */
  receive(from: string, envelope: RouteMsg): void {
    const { transport } = this.host;
    if (envelope.hid !== 0) transport.send(from, transport.frame('ROUTE_ACK', { hid: envelope.hid }));
    if (holds(envelope.path, this.host.self)) {
      this.host.count('route.loop');
      return;
    }
    this.route(envelope, [], from);
  }

  acknowledged(from: string, hid: number): void {
    const hop = this.pending.get(hid);
    if (hop === undefined || hop.next !== from) return;
    hop.cancel();
    this.pending.delete(hid);
  }

  close(): void {
    for (const hop of this.pending.values()) hop.cancel();
    this.pending.clear();
  }

  get pendingHops(): number {
    return this.pending.size;
  }

  /** Deliver or forward `envelope`; returns the neighbour it went to, if any. */
  private route(envelope: RouteMsg, tried: string[], from: string | undefined): string | undefined {
    const { host } = this;
    if (envelope.exact && idsEqual(envelope.dest, host.self)) {
      this.arrive(envelope, from);
      return undefined;
    }
    const inner = decodeFrame(envelope.body);
    if (!inner.ok) {
      host.count('route.malformed');
      return undefined;
    }
    if (!envelope.exact && envelope.hops > 0 && host.answersHere(inner.message)) {
      host.deliver(envelope, inner.message, from);
      return undefined;
    }
    if (envelope.hops >= envelope.max) {
      host.count('route.maxHops');
      if (!envelope.exact) host.deliver(envelope, inner.message, from);
      return undefined;
    }
    const next = this.nextHop(envelope, tried);
    if (next === undefined) {
      if (envelope.exact) host.count('route.unreachable');
      else host.deliver(envelope, inner.message, from);
      return undefined;
    }
    return this.forward(envelope, next, tried, from);
  }

  private arrive(envelope: RouteMsg, from: string | undefined): void {
    const inner = decodeFrame(envelope.body);
    if (!inner.ok) {
      this.host.count('route.malformed');
      return;
    }
    this.host.deliver(envelope, inner.message, from);
  }

  private forward(envelope: RouteMsg, hop: Hop, tried: string[], from: string | undefined): string | undefined {
    const { host } = this;
    const { id: next, idHex: nextHex } = hop;
    tried.push(nextHex);
    // An envelope may end at the next hop (an exact one for it, or any non-exact one: only
    // the next hop knows whether it has a closer neighbour), which then charges what it
    // carries to its own class; stay under that too, as for a direct frame.
    if ((!envelope.exact || idsEqual(envelope.dest, next)) && !host.mayHandOver(nextHex, envelope.body)) {
      host.count('route.sendFailed');
      return tried.length <= MAX_REROUTES_PER_HOP ? this.route(envelope, tried, from) : undefined;
    }
    // A neighbour that just spoke is alive: skip the acknowledgement (hid 0) and halve the
    // traffic of busy links. Quiet ones must confirm each hop, which is what catches the
    // silently failed ones in time to reroute.
    const needsAck = !host.recentlyHeard(nextHex);
    const hid = needsAck ? 1 + Math.floor(host.random.next() * 0xfffffffe) : 0;
    // Built field by field (in the envelope's own order), not spread: this runs on every hop.
    // The path one longer, allocated at its size: a slice and a push grew it into a second
    // backing store, and the envelope waits on the network (BENCHMARKS.md, Simulator garbage).
    const came = envelope.path;
    const path = new Array<NodeId>(came.length + 1);
    for (let i = 0; i < came.length; i++) path[i] = came[i]!;
    path[came.length] = host.self;
    const out: RouteMsg = {
      dest: envelope.dest,
      src: envelope.src,
      hops: envelope.hops + 1,
      max: envelope.max,
      exact: envelope.exact,
      path,
      hid,
      body: envelope.body,
    };
    if (envelope.via !== undefined) {
      const rest: NodeId[] = [];
      for (const id of envelope.via) if (!idsEqual(id, next)) rest.push(id);
      if (rest.length > 0) out.via = rest;
    }
    const frame = host.transport.frame('RPC_ROUTE', out);
    if (frame.length > MAX_FRAME_BYTES) {
      // Adding ourselves to the path would make it undecodable for the next hop: drop it here.
      host.count('route.tooLarge');
      return undefined;
    }
    if (!host.transport.send(nextHex, frame)) {
      host.count('route.sendFailed');
      return tried.length <= MAX_REROUTES_PER_HOP ? this.route(envelope, tried, from) : undefined;
    }
    host.count('route.forwarded');
    if (!needsAck) return nextHex;
    const cancel = host.clock.setTimer(host.ackTimeoutMs(nextHex), () => {
      this.pending.delete(hid);
      host.count('route.ackTimeout');
      host.onHopFailure(nextHex);
      if (tried.length <= MAX_REROUTES_PER_HOP) this.route(envelope, tried, from);
    });
    this.pending.set(hid, { envelope, from, next: nextHex, tried, cancel });
    return nextHex;
  }

  private nextHop(envelope: RouteMsg, tried: readonly string[]): Hop | undefined {
    const { dest, path } = envelope;
    const destPrefix = prefixOf(dest);
    const viaFirst = envelope.via?.[0];
    // Compared by prefix before the whole id: most neighbours differ in their first 32 bits.
    // No prefix is a fraction: one matches none.
    const viaPrefix = viaFirst === undefined ? 0.5 : prefixOf(viaFirst) | 0;
    // The closest eligible neighbour, whatever order they are listed in: distinct ids are at
    // distinct distances, so there are no ties to break. Found on the prefixes alone (decisive
    // almost always; the whole id only breaks a tie of prefixes), and only then is the winner
    // checked against the path and the neighbours tried: checking every new best on the way
    // read its id and the path's, cache misses on every hop of every message. A winner on the
    // path (rare: the walk comes from farther away) is set aside and the scan done again.
    const { hops, prefixes } = this.host.hops();
    let best: Hop | undefined;
    let setAside: number[] | undefined;
    for (;;) {
      let at = -1;
      let atDistance = 0;
      for (let i = 0; i < hops.length; i++) {
        const prefix = prefixes[i]!;
        // A retraced reply path or a forced first hop wins while its next node is still open.
        if (prefix === viaPrefix && idsEqual(hops[i]!.id, viaFirst!)) {
          const neighbour = hops[i]!;
          if (!tried.includes(neighbour.idHex) && !holds(path, neighbour.id)) return neighbour;
          continue;
        }
        const d = (prefix ^ destPrefix) >>> 0;
        if (at >= 0 && (d > atDistance || (d === atDistance && compareDistance(dest, hops[i]!.id, hops[at]!.id) >= 0)))
          continue;
        if (setAside !== undefined && setAside.includes(i)) continue;
        at = i;
        atDistance = d;
      }
      if (at < 0) break;
      const neighbour = hops[at]!;
      if (!tried.includes(neighbour.idHex) && !holds(path, neighbour.id)) {
        best = neighbour;
        break;
      }
      (setAside ??= []).push(at);
    }
    if (best === undefined) return undefined;
    if (compareDistance(dest, best.id, this.host.self) < 0) return best;
    // A dead end for an exact envelope: its node exists but none of our neighbours is closer to
    // it (a forming mesh, or a bucket we have no channel into). One step sideways to our best
    // neighbour usually finds a node that knows the way; the path check keeps it from looping.
    if (!envelope.exact) return undefined;
    if (this.stepsSinceClosest(envelope) >= MAX_DETOUR_STEPS) {
      this.host.count('route.detourLimit');
      return undefined;
    }
    this.host.count('route.detour');
    return best;
  }

  /** Hops from the node on the envelope's walk (this one included) closest to its destination, to here. */
  private stepsSinceClosest(envelope: RouteMsg): number {
    let closest: NodeId = this.host.self;
    let steps = 0;
    for (let i = envelope.path.length - 1; i >= 0; i--) {
      const id = envelope.path[i]!;
      if (compareDistance(envelope.dest, id, closest) < 0) {
        closest = id;
        steps = envelope.path.length - i;
      }
    }
    return steps;
  }
}
