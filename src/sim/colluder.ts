import { decodeFrame, peekType, type Frame } from '../core/wire/codec.js';
import { DhtNode, type DhtNodeOptions } from '../core/node/dht-node.js';
import { Gateway, type GatewayContext, type ReplyTo } from '../core/node/gateway.js';
import { bitAt, compareDistance, fromHex, idsEqual, toHex, type NodeId } from '../core/id.js';
import type { MessageBodies, RouteMsg } from '../core/wire/messages.js';
import { dueDriven, type Built } from './swarm.js';

/**
 * The colluding adversary of issue #7: a coalition of real nodes (each with its own key,
 * so each can open channels and answer as itself) that know each other and work together
 * to hide records from honest nodes.
 *
 * While `active`, a colluder
 * - acknowledges every hop an honest node hands it (so the router believes it delivered)
 *   and then misroutes the envelope towards the colluder closest to its destination, or
 *   drops it when it is exact (STOREs, refine queries, signals) or a reply;
 * - answers FIND_VALUE with no records, and FIND_NODE / FIND_VALUE with only colluders
 *   plus made-up ids very close to the target (ids nobody holds the key of);
 * - never stores what it is sent, yet answers STORE and REMOVE with ok;
 * - still answers PINGs, so its honest neighbours keep it.
 * While inactive it is an honest node: a network can be grown first and attacked later.
 */
export class Coalition {
  readonly members = new Set<string>();
  private readonly ids: NodeId[] = [];
  active: boolean;
  /** Made-up ids put into every answer, ahead of the colluders. */
  readonly fakeIdsPerAnswer: number;
  /**
   * Leading bits a made-up id shares with the target. By default 96: closer than any real
   * node, so a lookup that trusts named ids chases these first. A cannier coalition uses
   * about log2(N) + 1, as close as the real closest nodes, so that no single answer
   * proves the forgery.
   */
  readonly fakePrefixBits: number;
  counters = { misrouted: 0, dropped: 0, poisoned: 0, storesSwallowed: 0 };

  constructor(opts: { active?: boolean; fakeIdsPerAnswer?: number; fakePrefixBits?: number } = {}) {
    this.active = opts.active ?? true;
    this.fakeIdsPerAnswer = opts.fakeIdsPerAnswer ?? 8;
    this.fakePrefixBits = opts.fakePrefixBits ?? 96;
  }

  add(idHex: string): void {
    if (this.members.has(idHex)) return;
    this.members.add(idHex);
    this.ids.push(fromHex(idHex));
  }

  has(id: Uint8Array | string): boolean {
    return this.members.has(typeof id === 'string' ? id : toHex(id));
  }

  /** What a colluder names when asked for the nodes closest to `target`. */
  poisonedContacts(target: NodeId, count: number, random: () => number): NodeId[] {
    const fakes: NodeId[] = [];
    for (let i = 0; i < Math.min(this.fakeIdsPerAnswer, count); i++)
      fakes.push(sharingPrefix(target, this.fakePrefixBits, random));
    const colluders = [...this.ids].sort((a, b) => compareDistance(target, a, b)).slice(0, count - fakes.length);
    return [...fakes, ...colluders];
  }
}

/** A random id whose first `bits` bits are the target's and whose next bit is not. */
function sharingPrefix(target: NodeId, bits: number, random: () => number): NodeId {
  const id = target.map(() => Math.floor(random() * 256));
  for (let i = 0; i < bits && i < 256; i++) setBit(id, i, bitAt(target, i));
  if (bits < 256) setBit(id, bits, 1 - bitAt(target, bits));
  return id;
}

function setBit(id: NodeId, i: number, value: number): void {
  const mask = 0x80 >> (i & 7);
  id[i >> 3] = value === 1 ? id[i >> 3]! | mask : id[i >> 3]! & ~mask;
}

/** The coalition's answers, while it is active; an honest gateway's otherwise. */
class ColludingGateway extends Gateway {
  constructor(
    ctx: GatewayContext,
    private readonly coalition: Coalition,
  ) {
    super(ctx);
  }

  override answersHere(inner: Parameters<Gateway['answersHere']>[0]): boolean {
    return this.coalition.active ? inner.type === 'FIND_VALUE' : super.answersHere(inner);
  }

  override handleFindNode(body: MessageBodies['FIND_NODE'], replyTo: ReplyTo): void {
    if (!this.coalition.active) return super.handleFindNode(body, replyTo);
    this.coalition.counters.poisoned++;
    this.ctx.messenger.reply(replyTo, 'FIND_NODE_REPLY', {
      rid: body.rid,
      target: body.target,
      nodes: this.poison(body.target),
    });
  }

  override handleFindValue(body: MessageBodies['FIND_VALUE'], replyTo: ReplyTo): void {
    if (!this.coalition.active) return super.handleFindValue(body, replyTo);
    this.coalition.counters.poisoned++;
    this.ctx.messenger.reply(replyTo, 'FIND_VALUE_REPLY', {
      rid: body.rid,
      key: body.key,
      kind: body.kind,
      records: [],
      nodes: this.poison(body.key),
    });
  }

  override handleStore(body: MessageBodies['STORE'], replyTo: ReplyTo): void {
    if (!this.coalition.active) return super.handleStore(body, replyTo);
    this.coalition.counters.storesSwallowed++;
    const key = (body.record as { key?: unknown }).key;
    this.ctx.messenger.reply(replyTo, 'STORE_REPLY', {
      rid: body.rid,
      key: key instanceof Uint8Array && key.length === 32 ? key : new Uint8Array(32),
      ok: true,
    });
  }

  override handleRemove(body: MessageBodies['REMOVE'], replyTo: ReplyTo): void {
    if (!this.coalition.active) return super.handleRemove(body, replyTo);
    const key = (body.removal as { key?: unknown }).key;
    this.ctx.messenger.reply(replyTo, 'STORE_REPLY', {
      rid: body.rid,
      key: key instanceof Uint8Array && key.length === 32 ? key : new Uint8Array(32),
      ok: true,
    });
  }

  private poison(target: NodeId): NodeId[] {
    return this.coalition.poisonedContacts(target, this.ctx.k, () => this.ctx.random.next());
  }
}

export class ColludingNode extends DhtNode {
  constructor(
    opts: DhtNodeOptions,
    readonly coalition: Coalition,
  ) {
    // Every answer this node gives is the coalition's: the node builds its gateway from this factory.
    super({ ...opts, gateway: (ctx) => new ColludingGateway(ctx, coalition) });
    coalition.add(this.selfHex);
  }

  override onFrame(peer: string, frame: Frame): void {
    if (!this.coalition.active || peekType(frame) !== 'RPC_ROUTE' || !this.neighbours.has(peer))
      return super.onFrame(peer, frame);
    const decoded = decodeFrame(frame);
    if (!decoded.ok || decoded.message.type !== 'RPC_ROUTE') return super.onFrame(peer, frame);
    const envelope = decoded.message.body;
    // The coalition's own traffic is carried faithfully; honest traffic for us is answered (with poison).
    if (this.coalition.has(envelope.src) || (envelope.exact && idsEqual(envelope.dest, this.self)))
      return super.onFrame(peer, frame);
    this.neighbours.get(peer)!.lastHeard = this.clock.now();
    if (envelope.hid !== 0) this.transport.send(peer, this.transport.frame('ROUTE_ACK', { hid: envelope.hid }));
    const innerType = peekType(envelope.body);
    if (envelope.exact || innerType === undefined || !(innerType === 'FIND_VALUE' || innerType === 'FIND_NODE')) {
      this.coalition.counters.dropped++;
      return;
    }
    if (this.misroute(envelope)) return;
    const inner = decodeFrame(envelope.body);
    if (inner.ok) this.gateway.dispatch(inner.message, { kind: 'routed', envelope });
  }

  /** Hand a lookup to the colluder neighbour closest to its target, so the answer comes from deep inside the coalition. */
  private misroute(envelope: RouteMsg): boolean {
    if (envelope.hops + 1 >= envelope.max) return false;
    let best: NodeId | undefined;
    for (const n of this.neighbours.values()) {
      if (!this.coalition.has(n.idHex) || envelope.path.some((p) => idsEqual(p, n.id))) continue;
      if (compareDistance(envelope.dest, n.id, this.self) >= 0) continue;
      if (best === undefined || compareDistance(envelope.dest, n.id, best) < 0) best = n.id;
    }
    if (best === undefined) return false;
    const out: RouteMsg = { ...envelope, hops: envelope.hops + 1, path: [...envelope.path, this.self], hid: 0 };
    delete out.via;
    this.coalition.counters.misrouted++;
    return this.transport.send(toHex(best), this.transport.frame('RPC_ROUTE', out));
  }
}

/** A swarm `create` factory: every `everyNth`-ish node (by `pick`) joins the coalition. */
export function colluderFactory(coalition: Coalition, pick: () => boolean, node: Partial<DhtNodeOptions> = {}) {
  return (deps: Pick<DhtNodeOptions, 'identity' | 'transport' | 'clock' | 'random' | 'verify' | 'ids'>): Built => {
    const built = pick() ? new ColludingNode({ ...node, ...deps }, coalition) : new DhtNode({ ...node, ...deps });
    return dueDriven(built);
  };
}
