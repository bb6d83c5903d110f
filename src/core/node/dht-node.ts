import * as C from '../constants.js';
import { COUNTER_NAMES, type CounterName } from '../counters.js';
import { Counts } from './counts.js';
import type { AppHandler, NodeBasics, Neighbour, NodeEvent } from '../context.js';
import type { ChannelHandler, Clock, Random } from '../environment.js';
import type { FrameTransport } from '../wire/frame-transport.js';
import { fromHex, isIdHex, type NodeId } from '../id.js';
import { verify as ed25519Verify, type AsyncSigner, type Identity, type Verifier } from '../identity.js';
import { Liars } from '../defence/liars.js';
import { NeighbourTrust } from '../defence/neighbour-trust.js';
import { FloodGuard } from '../defence/rate-limit.js';
import { outgoingTransport, routedAdmission } from './outgoing.js';
import {
  findNode,
  findValue,
  refreshBucket,
  type FindWatch,
  type LookupHost,
  type LookupOptions,
  type LookupProgress,
  type LookupResult,
} from '../lookup/lookup.js';
import { QueryTimer } from '../lookup/query-timer.js';
import { RecentHolders } from '../lookup/recent-holders.js';
import { Placements } from '../records/placements.js';
import { RecordStore } from '../records/record-store.js';
import { Introductions } from '../routing/introductions.js';
import { ReturnRoutes } from '../routing/return-routes.js';
import { RoutingTable } from '../routing/routing-table.js';
import type { Frame } from '../held-frame.js';
import type { PeerKind } from '../wire/messages.js';
import { ChannelIntake } from './channel-intake.js';
import { ContactBook, departedMemory } from './contacts.js';
import { Gateway } from './gateway.js';
import { Liveness } from './liveness.js';
import { Maintenance } from './maintenance.js';
import { Messenger } from './messenger.js';
import { NeighbourMap } from './neighbour-map.js';
import { NeighbourSet } from './neighbour-set.js';
import { NeighbourVetting } from './neighbour-vetting.js';
import { QuietContacts } from './quiet-contacts.js';
import type { DhtNodeOptions } from './node-options.js';
import { Replication } from './replication.js';
import { SiblingExchange } from './sibling-exchange.js';

export type { DhtNodeOptions } from './node-options.js';

/**
 * A part's host: the node's basics and what that part uses besides. The basics are listed
 * field by field, with the rest spread after them: in V8 (Node 20) `{ ...basics, ... }`
 * gives each object made in optimised code a hidden class of its own (about half a kilobyte
 * for a host of twenty fields, a dozen hosts a node, and property reads that see a new class
 * at every node), and `Object.assign({}, ...)` of twenty fields a dictionary; this form
 * keeps one class per kind of host. `H` comes from the parameter the host is passed to.
 */
function part<H extends NodeBasics>(b: NodeBasics, more: Omit<H, keyof NodeBasics>): H {
  // Every field of NodeBasics (the literal's type makes leaving a required one out an error).
  const host: NodeBasics & Omit<H, keyof NodeBasics> = {
    self: b.self,
    selfHex: b.selfHex,
    k: b.k,
    alpha: b.alpha,
    hopTimeoutMs: b.hopTimeoutMs,
    clock: b.clock,
    random: b.random,
    verify: b.verify,
    kind: b.kind,
    count: b.count,
    ...more,
  };
  return host as H;
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
  /** The transport as given, carrying held frames if it can, shaped to stay under our neighbours' flood limits. */
  readonly transport: FrameTransport;
  readonly clock: Clock;
  readonly random: Random;
  readonly verify: Verifier;
  readonly signer: AsyncSigner | undefined;
  readonly k: number;
  readonly alpha: number;
  readonly hopTimeoutMs: number;
  /** The most channels the node keeps (its neighbour policy's cap; the page holds it to the same number). */
  readonly maxNeighbours: number;
  /** What this node says it runs in (node-options.ts); none for a browser tab. */
  readonly kind: PeerKind | undefined;
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
  /** Every counter's count (counts.ts): a count is one array write, in a slot only for counters counted. */
  private readonly counts = new Counts();
  /** The counters counted so far: undefined for one still at zero (stats() reports every one). */
  readonly counters = new CounterView(this.counts);
  // The parts (each file says what it does). The public ones are those tests and the simulator look into.
  readonly messenger: Messenger;
  readonly gateway: Gateway;
  readonly neighbourSet: NeighbourSet;
  readonly contacts: ContactBook;
  readonly vetting: NeighbourVetting;
  private readonly liveness: Liveness;
  private readonly quietContacts: QuietContacts;
  private readonly lookups: LookupHost;
  private readonly intake: ChannelIntake;
  private readonly returnRoutes: ReturnRoutes;
  private readonly introductions = new Introductions();
  private readonly maintenance: Maintenance;
  /** Made at the first listener (most simulated nodes have none; an empty Set is ~0.2 KB). */
  private listeners: Set<(e: NodeEvent) => void> | undefined;
  private dueListener: ((at: number) => void) | undefined;
  private closed = false;

  constructor(opts: DhtNodeOptions) {
    this.identity = opts.identity;
    this.self = opts.identity.nodeId;
    this.selfHex = opts.identity.nodeIdHex;
    this.clock = opts.clock;
    this.random = opts.random;
    this.verify = opts.verify ?? ed25519Verify;
    this.signer = opts.signer;
    this.k = opts.k ?? C.K;
    this.alpha = opts.alpha ?? C.ALPHA;
    this.hopTimeoutMs = opts.hopTimeoutMs ?? C.HOP_TIMEOUT_MS;
    this.kind = opts.kind;
    this.maxNeighbours = opts.maxNeighbours ?? C.MAX_NEIGHBOURS;
    const policy = {
      // One channel of the cap is left free for offers: a full node can still take a newcomer, then keep what its plan prefers.
      maxNeighbours: Math.max(1, this.maxNeighbours - C.OFFER_SLOTS),
      perBucket: opts.neighboursPerBucket ?? C.NEIGHBOURS_PER_BUCKET,
      siblings: opts.siblingNeighbours ?? C.SIBLING_NEIGHBOURS,
    };
    const { placements, liars } = this;
    const count = (name: CounterName, by?: number): void => this.count(name, by);
    const emit = (event: NodeEvent): void => this.emit(event);
    // A part's work may come due earlier than dueAt() said: the driver that skips ticks hears of it.
    const wake = (at: number): void => this.dueListener?.(at);
    // One closure each, shared by every part that takes it: under tsx each closure carries a
    // name property of its own (~0.3 KB), and a simulator runs thousands of nodes.
    const isClosed = (): boolean => this.closed;
    const basics: NodeBasics = {
      self: this.self,
      selfHex: this.selfHex,
      k: this.k,
      alpha: this.alpha,
      hopTimeoutMs: this.hopTimeoutMs,
      clock: this.clock,
      random: this.random,
      verify: this.verify,
      kind: this.kind,
      count,
    };

    // What the parts share: plain state, no behaviour of its own.
    const neighbours = new NeighbourMap();
    this.neighbours = neighbours;
    const flood = (this.flood = opts.flood === false ? undefined : new FloodGuard(opts.flood, neighbours));
    const transport = (this.transport = outgoingTransport(opts.transport, flood, neighbours, this.clock, count));
    const departed = departedMemory();
    const table = (this.table = new RoutingTable(this.self, {
      k: this.k,
      onDead: (hex) => departed.add(hex, this.clock.now()),
      ids: opts.ids,
    }));
    const records = (this.records = new RecordStore({ verify: this.verify }));
    const trust = new NeighbourTrust(neighbours);
    const queryTimer = new QueryTimer(this.hopTimeoutMs);

    // The parts, bottom up: each is handed only what it uses, all of it built already.
    const admission = routedAdmission(flood, neighbours, this.clock, count, () => this.intake);
    const messenger = new Messenger(part(basics, { transport, neighbours, table, admission }));
    const returnRoutes = (this.returnRoutes = new ReturnRoutes());
    this.gateway = (opts.gateway ?? ((ctx) => new Gateway(ctx)))(
      part(basics, {
        neighbours,
        table,
        records,
        placements,
        messenger,
        returnRoutes,
        emit,
      }),
    );
    const connectionBudget = opts.connectionBudget ?? C.CONNECTION_BUDGET;
    const neighbourSet = new NeighbourSet(
      part(basics, {
        neighbours,
        table,
        transport,
        policy,
        connectionBudget,
        emit,
        wake,
      }),
    );
    const actions = neighbourSet;
    const liveness = new Liveness(
      part(basics, { neighbours, table, messenger, actions }),
      opts.pingIntervalMs ?? C.PING_INTERVAL_MS,
    );
    const quietContacts = new QuietContacts(
      part(basics, { neighbours, table, messenger, isClosed }),
      opts.pingIntervalMs ?? C.PING_INTERVAL_MS,
    );
    const replication = new Replication(part(basics, { table, records, placements, messenger, wake }));
    const contacts = new ContactBook(
      part(basics, {
        table,
        neighbours,
        liars,
        departed,
        trust,
        actions,
        messenger,
        isClosed,
        added: (hex) => replication.noteNewContact(hex),
        bucketFull: (oldest, id) => liveness.challengeOldest(oldest, id),
      }),
    );
    const lookups: LookupHost = part(basics, {
      neighbours,
      table,
      records,
      messenger,
      contacts,
      introductions: this.introductions,
      trust,
      liars,
      recentHolders: new RecentHolders(),
      queryTimer,
      emit,
      connectionsCreated: () => neighbourSet.connectionsCreated,
    });
    const refreshBucketOf = (b: number): Promise<unknown> => refreshBucket(lookups, b);
    const findNodeOf = (t: NodeId, o?: LookupOptions): Promise<LookupResult> => findNode(lookups, t, o);
    const vetting = new NeighbourVetting(
      part(basics, {
        neighbours,
        table,
        messenger,
        queryTimer,
        trust,
        actions,
        refreshBucket: refreshBucketOf,
        wake,
      }),
    );
    const siblingExchange = new SiblingExchange(
      part(basics, {
        neighbours,
        table,
        messenger,
        trust,
        contacts,
        actions,
        findNode: findNodeOf,
        wake,
      }),
      policy.siblings,
    );

    // What the parts report, to the parts built after them, in the order the node handles it.
    messenger.deliverTo(this.gateway);
    messenger.onHopFailure((peer) => liveness.failure(peer));
    messenger.onFirstHopOutcome((hop, through) => vetting.outcome(hop, through ? 'through' : 'lost'));
    // One listener for the parts that forget a closed neighbour, in this order.
    neighbourSet.onClosed((peer, unasked, neighbour) => {
      contacts.channelClosed(peer, unasked);
      liveness.forget(peer);
      vetting.closed(peer, neighbour);
      flood?.forget(peer, neighbour);
      messenger.channelClosed(peer);
    });
    neighbourSet.onDeparted(() => quietContacts.neighbourLeft());

    this.messenger = messenger;
    this.neighbourSet = neighbourSet;
    this.liveness = liveness;
    this.quietContacts = quietContacts;
    this.contacts = contacts;
    this.lookups = lookups;
    this.vetting = vetting;
    this.intake = new ChannelIntake(
      part(basics, {
        neighbours,
        table,
        flood,
        liars,
        vetting,
        neighbourSet,
        contacts,
        liveness,
        messenger,
        gateway: this.gateway,
        emit,
        isClosed,
        rejoin: () => void this.bootstrap().catch(() => undefined),
      }),
    );
    this.maintenance = new Maintenance(
      {
        self: this.self,
        table,
        records,
        liveness,
        quietContacts,
        vetting,
        siblingExchange,
        neighbourSet,
        replication,
        count,
        findNode: findNodeOf,
        refreshBucket: refreshBucketOf,
      },
      policy.siblings,
      opts.bucketRefreshMs ?? C.BUCKET_REFRESH_MS,
    );
  }

  /** Hand CALL, PUBLISH and PUBSUB_ROUTE to the layers above the DHT (rpc.ts, pubsub.ts). */
  serve(handler: AppHandler): void {
    this.gateway.serve(handler);
  }

  // ---- channels (ChannelHandler) ----

  onChannelOpen(peer: string): void {
    this.intake.opened(peer);
  }

  /** The channel closed from the far side (or the network): the contact is lost until heard from again. */
  onChannelClose(peer: string): void {
    this.neighbourSet.close(peer, true);
  }

  /** A dial got no channel because `peer` (or our page) was at its cap: it is alive, so it is not marked dead. */
  onChannelBusy(peer: string): void {
    this.neighbourSet.busy(peer);
  }

  onFrame(peer: string, frame: Frame): void {
    this.intake.frame(peer, frame);
  }

  /** Tell every neighbour this node is closing (before close(); see neighbourLeft). */
  sayGoodbye(): void {
    if (this.closed) return;
    for (const peer of this.neighbours.keys()) this.messenger.sendDirect(peer, 'LEAVE', {});
  }

  /**
   * Route WebRTC signaling to `to` through the overlay; false when no neighbour is open. To a
   * node whose own signals reached us lately, it retraces their path (routing/return-routes.ts);
   * to one a lookup learned, it goes by the node that introduced it (routing/introductions.ts).
   */
  sendSignal(to: string, payload: Uint8Array): boolean {
    if (this.neighbours.size === 0 || !isIdHex(to)) return false;
    const now = this.clock.now();
    const back = this.returnRoutes.via(to, now);
    const via = back ?? this.introductions.via(to, now);
    this.messenger.originate(fromHex(to), true, 'SIGNAL', { payload }, via === undefined ? {} : { via });
    if (back !== undefined) this.count('signals.retraced');
    else if (via !== undefined) this.count('signals.introduced');
    return true;
  }

  // ---- lookups ----

  /** The k closest nodes to `target` (see LookupOptions). */
  findNode(target: NodeId, opts: LookupOptions = {}): Promise<LookupResult> {
    return findNode(this.lookups, target, opts);
  }

  /** `watch`: told of the first round's paths as they leave (lookup-result.ts, FindWatch). */
  findValue(
    key: NodeId,
    kind: 'provider' | 'subscriber',
    onProgress?: (p: LookupProgress) => void,
    watch?: FindWatch,
  ): Promise<LookupResult> {
    return findValue(this.lookups, key, kind, onProgress, watch);
  }

  /** Join: look ourselves up (finds our siblings), then refresh every bucket once. A join already running is joined, not repeated. */
  bootstrap(): Promise<void> {
    return this.maintenance.join();
  }

  // ---- maintenance ----

  /** Everything periodic: liveness, neighbour policy, expiry, refresh, replication (maintenance.ts). */
  tick(): void {
    if (this.closed) return;
    this.maintenance.tick(this.clock.now());
  }

  /**
   * The earliest time (this node's clock) a tick can have work (maintenance.ts). A driver may
   * skip ticks until then if it also listens to onDue; calling tick() more often is harmless.
   */
  dueAt(): number {
    return this.maintenance.dueAt();
  }

  /** Be told when some work may be due at `at`, earlier than dueAt() last said (one listener: the driver). */
  onDue(listener: (at: number) => void): void {
    this.dueListener = listener;
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
    this.quietContacts.close();
    this.contacts.close();
    this.messenger.close();
    this.neighbourSet.disconnectAll();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ---- observation ----

  on(listener: (e: NodeEvent) => void): () => void {
    const listeners = (this.listeners ??= new Set());
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  private emit(event: NodeEvent): void {
    if (this.listeners !== undefined) for (const l of this.listeners) l(event);
  }

  count(name: CounterName, by = 1): void {
    this.counts.add(name, by);
  }

  stats(): Record<string, number> {
    return {
      ...Object.fromEntries(COUNTER_NAMES.map((name, i) => [name, this.counts.at(i)])),
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

/** DhtNode.counters: a count by name, undefined while it is zero (an object, not a closure per node). */
class CounterView {
  constructor(private readonly counts: Counts) {}

  get(name: CounterName): number | undefined {
    return this.counts.get(name) || undefined;
  }
}
