import type { NodeBasics, Neighbours } from '../context.js';
import type { CounterName } from '../counters.js';
import type { NodeId } from '../id.js';
import { listHops, type HopList, type RouterHost } from '../routing/router.js';
import type { Frame } from '../wire/codec.js';
import type { FrameTransport } from '../wire/frame-transport.js';
import type { Message, RouteMsg } from '../wire/messages.js';
import { ackTimeoutMs } from './liveness.js';
import { NeighbourMap } from './neighbour-map.js';

/** A hop to a neighbour heard from within this window is not acknowledged. */
const ACK_FREE_AFTER_HEARD_MS = 1_000;

/** What the router's host reads of the messenger's host (messenger.ts MessengerHost). */
interface Basis extends NodeBasics {
  readonly transport: FrameTransport;
  readonly neighbours: Neighbours;
  readonly admission?: { handOver(next: string, inner: Frame): boolean };
}

/** What it hands on to the messenger (messenger.ts): hop failures and envelopes that end here. */
interface Arrivals {
  hopFailed(peer: string): void;
  answersHere(inner: Message): boolean;
  arrived(envelope: RouteMsg, inner: Message, from: string | undefined): void;
}

/**
 * The router's view of the node: one object whose methods live on its prototype. An object
 * of eight closures was 2.4 KB a node under tsx (each closure with its own name property),
 * which a simulator of thousands of nodes pays many times over (BENCHMARKS.md, Simulator memory).
 */
export class MessengerRouterHost implements RouterHost {
  readonly self: NodeId;
  readonly selfHex: string;
  readonly transport: FrameTransport;
  readonly clock: Basis['clock'];
  readonly random: Basis['random'];

  constructor(
    private readonly messenger: Arrivals,
    private readonly host: Basis,
  ) {
    this.self = host.self;
    this.selfHex = host.selfHex;
    this.transport = host.transport;
    this.clock = host.clock;
    this.random = host.random;
  }

  /** The node's channels as kept for the router (neighbour-map.ts); a plain Map (tests) is listed afresh. */
  hops(): HopList {
    const { neighbours } = this.host;
    return neighbours instanceof NeighbourMap ? neighbours : listHops(neighbours.values());
  }

  ackTimeoutMs(peer: string): number {
    return ackTimeoutMs(this.host.neighbours.get(peer)?.rttMs, this.host.hopTimeoutMs);
  }

  recentlyHeard(peer: string): boolean {
    const n = this.host.neighbours.get(peer);
    return n !== undefined && this.host.clock.now() - n.lastHeard < ACK_FREE_AFTER_HEARD_MS;
  }

  onHopFailure(peer: string): void {
    this.messenger.hopFailed(peer);
  }

  answersHere(inner: Message): boolean {
    return this.messenger.answersHere(inner);
  }

  deliver(envelope: RouteMsg, inner: Message, from: string | undefined): void {
    this.messenger.arrived(envelope, inner, from);
  }

  mayHandOver(next: string, inner: Frame): boolean {
    const { admission } = this.host;
    return admission === undefined || admission.handOver(next, inner);
  }

  count(name: CounterName, by?: number): void {
    this.host.count(name, by);
  }
}
