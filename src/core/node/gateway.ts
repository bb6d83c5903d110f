import { messageCounter } from '../counters.js';
import { decodeFrame } from '../wire/codec.js';
import type { AppHandler, Messaging, NodeBasics, NodeEvent, Neighbours, ReplyName, ReplyTo } from '../context.js';
import { ErrorCode, MeshError } from '../errors.js';
import { toHex, type NodeId } from '../id.js';
import type { Message, MessageBodies } from '../wire/messages.js';
import type { Placements } from '../records/placements.js';
import type { RecordStore } from '../records/record-store.js';
import type { ReturnRoutes } from '../routing/return-routes.js';
import type { ContactId, RoutingTable } from '../routing/routing-table.js';

export type { ReplyTo } from '../context.js';

/**
 * The counterparts of macula_gateway_dht: wire messages in, routing-table and storage
 * operations, encoded replies out (through the messenger, the way each request came:
 * straight back to a neighbour, or as an envelope retracing the request's path). The
 * node's own requests go out through the messenger too (messenger.ts: queryPeer, sendToPeer).
 */
export interface GatewayContext extends NodeBasics {
  readonly neighbours: Pick<Neighbours, 'has'>;
  readonly table: Pick<RoutingTable, 'closest'>;
  readonly records: Pick<RecordStore, 'get' | 'put' | 'remove'>;
  /** Where copies went from here: a removal follows them. */
  readonly placements: Pick<Placements, 'take'>;
  readonly messenger: Pick<Messaging, 'newId' | 'queryPeer' | 'reply' | 'settle'>;
  /** The paths routed signals came by: answers retrace them (routing/return-routes.ts). */
  readonly returnRoutes: Pick<ReturnRoutes, 'remember'>;
  emit(event: NodeEvent): void;
}

/** How a node builds its gateway (DhtNodeOptions.gateway): the simulator's adversaries answer differently. */
export type GatewayFactory = (ctx: GatewayContext) => Gateway;

const REPLIES: ReadonlySet<string> = new Set<ReplyName>([
  'FIND_NODE_REPLY',
  'FIND_VALUE_REPLY',
  'STORE_REPLY',
  'PONG',
  'REPLY',
]);

export class Gateway {
  private application: AppHandler | undefined;

  constructor(protected readonly ctx: GatewayContext) {}

  /** Hand CALL, PUBLISH and PUBSUB_ROUTE to the layers above the DHT (rpc.ts, pubsub.ts); one handler per node. */
  serve(handler: AppHandler): void {
    if (this.application !== undefined)
      throw new MeshError(ErrorCode.INVALID_ARGUMENT, 'serve: this node already serves an application handler');
    this.application = handler;
  }

  dispatch(message: Message, replyTo: ReplyTo): void {
    const { ctx } = this;
    if (replyTo.kind === 'routed') {
      ctx.count('messages.routedIn');
      ctx.count(messageCounter('routedIn', message.type));
    }
    if (REPLIES.has(message.type)) return this.settleReply(message, replyTo);
    switch (message.type) {
      case 'FIND_NODE':
        return this.handleFindNode(message.body, replyTo);
      case 'FIND_VALUE':
        return this.handleFindValue(message.body, replyTo);
      case 'STORE':
        return this.handleStore(message.body, replyTo);
      case 'REMOVE':
        return this.handleRemove(message.body, replyTo);
      case 'PING':
        return ctx.messenger.reply(replyTo, 'PONG', { rid: message.body.rid });
      case 'SIGNAL':
        if (replyTo.kind === 'routed') {
          const from = toHex(replyTo.envelope.src);
          ctx.returnRoutes.remember(from, replyTo.envelope.path, ctx.clock.now());
          ctx.emit({ type: 'signal', from, payload: message.body.payload });
        }
        return;
      case 'CALL':
      case 'PUBLISH':
      case 'PUBSUB_ROUTE':
        // The application layers above the DHT (RPC, pub/sub) handle these.
        if (this.application) this.application(message, replyTo);
        else
          ctx.messenger.reply(replyTo, 'REPLY', {
            rid: message.body.rid,
            ok: false,
            code: 'UNKNOWN_SERVICE',
            message: 'no application layer',
          });
        return;
      default:
        ctx.count('messages.unhandled');
    }
  }

  /** A non-exact lookup stops early at a node that holds what it looks for. */
  answersHere(inner: Message): boolean {
    return (
      inner.type === 'FIND_VALUE' &&
      this.ctx.records.get(inner.body.key, inner.body.kind, this.ctx.clock.now()).length > 0
    );
  }

  handleFindNode(body: MessageBodies['FIND_NODE'], replyTo: ReplyTo): void {
    const contacts = this.ctx.table.closest(body.target, this.ctx.k);
    // `linked` set on the reply, not spread into it: every lookup's every hop asks this.
    const reply: MessageBodies['FIND_NODE_REPLY'] = { rid: body.rid, target: body.target, nodes: idsOf(contacts) };
    const linked = this.linkedOf(contacts);
    if (linked !== undefined) reply.linked = linked;
    this.ctx.messenger.reply(replyTo, 'FIND_NODE_REPLY', reply);
  }

  handleFindValue(body: MessageBodies['FIND_VALUE'], replyTo: ReplyTo): void {
    const { ctx } = this;
    const reply = this.valueAnswer(body.rid, body.key, body.kind);
    if (reply.records.length > 0) {
      ctx.count('dht.valueServed');
      // A browser worker mirrors what it answers for keys asked lately to its page (worker/page-finds.ts).
      ctx.emit({ type: 'value:served', key: body.key, kind: body.kind });
    }
    ctx.messenger.reply(replyTo, 'FIND_VALUE_REPLY', reply);
  }

  /**
   * The FIND_VALUE_REPLY this node gives for (`key`, `kind`) now: its live records, the k
   * closest contacts it knows and which of them it holds a channel to. The one place it is
   * made, so that a copy kept elsewhere (worker/page-finds.ts) is the same answer.
   */
  valueAnswer(rid: number, key: NodeId, kind: 'provider' | 'subscriber'): MessageBodies['FIND_VALUE_REPLY'] {
    const { ctx } = this;
    const records = ctx.records.get(key, kind, ctx.clock.now());
    const contacts = ctx.table.closest(key, ctx.k);
    const reply: MessageBodies['FIND_VALUE_REPLY'] = { rid, key, kind, records, nodes: idsOf(contacts) };
    const linked = this.linkedOf(contacts);
    if (linked !== undefined) reply.linked = linked;
    return reply;
  }

  /**
   * Which of `contacts` (by index) we hold a channel to; undefined when none. Gathered in a
   * scratch array and copied out at its size: an answer waits for the network while it
   * travels, and an array grown by push left a discarded backing store per answer
   * (BENCHMARKS.md, Simulator garbage).
   */
  private linkedOf(contacts: readonly ContactId[]): number[] | undefined {
    const { neighbours } = this.ctx;
    let n = 0;
    for (let i = 0; i < contacts.length; i++) if (neighbours.has(contacts[i]!.idHex)) scratch[n++] = i;
    return n === 0 ? undefined : scratch.slice(0, n);
  }

  handleStore(body: MessageBodies['STORE'], replyTo: ReplyTo): void {
    const { ctx } = this;
    const result = ctx.records.put(body.record, ctx.clock.now(), body.remainingMs);
    const key = recordKey(body.record);
    if (result.ok) {
      ctx.count('dht.stored');
      ctx.emit({ type: 'records-changed', key: toHex(key) });
      ctx.messenger.reply(replyTo, 'STORE_REPLY', { rid: body.rid, key, ok: true });
    } else {
      ctx.count('dht.storeRefused');
      ctx.count(`dht.storeRefused.${result.code}`);
      ctx.messenger.reply(replyTo, 'STORE_REPLY', { rid: body.rid, key, ok: false, code: result.code });
    }
  }

  handleRemove(body: MessageBodies['REMOVE'], replyTo: ReplyTo): void {
    const { ctx } = this;
    const result = ctx.records.remove(body.removal, ctx.clock.now());
    const key = recordKey(body.removal);
    if (result.ok) ctx.emit({ type: 'records-changed', key: toHex(key) });
    else ctx.count(`dht.removeRefused.${result.code}`);
    ctx.messenger.reply(
      replyTo,
      'STORE_REPLY',
      result.ok ? { rid: body.rid, key, ok: true } : { rid: body.rid, key, ok: false, code: result.code },
    );
    if (!result.ok) return;
    // Copies this node handed on get the removal too, the checked copy (not what came in, with
    // whatever else it carried); each of them does the same (placements.ts).
    const { removal } = result;
    for (const target of ctx.placements.take(removal.kind, key, removal.nodeId)) {
      if (target === ctx.selfHex) continue;
      ctx.count('dht.removeForwarded');
      ctx.messenger
        .queryPeer(target, 'REMOVE', { rid: ctx.messenger.newId(), removal })
        .catch(() => ctx.count('dht.removeForwardUnanswered'));
    }
  }

  /**
   * macula's handle_query: run an encoded query against this node's own state and
   * return the encoded reply. Kept as the seed's counterpart (tests use it to ask a node
   * directly); the product's own traffic goes through dispatch.
   */
  handleQuery(queryType: 'FIND_NODE' | 'FIND_VALUE' | 'STORE' | 'REMOVE', queryData: Uint8Array): Uint8Array {
    const decoded = decodeFrame(queryData);
    if (!decoded.ok || decoded.message.type !== queryType) {
      throw new MeshError(ErrorCode.MALFORMED, `handleQuery: expected a ${queryType} frame`);
    }
    let out: Uint8Array | undefined;
    this.dispatch(decoded.message, {
      kind: 'local',
      capture: (frame) => {
        out = frame;
      },
    });
    if (out === undefined) throw new MeshError(ErrorCode.MALFORMED, 'handleQuery: no reply produced');
    return out;
  }

  /** macula's lookup_value: what this node itself stores at `key`. */
  lookupValue(
    key: NodeId,
    kind: 'provider' | 'subscriber' = 'provider',
  ): { ok: true; value: unknown[] } | { ok: false; error: 'not_found' } {
    const value = this.ctx.records.get(key, kind, this.ctx.clock.now());
    return value.length > 0 ? { ok: true, value } : { ok: false, error: 'not_found' };
  }

  private settleReply(message: Message, replyTo: ReplyTo): void {
    this.ctx.messenger.settle(message, replyTo);
  }
}

function recordKey(record: unknown): Uint8Array {
  const key = (record as { key?: unknown } | null)?.key;
  return key instanceof Uint8Array && key.length === 32 ? key : new Uint8Array(32);
}

/** linkedOf's indices before they are copied out (never handed on itself). */
const scratch: number[] = [];
/** The ids of `contacts`, in an array of their number (see linkedOf). */
const idOf = (c: ContactId): NodeId => c.id;
const idsOf = (contacts: readonly ContactId[]): NodeId[] => contacts.map(idOf);
