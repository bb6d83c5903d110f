import { decodeFrame } from '../wire/codec.js';
import * as C from '../constants.js';
import type { AppHandler, NodeBasics, Neighbour, NodeEvent } from '../context.js';
import type { ChannelHandler, Clock, Random, Transport } from '../environment.js';
import { fromHex, isIdHex, type NodeId } from '../id.js';
import { verify as ed25519Verify, type Identity, type Verifier } from '../identity.js';
import { Liars } from '../defence/liars.js';
import { NeighbourTrust } from '../defence/neighbour-trust.js';
import { FloodGuard, shapedTransport, type FloodLimits } from '../defence/rate-limit.js';
import {
  findNode,
  findValue,
  refreshBucket,
  type LookupHost,
  type LookupOptions,
  type LookupProgress,
  type LookupResult,
} from '../lookup/lookup.js';
import { QueryTimer } from '../lookup/query-timer.js';
import { Placements } from '../records/placements.js';
import { RecordStore } from '../records/record-store.js';
import { RoutingTable } from '../routing/routing-table.js';
import { ContactBook, departedMemory } from './contacts.js';
import { Gateway, type GatewayFactory } from './gateway.js';
import { Liveness } from './liveness.js';
import { Messenger } from './messenger.js';
import { NeighbourSet } from './neighbour-set.js';
import { NeighbourVetting } from './neighbour-vetting.js';
import { Replication } from './replication.js';
import { SiblingExchange } from './sibling-exchange.js';

export interface DhtNodeOptions {
  identity: Identity;
  transport: Transport;
  clock: Clock;
  random: Random;
  verify?: Verifier;
  k?: number;
  alpha?: number;
  hopTimeoutMs?: number;
  maxNeighbours?: number;
  neighboursPerBucket?: number;
  siblingNeighbours?: number;
  connectionBudget?: number;
  bucketRefreshMs?: number;
  pingIntervalMs?: number;
  /** Per-neighbour flood limits (rate-limit.ts); false turns them off (fuzzing the handlers). */
  flood?: FloodLimits | false;
  /** Builds the gateway (the simulator's adversaries answer differently); by default an honest one. */
  gateway?: GatewayFactory;
}

export type { Neighbour, NodeEvent } from '../context.js';

/**
 * One Kademlia node with no I/O of its own: the worker, Node and the simulator give it
 * a transport, a clock and randomness, feed it channel events, and call tick().
 *
 * The node only composes its parts (each built with the capabilities it uses, context.ts),
 * takes channel events in and runs what is periodic. It implements NodeBasics itself, and
 * the registry layer (dht-registry.ts, rpc.ts, pubsub.ts) takes it through those hosts.
 */
export class DhtNode implements ChannelHandler, NodeBasics {
  readonly identity: Identity;
  readonly self: NodeId;
  readonly selfHex: string;
  /** The transport as given, shaped to stay under our neighbours' flood limits. */
  readonly transport: Transport;
  readonly clock: Clock;
  readonly random: Random;
  readonly verify: Verifier;
  readonly k: number;
  readonly alpha: number;
  readonly hopTimeoutMs: number;
  readonly table: RoutingTable;
  readonly records: RecordStore;
  /** Where copies of records went from here, for removals to follow (placements.ts). */
  readonly placements = new Placements();
  /** Nodes a lookup caught naming ids that do not exist (liars.ts). */
  readonly liars = new Liars();
  /** Flood protection; undefined when turned off. */
  readonly flood: FloodGuard | undefined;
  /** The open channels (the neighbour set keeps them). */
  readonly neighbours: ReadonlyMap<string, Neighbour>;
  readonly counters = new Map<string, number>();
  // The parts (each file says what it does). The public ones are those tests and the simulator look into.
  readonly messenger: Messenger;
  readonly gateway: Gateway;
  readonly neighbourSet: NeighbourSet;
  readonly contacts: ContactBook;
  readonly vetting: NeighbourVetting;
  private readonly liveness: Liveness;
  private readonly replication: Replication;
  private readonly siblingExchange: SiblingExchange;
  private readonly lookups: LookupHost;
  private readonly siblings: number;
  private readonly bucketRefreshMs: number;
  private readonly listeners = new Set<(e: NodeEvent) => void>();
  private closed = false;
  private joining: Promise<void> | undefined;

  constructor(opts: DhtNodeOptions) {
    this.identity = opts.identity;
    this.self = opts.identity.nodeId;
    this.selfHex = opts.identity.nodeIdHex;
    this.clock = opts.clock;
    this.random = opts.random;
    this.verify = opts.verify ?? ed25519Verify;
    this.k = opts.k ?? C.K;
    this.alpha = opts.alpha ?? C.ALPHA;
    this.hopTimeoutMs = opts.hopTimeoutMs ?? C.HOP_TIMEOUT_MS;
    this.bucketRefreshMs = opts.bucketRefreshMs ?? C.BUCKET_REFRESH_MS;
    const policy = {
      maxNeighbours: opts.maxNeighbours ?? C.MAX_NEIGHBOURS,
      perBucket: opts.neighboursPerBucket ?? C.NEIGHBOURS_PER_BUCKET,
      siblings: opts.siblingNeighbours ?? C.SIBLING_NEIGHBOURS,
    };
    this.siblings = policy.siblings;
    const { placements, liars } = this;
    const count = (name: string, by?: number): void => this.count(name, by);
    const emit = (event: NodeEvent): void => this.emit(event);
    const basics: NodeBasics = {
      self: this.self,
      selfHex: this.selfHex,
      k: this.k,
      alpha: this.alpha,
      hopTimeoutMs: this.hopTimeoutMs,
      clock: this.clock,
      random: this.random,
      verify: this.verify,
      count,
    };

    // What the parts share: plain state, no behaviour of its own.
    const neighbours = new Map<string, Neighbour>();
    this.neighbours = neighbours;
    const flood = (this.flood = opts.flood === false ? undefined : new FloodGuard(opts.flood));
    const transport = (this.transport =
      flood === undefined
        ? opts.transport
        : shapedTransport(opts.transport, flood, (p) => neighbours.has(p), this.clock, count));
    const departed = departedMemory();
    const table = (this.table = new RoutingTable(this.self, {
      k: this.k,
      onDead: (hex) => departed.add(hex, this.clock.now()),
    }));
    const records = (this.records = new RecordStore({ verify: this.verify }));
    const trust = new NeighbourTrust();
    const queryTimer = new QueryTimer(this.hopTimeoutMs);

    // The parts, bottom up: each is handed only what it uses, all of it built already.
    const admission =
      flood === undefined
        ? undefined
        : {
            delivered: (from: string, inner: Uint8Array) => this.admitDelivered(flood, from, inner),
            handOver: (next: string, inner: Uint8Array) => {
              if (!neighbours.has(next) || flood.allowHandOver(next, inner, this.clock.now())) return true;
              count('flood.shed');
              return false;
            },
          };
    const messenger = new Messenger({ ...basics, transport, neighbours, table, admission });
    this.gateway = (opts.gateway ?? ((ctx) => new Gateway(ctx)))({
      ...basics,
      neighbours,
      table,
      records,
      placements,
      messenger,
      emit,
    });
    const connectionBudget = opts.connectionBudget ?? C.CONNECTION_BUDGET;
    const neighbourSet = new NeighbourSet({ ...basics, neighbours, table, transport, policy, connectionBudget, emit });
    const actions = neighbourSet;
    const liveness = new Liveness(
      { ...basics, neighbours, table, messenger, actions },
      opts.pingIntervalMs ?? C.PING_INTERVAL_MS,
    );
    const replication = new Replication({ ...basics, table, records, placements, messenger });
    const contacts = new ContactBook({
      ...basics,
      table,
      neighbours,
      liars,
      departed,
      trust,
      actions,
      messenger,
      isClosed: () => this.closed,
      added: (hex) => replication.noteNewContact(hex),
      bucketFull: (oldest, id) => liveness.challengeOldest(oldest, id),
    });
    const lookups: LookupHost = {
      ...basics,
      neighbours,
      table,
      records,
      messenger,
      contacts,
      trust,
      liars,
      queryTimer,
      emit,
      connectionsCreated: () => neighbourSet.connectionsCreated,
    };
    const vetting = new NeighbourVetting({
      ...basics,
      neighbours,
      table,
      messenger,
      queryTimer,
      trust,
      actions,
      refreshBucket: (b) => refreshBucket(lookups, b),
    });
    this.siblingExchange = new SiblingExchange(
      {
        ...basics,
        neighbours,
        table,
        messenger,
        trust,
        contacts,
        actions,
        findNode: (t, o) => findNode(lookups, t, o),
      },
      policy.siblings,
    );

    // What the parts report, to the parts built after them, in the order the node handles it.
    messenger.deliverTo(this.gateway);
    messenger.onHopFailure((peer) => liveness.failure(peer));
    messenger.onFirstHopOutcome((hop, through) => vetting.outcome(hop, through ? 'through' : 'lost'));
    neighbourSet.onClosed((peer, unasked) => contacts.channelClosed(peer, unasked));
    neighbourSet.onClosed((peer) => liveness.forget(peer));
    neighbourSet.onClosed((peer) => vetting.closed(peer));
    if (flood !== undefined) neighbourSet.onClosed((peer) => flood.forget(peer));
    neighbourSet.onClosed((peer) => messenger.channelClosed(peer));

    this.messenger = messenger;
    this.neighbourSet = neighbourSet;
    this.liveness = liveness;
    this.replication = replication;
    this.contacts = contacts;
    this.lookups = lookups;
    this.vetting = vetting;
  }

  /** Hand CALL, PUBLISH and PUBSUB_ROUTE to the layers above the DHT (rpc.ts, pubsub.ts). */
  serve(handler: AppHandler): void {
    this.gateway.serve(handler);
  }

  // ---- channels (ChannelHandler) ----

  onChannelOpen(peer: string): void {
    if (this.closed || !isIdHex(peer) || peer === this.selfHex) return;
    const now = this.clock.now();
    const refusal = this.liars.has(peer, now)
      ? 'contacts.refusedLiar'
      : this.flood?.isBanned(peer, now) === true
        ? 'flood.refusedBanned'
        : this.vetting.trust.isDistrusted(peer, now)
          ? 'neighbours.refusedUnreliable'
          : undefined;
    if (refusal !== undefined) {
      this.count(refusal);
      this.neighbourSet.refuse(peer);
      return;
    }
    if (this.neighbourSet.opened(peer, now)) this.vetting.opened(peer, now);
    this.contacts.learn(fromHex(peer), true);
    this.count('channels.opened');
    this.emit({ type: 'neighbour:open', peer });
    this.neighbourSet.reviewSoon();
    if (this.neighbourSet.rejoinDue()) {
      // Back from isolation (the relay introduced someone): what we knew is gone or untrusted, so join again.
      this.count('rejoins');
      void this.bootstrap().catch(() => undefined);
    }
  }

  /** The channel closed from the far side (or the network): the contact is lost until heard from again. */
  onChannelClose(peer: string): void {
    this.neighbourSet.close(peer, true);
  }

  onFrame(peer: string, frame: Uint8Array): void {
    if (this.closed) return;
    const neighbour = this.neighbours.get(peer);
    if (neighbour === undefined) {
      this.count('frames.fromStranger');
      return;
    }
    if (this.flood !== undefined) {
      const admission = this.flood.admit(peer, frame, this.clock.now());
      if (!admission.ok) return this.limited(peer, admission.class, admission.disconnect);
    }
    neighbour.lastHeard = this.clock.now();
    this.liveness.heard(peer);
    const decoded = decodeFrame(frame);
    if (!decoded.ok) {
      this.count('frames.malformed');
      this.count(`frames.malformed.${decoded.error}`);
      this.liveness.junk(peer);
      return;
    }
    const { message } = decoded;
    this.messenger.countMessage('in', message.type);
    switch (message.type) {
      case 'PING':
        this.messenger.sendDirect(peer, 'PONG', { rid: message.body.rid });
        return;
      case 'PONG':
        if (!this.liveness.pong(peer, message.body.rid))
          this.gateway.dispatch(message, { kind: 'direct', peer, id: neighbour.id });
        return;
      case 'ROUTE_ACK':
        this.messenger.acknowledged(peer, message.body.hid);
        return;
      case 'RPC_ROUTE':
        this.messenger.receive(peer, message.body);
        return;
      default:
        this.gateway.dispatch(message, { kind: 'direct', peer, id: neighbour.id });
    }
  }

  /**
   * An envelope that ends here is charged to the neighbour that handed it over, by what it
   * carries (defence/rate-limit.ts): a STORE wrapped in an envelope costs that neighbour what
   * a direct STORE would, strikes and ban included. One whose channel has closed since (the
   * envelope waited for a hop that timed out) was charged while it was open.
   */
  private admitDelivered(flood: FloodGuard, from: string, inner: Uint8Array): boolean {
    const now = this.clock.now();
    if (flood.isBanned(from, now)) {
      this.count('flood.fromBanned');
      return false;
    }
    if (!this.neighbours.has(from)) return true;
    const admission = flood.admitDelivered(from, inner, now);
    if (admission.ok) return true;
    this.limited(from, admission.class, admission.disconnect);
    return false;
  }

  /** A frame over its class's budget is dropped unread; a neighbour out of strikes is cut off and banned. */
  private limited(peer: string, cls: string, disconnect: boolean): void {
    this.count('flood.limited');
    this.count(`flood.limited.${cls}`);
    if (!disconnect) return;
    this.count('flood.disconnected');
    this.table.markDead(fromHex(peer));
    this.neighbourSet.hangUp(peer);
    const now = this.clock.now();
    this.flood!.ban(peer, now);
    // The neighbour policy must not dial it again either while the ban lasts.
    this.neighbourSet.coolDown(peer, now + this.flood!.limits.banMs);
  }

  /** Route WebRTC signaling to `to` through the overlay; false when no neighbour is open. */
  sendSignal(to: string, payload: Uint8Array): boolean {
    if (this.neighbours.size === 0 || !isIdHex(to)) return false;
    this.messenger.originate(fromHex(to), true, 'SIGNAL', { payload });
    return true;
  }

  // ---- lookups ----

  /** The k closest nodes to `target` (see LookupOptions). */
  findNode(target: NodeId, opts: LookupOptions = {}): Promise<LookupResult> {
    return findNode(this.lookups, target, opts);
  }

  findValue(
    key: NodeId,
    kind: 'provider' | 'subscriber',
    onProgress?: (p: LookupProgress) => void,
  ): Promise<LookupResult> {
    return findValue(this.lookups, key, kind, onProgress);
  }

  /** Join: look ourselves up (finds our siblings), then refresh every bucket once. A join already running is joined, not repeated. */
  bootstrap(): Promise<void> {
    this.joining ??= this.join().finally(() => {
      this.joining = undefined;
    });
    return this.joining;
  }

  private async join(): Promise<void> {
    // Confirming our closest siblings is what a join needs; they become neighbours.
    await this.findNode(this.self, { refine: this.siblings });
    // Refreshes only need to meet some nodes of each bucket: one path each is enough.
    const deepest = Math.max(0, ...this.table.nonEmptyBuckets());
    const refreshes: Promise<unknown>[] = [];
    for (let b = 0; b <= Math.min(deepest, 255); b++) refreshes.push(refreshBucket(this.lookups, b));
    await Promise.all(refreshes);
  }

  // ---- maintenance ----

  /** Everything periodic: liveness, neighbour policy, expiry, refresh, replication. */
  tick(): void {
    if (this.closed) return;
    const now = this.clock.now();
    this.liveness.tick(now);
    this.vetting.tick(now);
    this.siblingExchange.tick(now);
    this.neighbourSet.tick(now);
    const pruned = this.records.pruneExpired(now);
    if (pruned > 0) this.count('records.expired', pruned);
    for (const b of this.table.staleBuckets(now, this.bucketRefreshMs)) void refreshBucket(this.lookups, b);
    this.replication.tick(now);
  }

  /**
   * The relay should introduce us to a few random nodes: we have no channel, none of our
   * neighbours gets our requests through, or we are on an island (neighbour-set.ts).
   */
  needsIntroductions(): boolean {
    return !this.closed && this.neighbourSet.needsIntroductions((now) => this.vetting.surrounded(now));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.liveness.close();
    this.messenger.close();
    this.neighbourSet.disconnectAll();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ---- observation ----

  on(listener: (e: NodeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: NodeEvent): void {
    for (const l of this.listeners) l(event);
  }

  count(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  stats(): Record<string, number> {
    return {
      ...Object.fromEntries(this.counters),
      'neighbours.open': this.neighbours.size,
      'connections.pending': this.neighbourSet.pending,
      'connections.createdTotal': this.neighbourSet.connectionsCreated,
      'routingTable.contacts': this.table.size - this.table.lost,
      'routingTable.lost': this.table.lost,
      'records.stored': this.records.size,
      'requests.pending': this.messenger.requests.size,
      'route.pendingHops': this.messenger.router.pendingHops,
    };
  }
}
