import { decodeFrame, encodeFrame, type Frame } from '../wire/codec.js';
import type { Messaging, NodeBasics, Neighbours, ReplyName, ReplyTo, RequestName } from '../context.js';
import type { FrameTransport } from '../wire/frame-transport.js';
import { ErrorCode, MeshError } from '../errors.js';
import { fromHex, isIdHex, type NodeId } from '../id.js';
import type { Message, MessageBodies, MessageName, RouteMsg } from '../wire/messages.js';
import { PendingRequests, type ReplyInfo } from '../routing/requests.js';
import { Router, type RouteOptions } from '../routing/router.js';
import { MessengerRouterHost } from './router-host.js';
import type { RoutingTable } from '../routing/routing-table.js';

export interface MessengerHost extends NodeBasics {
  /** The node's transport (flood-shaped: defence/rate-limit.ts). */
  readonly transport: FrameTransport;
  readonly neighbours: Neighbours;
  /** Whether a routed request's destination is a contact known to be alive. */
  readonly table: Pick<RoutingTable, 'isLive'>;
  /**
   * The flood limits on what envelopes carry (defence/rate-limit.ts): `delivered` charges
   * an envelope that ends here to the neighbour that handed it over (false drops it),
   * `handOver` says whether a hop to `next`, where it may end, stays under that neighbour's
   * limits. Absent when the node has no flood limits.
   */
  readonly admission?: {
    delivered(from: string, inner: Frame): boolean;
    handOver(next: string, inner: Frame): boolean;
  };
}

/** Where requests and envelopes that arrive here go (the gateway). */
export interface Inbound {
  dispatch(message: Message, replyTo: ReplyTo): void;
  /** True when this node answers a non-exact envelope itself instead of forwarding it. */
  answersHere(inner: Message): boolean;
}

/**
 * Every way this node sends a request and settles its reply, in one place: over a
 * neighbour's channel (`sendDirect`), routed with the first hop's outcome counted
 * (`routeRequest`), routed without it (`originate`), and macula's `queryPeer` and
 * `sendToPeer` on top, which pick the way themselves. Replies come back through `settle`;
 * one that comes after its request timed out finds nobody waiting and is dropped. It owns
 * the router (routing/router.ts) and the table of requests waiting for replies
 * (routing/requests.ts); what the node learns from them goes to the parts that asked to be
 * told (`onHopFailure`, `onFirstHopOutcome`).
 */
export class Messenger implements Messaging {
  readonly router: Router;
  readonly requests: PendingRequests;
  private inbound: Inbound | undefined;
  private readonly hopFailureListeners: Array<(peer: string) => void> = [];
  private readonly outcomeListeners: Array<(hop: string, through: boolean) => void> = [];

  constructor(private readonly host: MessengerHost) {
    this.requests = new PendingRequests(host.clock, host.random, (hop, through) => {
      for (const listener of this.outcomeListeners) listener(hop, through);
    });
    this.router = new Router(new MessengerRouterHost(this, host));
  }

  /**
   * Where what arrives goes: set once, by the node, when its gateway exists (the gateway
   * answers through this messenger, so it is built after it). Until then nothing arrives:
   * the node has no channel open.
   */
  deliverTo(inbound: Inbound): void {
    if (this.inbound !== undefined)
      throw new MeshError(ErrorCode.INVALID_ARGUMENT, 'deliverTo: the messenger already delivers to a gateway');
    this.inbound = inbound;
  }

  /** Be told of each hop a neighbour failed to acknowledge in time (liveness.ts). */
  onHopFailure(listener: (peer: string) => void): void {
    this.hopFailureListeners.push(listener);
  }

  /** Be told whether each request sent by `routeRequest` came back, per first hop (neighbour-vetting.ts). */
  onFirstHopOutcome(listener: (hop: string, through: boolean) => void): void {
    this.outcomeListeners.push(listener);
  }

  /** A neighbour did not acknowledge a hop in time (MessengerRouterHost): tell the listeners. */
  hopFailed(peer: string): void {
    for (const listener of this.hopFailureListeners) listener(peer);
  }

  /** True when this node answers a non-exact envelope itself instead of forwarding it. */
  answersHere(inner: Message): boolean {
    return this.inbound !== undefined && this.inbound.answersHere(inner);
  }

  /** An envelope ended here (MessengerRouterHost): admitted by what it carries, then delivered. */
  arrived(envelope: RouteMsg, inner: Message, from: string | undefined): void {
    const { admission } = this.host;
    if (from !== undefined && admission !== undefined && !admission.delivered(from, envelope.body)) return;
    this.deliver(inner, from === undefined ? { kind: 'routed', envelope } : { kind: 'routed', envelope, from });
  }

  // ---- waiting for replies ----

  newId(): number {
    return this.requests.newId();
  }

  expect(
    rid: number,
    timeoutMs: number,
    settle: (reply: Message, info: ReplyInfo) => void,
    fail: (e: MeshError) => void,
    peer?: string,
  ): void {
    this.requests.expect(rid, timeoutMs, settle, fail, peer);
  }

  wait(rid: number, timeoutMs: number, peer?: string): Promise<{ reply: Message; info: ReplyInfo }> {
    return this.requests.wait(rid, timeoutMs, peer);
  }

  forget(rid: number): void {
    this.requests.forget(rid);
  }

  /** A reply arrived, the way `replyTo` says: hand it to whoever waits for its id. */
  settle(message: Message, replyTo: ReplyTo): void {
    // `by` set after, not spread in from an object made for it: every reply of every lookup comes here.
    let info: ReplyInfo;
    if (replyTo.kind === 'routed') {
      info = { hops: replyTo.envelope.hops, from: replyTo.envelope.src, path: replyTo.envelope.path };
      if (replyTo.from !== undefined) info.by = replyTo.from;
    } else
      info =
        replyTo.kind === 'direct'
          ? { hops: 0, from: replyTo.id, path: [], by: replyTo.peer }
          : { hops: 0, from: this.host.self, path: [] };
    const rid = (message.body as { rid: number }).rid;
    if (!this.requests.settle(rid, message, info)) this.host.count('replies.unmatched');
  }

  // ---- sending ----

  /** Counted in `messages.out` by the node's transport (dht-node.ts), as every frame that leaves is. */
  sendDirect<N extends MessageName>(peer: string, type: N, body: MessageBodies[N]): boolean {
    const { transport } = this.host;
    return transport.send(peer, transport.frame(type, body));
  }

  /** Counted and shaped as every frame that leaves (dht-node.ts); the transport may already have put it on the channel. */
  sendFrame(peer: string, frame: Uint8Array): boolean {
    return this.host.transport.send(peer, frame);
  }

  /**
   * Route an envelope. Nothing is recorded about the neighbour it left through: a lookup's
   * paths (their failure already makes the lookup avoid that neighbour) and a neighbour's
   * test (neighbour-vetting.ts scores the test itself; counting it here too would score it
   * twice) go this way, as do replies and signals.
   */
  originate<N extends MessageName>(
    dest: NodeId,
    exact: boolean,
    type: N,
    body: MessageBodies[N],
    opts?: RouteOptions,
  ): string | undefined {
    return this.router.originate(dest, exact, type, body, opts);
  }

  /**
   * Route a request to `dest`. Whether it comes back counts for the neighbour it left
   * through (neighbour-trust.ts); its timing out counts against that neighbour only when
   * `dest` is a contact known to be alive.
   */
  routeRequest<N extends MessageName>(
    dest: NodeId,
    type: N,
    body: MessageBodies[N] & { rid: number },
    opts: RouteOptions = {},
  ): void {
    const hop = this.router.originate(dest, true, type, body, opts);
    if (hop === undefined) return;
    this.requests.leftThrough(body.rid, hop, this.host.table.isLive(dest));
  }

  /**
   * macula's query_peer, done properly: a request with its own id, sent straight to a
   * neighbour or routed to any other node, resolved by the reply that echoes the id.
   */
  queryPeer<N extends RequestName>(
    peer: string,
    type: N,
    body: MessageBodies[N],
    timeoutMs = this.host.hopTimeoutMs * 2,
  ): Promise<{ reply: Message; info: ReplyInfo }> {
    const rid = (body as { rid: number }).rid;
    const { host } = this;
    const direct = host.neighbours.has(peer) ? peer : undefined;
    const routed = direct === undefined && peer !== host.selfHex && isIdHex(peer) && host.neighbours.size > 0;
    const waiting = this.requests.wait(rid, timeoutMs, direct);
    if (routed) this.routeRequest(fromHex(peer), type, body as MessageBodies[N] & { rid: number });
    else if (!this.sendToPeer(peer, type, body)) {
      this.requests.forget(rid);
      return Promise.reject(new MeshError(ErrorCode.NOT_CONNECTED, 'no open channel to route through'));
    }
    return waiting;
  }

  /** macula's send_to_peer: fire and forget, straight or routed. False when nothing is open. */
  sendToPeer<N extends MessageName>(peer: string, type: N, body: MessageBodies[N]): boolean {
    const { host } = this;
    if (!isIdHex(peer)) throw new MeshError(ErrorCode.INVALID_ARGUMENT, 'peer: expected a 64-char hex node id');
    if (peer === host.selfHex) {
      const decoded = decodeFrame(encodeFrame(type, body));
      if (decoded.ok) this.deliver(decoded.message, { kind: 'local', capture: (f) => this.selfReply(f) });
      return true;
    }
    if (host.neighbours.has(peer)) return this.sendDirect(peer, type, body);
    if (host.neighbours.size === 0) return false;
    this.router.originate(fromHex(peer), true, type, body);
    return true;
  }

  reply<N extends ReplyName>(replyTo: ReplyTo, type: N, body: MessageBodies[N]): void {
    if (replyTo.kind === 'direct') this.sendDirect(replyTo.peer, type, body);
    else if (replyTo.kind === 'local') replyTo.capture(encodeFrame(type, body));
    else this.router.originate(replyTo.envelope.src, true, type, body, { via: reversed(replyTo.envelope.path) });
  }

  // ---- the node's channel events ----

  /** An envelope (RPC_ROUTE) arrived from a neighbour. */
  receive(from: string, envelope: RouteMsg): void {
    this.router.receive(from, envelope);
  }

  /** A neighbour acknowledged a hop (ROUTE_ACK). */
  acknowledged(from: string, hid: number): void {
    this.router.acknowledged(from, hid);
  }

  /** The channel to `peer` closed: requests sent straight to it fail at once. */
  channelClosed(peer: string): void {
    this.requests.failPeer(peer);
  }

  close(): void {
    this.router.close();
    this.requests.rejectAll(new MeshError(ErrorCode.CLOSED, 'node closed'));
  }

  private deliver(message: Message, replyTo: ReplyTo): void {
    if (this.inbound === undefined) this.host.count('messages.unhandled');
    else this.inbound.dispatch(message, replyTo);
  }

  private selfReply(frame: Uint8Array): void {
    const decoded = decodeFrame(frame);
    if (decoded.ok) this.settle(decoded.message, { kind: 'local', capture: () => undefined });
  }
}

/** A copy of `ids` back to front, allocated at its size: every routed reply retraces its request's path. */
function reversed(ids: readonly NodeId[]): NodeId[] {
  const n = ids.length;
  const out = new Array<NodeId>(n);
  for (let i = 0; i < n; i++) out[i] = ids[n - 1 - i]!;
  return out;
}
