import { decodeFrame, encodeFrame } from '../wire/codec.js';
import type { DhtNode } from './dht-node.js';
import { ErrorCode, MeshError } from '../errors.js';
import { fromHex, isIdHex, toHex, type NodeId } from '../id.js';
import type { Message, MessageBodies, MessageName, RouteMsg } from '../wire/messages.js';
import type { ReplyInfo } from '../routing/requests.js';

/**
 * The counterparts of macula_gateway_dht: wire messages in, routing-table and storage
 * operations, encoded replies out. A request is answered the way it came: straight back
 * to a neighbour, or as an envelope retracing the request's path.
 */
export type ReplyTo =
  | { kind: 'direct'; peer: string; id: NodeId }
  | { kind: 'routed'; envelope: RouteMsg }
  | { kind: 'local'; capture: (frame: Uint8Array) => void };

type RequestName = 'FIND_NODE' | 'FIND_VALUE' | 'STORE' | 'REMOVE' | 'PING' | 'CALL' | 'PUBLISH';
type ReplyName = 'FIND_NODE_REPLY' | 'FIND_VALUE_REPLY' | 'STORE_REPLY' | 'PONG' | 'REPLY';
const REPLIES: ReadonlySet<string> = new Set<ReplyName>(['FIND_NODE_REPLY', 'FIND_VALUE_REPLY', 'STORE_REPLY', 'PONG', 'REPLY']);

export class Gateway {
  constructor(private readonly node: DhtNode) {}

  dispatch(message: Message, replyTo: ReplyTo): void {
    const { node } = this;
    if (replyTo.kind === 'routed') {
      node.count('messages.routedIn');
      node.count(`messages.routedIn.${message.type}`);
    }
    if (REPLIES.has(message.type)) return this.settleReply(message, replyTo);
    switch (message.type) {
      case 'FIND_NODE': return this.handleFindNode(message.body, replyTo);
      case 'FIND_VALUE': return this.handleFindValue(message.body, replyTo);
      case 'STORE': return this.handleStore(message.body, replyTo);
      case 'REMOVE': return this.handleRemove(message.body, replyTo);
      case 'PING': return this.reply(replyTo, 'PONG', { rid: message.body.rid });
      case 'SIGNAL':
        if (replyTo.kind === 'routed') node.emit({ type: 'signal', from: toHex(replyTo.envelope.src), payload: message.body.payload });
        return;
      case 'CALL':
      case 'PUBLISH':
      case 'PUBSUB_ROUTE':
        // The application layers above the DHT (RPC, pub/sub) handle these.
        if (node.application) node.application(message, replyTo);
        else this.reply(replyTo, 'REPLY', { rid: message.body.rid, ok: false, code: 'UNKNOWN_SERVICE', message: 'no application layer' });
        return;
      default:
        node.count('messages.unhandled');
    }
  }

  /** A non-exact lookup stops early at a node that holds what it looks for. */
  answersHere(inner: Message): boolean {
    return inner.type === 'FIND_VALUE' && this.node.records.get(inner.body.key, inner.body.kind, this.node.clock.now()).length > 0;
  }

  handleFindNode(body: MessageBodies['FIND_NODE'], replyTo: ReplyTo): void {
    const { nodes, linked } = this.closestKnown(body.target);
    this.reply(replyTo, 'FIND_NODE_REPLY', { rid: body.rid, target: body.target, nodes, ...linked });
  }

  handleFindValue(body: MessageBodies['FIND_VALUE'], replyTo: ReplyTo): void {
    const { node } = this;
    const records = node.records.get(body.key, body.kind, node.clock.now());
    const { nodes, linked } = this.closestKnown(body.key);
    if (records.length > 0) node.count('dht.valueServed');
    this.reply(replyTo, 'FIND_VALUE_REPLY', { rid: body.rid, key: body.key, kind: body.kind, records, nodes, ...linked });
  }

  /** The k closest contacts to `target`, and which of them we hold a channel to (omitted when none). */
  private closestKnown(target: NodeId): { nodes: NodeId[]; linked: { linked?: number[] } } {
    const { node } = this;
    const contacts = node.table.closest(target, node.k);
    const linked: number[] = [];
    contacts.forEach((c, i) => {
      if (node.neighbours.has(c.idHex)) linked.push(i);
    });
    return { nodes: contacts.map((c) => c.id), linked: linked.length > 0 ? { linked } : {} };
  }

  handleStore(body: MessageBodies['STORE'], replyTo: ReplyTo): void {
    const { node } = this;
    const result = node.records.put(body.record, node.clock.now(), body.remainingMs);
    const key = recordKey(body.record);
    if (result.ok) {
      node.count('dht.stored');
      node.emit({ type: 'records-changed', key: toHex(key) });
      this.reply(replyTo, 'STORE_REPLY', { rid: body.rid, key, ok: true });
    } else {
      node.count('dht.storeRefused');
      node.count(`dht.storeRefused.${result.code}`);
      this.reply(replyTo, 'STORE_REPLY', { rid: body.rid, key, ok: false, code: result.code });
    }
  }

  handleRemove(body: MessageBodies['REMOVE'], replyTo: ReplyTo): void {
    const { node } = this;
    const result = node.records.remove(body.removal, node.clock.now());
    const key = recordKey(body.removal);
    if (result.ok) node.emit({ type: 'records-changed', key: toHex(key) });
    else node.count(`dht.removeRefused.${result.code}`);
    this.reply(replyTo, 'STORE_REPLY', result.ok ? { rid: body.rid, key, ok: true } : { rid: body.rid, key, ok: false, code: result.code });
    if (!result.ok) return;
    // Copies this node handed on get the removal too, the checked copy (not what came in, with
    // whatever else it carried); each of them does the same (placements.ts).
    const { removal } = result;
    for (const target of node.placements.take(removal.kind, key, removal.nodeId)) {
      if (target === node.selfHex) continue;
      node.count('dht.removeForwarded');
      this.queryPeer(target, 'REMOVE', { rid: node.requests.newId(), removal }).catch(() => node.count('dht.removeForwardUnanswered'));
    }
  }

  /**
   * macula's handle_query: run an encoded query against this node's own state and
   * return the encoded reply (the worker uses it to answer the main thread).
   */
  handleQuery(queryType: 'FIND_NODE' | 'FIND_VALUE' | 'STORE' | 'REMOVE', queryData: Uint8Array): Uint8Array {
    const decoded = decodeFrame(queryData);
    if (!decoded.ok || decoded.message.type !== queryType) {
      throw new MeshError(ErrorCode.MALFORMED, `handleQuery: expected a ${queryType} frame`);
    }
    let out: Uint8Array | undefined;
    this.dispatch(decoded.message, { kind: 'local', capture: (frame) => { out = frame; } });
    if (out === undefined) throw new MeshError(ErrorCode.MALFORMED, 'handleQuery: no reply produced');
    return out;
  }

  /** macula's lookup_value: what this node itself stores at `key`. */
  lookupValue(key: NodeId, kind: 'provider' | 'subscriber' = 'provider'): { ok: true; value: unknown[] } | { ok: false; error: 'not_found' } {
    const value = this.node.records.get(key, kind, this.node.clock.now());
    return value.length > 0 ? { ok: true, value } : { ok: false, error: 'not_found' };
  }

  /**
   * macula's query_peer, done properly: a request with its own id, sent straight to a
   * neighbour or routed to any other node, resolved by the reply that echoes the id.
   */
  queryPeer<N extends RequestName>(
    peer: string, type: N, body: MessageBodies[N], timeoutMs = this.node.hopTimeoutMs * 2,
  ): Promise<{ reply: Message; info: ReplyInfo }> {
    const rid = (body as { rid: number }).rid;
    const { node } = this;
    const direct = node.neighbours.has(peer) ? peer : undefined;
    const routed = direct === undefined && peer !== node.selfHex && isIdHex(peer) && node.neighbours.size > 0;
    const waiting = node.requests.wait(rid, timeoutMs, direct);
    if (routed) node.routeRequest(fromHex(peer), type, body as MessageBodies[N] & { rid: number });
    else if (!this.sendToPeer(peer, type, body)) {
      node.requests.forget(rid);
      return Promise.reject(new MeshError(ErrorCode.NOT_CONNECTED, 'no open channel to route through'));
    }
    return waiting;
  }

  /** macula's send_to_peer: fire and forget, straight or routed. False when nothing is open. */
  sendToPeer<N extends MessageName>(peer: string, type: N, body: MessageBodies[N]): boolean {
    const { node } = this;
    if (!isIdHex(peer)) throw new MeshError(ErrorCode.INVALID_ARGUMENT, 'peer: expected a 64-char hex node id');
    if (peer === node.selfHex) {
      const frame = encodeFrame(type, body);
      const decoded = decodeFrame(frame);
      if (decoded.ok) this.dispatch(decoded.message, { kind: 'local', capture: (f) => this.selfReply(f) });
      return true;
    }
    if (node.neighbours.has(peer)) return node.sendDirect(peer, type, body);
    if (node.neighbours.size === 0) return false;
    node.router.originate(fromHex(peer), true, type, body);
    return true;
  }

  reply<N extends ReplyName>(replyTo: ReplyTo, type: N, body: MessageBodies[N]): void {
    const { node } = this;
    if (replyTo.kind === 'direct') node.sendDirect(replyTo.peer, type, body);
    else if (replyTo.kind === 'local') replyTo.capture(encodeFrame(type, body));
    else node.router.originate(replyTo.envelope.src, true, type, body, { via: [...replyTo.envelope.path].reverse() });
  }

  private selfReply(frame: Uint8Array): void {
    const decoded = decodeFrame(frame);
    if (decoded.ok) this.settleReply(decoded.message, { kind: 'local', capture: () => undefined });
  }

  private settleReply(message: Message, replyTo: ReplyTo): void {
    const info: ReplyInfo = replyTo.kind === 'routed'
      ? { hops: replyTo.envelope.hops, from: replyTo.envelope.src, path: replyTo.envelope.path }
      : { hops: 0, from: replyTo.kind === 'direct' ? replyTo.id : this.node.self, path: [] };
    const rid = (message.body as { rid: number }).rid;
    if (!this.node.requests.settle(rid, message, info)) this.node.count('replies.unmatched');
  }
}

function recordKey(record: unknown): Uint8Array {
  const key = (record as { key?: unknown } | null)?.key;
  return key instanceof Uint8Array && key.length === 32 ? key : new Uint8Array(32);
}
