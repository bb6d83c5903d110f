import { decodeFrame } from '../wire/codec.js';
import * as C from '../constants.js';
import type { AppHandler, NodeBasics, Neighbour, NodeEvent } from '../context.js';
import type { ChannelHandler, Clock, Random, Transport } from '../environment.js';
import { Gateway, type GatewayFactory } from './gateway.js';
import { bucketIndex, fromHex, isIdHex, randomIdInBucket, toHex, type NodeId } from '../id.js';
import { verify as ed25519Verify, type Identity, type Verifier } from '../identity.js';
import { ExpiringIds } from '../expiring-ids.js';
import { Liars } from '../defence/liars.js';
import { Liveness } from './liveness.js';
import { findNode, findValue, type LookupOptions, type LookupProgress } from '../lookup/lookup.js';
import { planNeighbours } from '../routing/neighbour-plan.js';
import { NeighbourVetting } from './neighbour-vetting.js';
import { SiblingExchange } from './sibling-exchange.js';
import { RecordStore } from '../records/record-store.js';
import { FloodGuard, type FloodLimits } from '../defence/rate-limit.js';
import { QueryTimer } from '../lookup/query-timer.js';
import { Placements } from '../records/placements.js';
import { Messenger } from './messenger.js';
import { prefixOf } from '../routing/router.js';
import { RoutingTable } from '../routing/routing-table.js';
import { Replication } from './replication.js';

/**
 * Neighbours beyond what routing needs (they shorten routes) are opened at most this
 * often, after a small burst: under churn, replacing every lost neighbour at once would
 * spend the tab's connection budget on departures.
 */
const OPTIONAL_CONNECT_INTERVAL_MS = 300_000;
/** A neighbour whose channel closed is not dialled again for this long. */
const REDIAL_COOLDOWN_MS = 10 * 60_000;
const OPTIONAL_CONNECT_BURST = 2;
/** A node surrounded by neighbours that get nothing through asks the relay for introductions at most this often. */
const SURROUNDED_ASK_SPACING_MS = 60_000;
/** A bucket is looked up again for stand-ins at most this often when its unreliable neighbours are dropped. */
const REFILL_SPACING_MS = 30_000;
/** A lost contact is probed this long after its channel closed, then again after each further wait while unanswered. */
const LOST_PROBE_DELAYS_MS = [2_000, 30_000];
/** An unanswered probe is repeated only by a node with fewer neighbours than this (it may have had no route). */
const PROBE_AGAIN_BELOW_NEIGHBOURS = 3;
/**
 * A contact declared dead (or replaced when its channel closed) is not taken back on
 * hearsay for this long: peers that have not noticed its departure keep naming it in
 * lookup answers. Hearing from it directly brings it back at once.
 */
const DEPARTED_MEMORY_MS = 10 * 60_000;
const MAX_DEPARTED = 1_024;
/** Reviews of the neighbour set triggered by channel events are spaced at least this far. */
const MIN_REVIEW_SPACING_MS = 2_000;

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
 */
export class DhtNode implements ChannelHandler {
  readonly identity: Identity;
  readonly self: NodeId;
  readonly selfHex: string;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly random: Random;
  readonly verify: Verifier;
  readonly k: number;
  readonly alpha: number;
  readonly hopTimeoutMs: number;
  /** Soft timeouts of lookup queries, learned from their replies (query-timer.ts). */
  readonly queryTimer: QueryTimer;
  readonly table: RoutingTable;
  readonly records: RecordStore;
  /** Every way of sending a request and settling its reply (messenger.ts). */
  readonly messenger: Messenger;
  /** Answers what arrives (macula's gateway handlers). */
  readonly gateway: Gateway;
  readonly neighbours = new Map<string, Neighbour>();
  readonly counters = new Map<string, number>();
  /** Nodes a lookup caught naming ids that do not exist (liars.ts). */
  readonly liars = new Liars();
  /** Contacts this node dropped as dead, refused as hearsay for a while (DEPARTED_MEMORY_MS). */
  readonly departed = new ExpiringIds(DEPARTED_MEMORY_MS, MAX_DEPARTED);
  /** Which neighbours get our routed requests through (neighbour-vetting.ts). */
  readonly vetting: NeighbourVetting;
  /** Where copies of records went from here, for removals to follow (placements.ts). */
  readonly placements = new Placements();
  /** Flood protection; undefined when turned off. */
  readonly flood: FloodGuard | undefined;
  private readonly connecting = new Map<string, number>();
  private readonly liveness: Liveness;
  private readonly replication: Replication;
  private readonly siblingExchange: SiblingExchange;
  private readonly listeners = new Set<(e: NodeEvent) => void>();
  private readonly policy;
  private readonly connectionBudget: number;
  private readonly bucketRefreshMs: number;
  private nextReviewAt = 0;
  private lastReviewAt = -Infinity;
  private settledState: string | undefined;
  private optionalTokens = OPTIONAL_CONNECT_BURST;
  private readonly cooldown = new Map<string, number>();
  private surroundedAskedAt = -Infinity;
  /** Set by the sibling exchange when a self-lookup finds us on an island (see wantIntroductions). */
  private introductionsWanted = false;
  /** When each bucket was last looked up again after an unreliable neighbour left it. */
  private readonly refilledAt = new Map<number, number>();
  /** When each recently lost contact was probed: at most one probe per contact per cooldown. */
  private readonly probedAt = new Map<string, number>();
  private tokensAt = 0;
  private closed = false;
  /** Every channel closed (or every neighbour convicted): the next one to open starts a new join. */
  private isolated = false;
  private joining: Promise<void> | undefined;
  connectionsCreated = 0;

  constructor(opts: DhtNodeOptions) {
    this.identity = opts.identity;
    this.self = opts.identity.nodeId;
    this.selfHex = opts.identity.nodeIdHex;
    this.flood = opts.flood === false ? undefined : new FloodGuard(opts.flood);
    this.transport = this.flood === undefined ? opts.transport : this.shaped(opts.transport, this.flood);
    this.clock = opts.clock;
    this.random = opts.random;
    this.verify = opts.verify ?? ed25519Verify;
    this.k = opts.k ?? C.K;
    this.alpha = opts.alpha ?? C.ALPHA;
    this.hopTimeoutMs = opts.hopTimeoutMs ?? C.HOP_TIMEOUT_MS;
    this.queryTimer = new QueryTimer(this.hopTimeoutMs);
    this.connectionBudget = opts.connectionBudget ?? C.CONNECTION_BUDGET;
    this.bucketRefreshMs = opts.bucketRefreshMs ?? C.BUCKET_REFRESH_MS;
    this.policy = {
      maxNeighbours: opts.maxNeighbours ?? C.MAX_NEIGHBOURS,
      perBucket: opts.neighboursPerBucket ?? C.NEIGHBOURS_PER_BUCKET,
      siblings: opts.siblingNeighbours ?? C.SIBLING_NEIGHBOURS,
    };
    this.table = new RoutingTable(this.self, { k: this.k, onDead: (hex) => this.departed.add(hex, this.clock.now()) });
    this.records = new RecordStore({ verify: this.verify });
    const basics: NodeBasics = {
      self: this.self, selfHex: this.selfHex, k: this.k, alpha: this.alpha, hopTimeoutMs: this.hopTimeoutMs,
      clock: this.clock, random: this.random, verify: this.verify, count: (name, by) => this.count(name, by),
    };
    this.messenger = new Messenger({ ...basics, transport: this.transport, neighbours: this.neighbours, table: this.table });
    this.gateway = (opts.gateway ?? ((ctx) => new Gateway(ctx)))({
      ...basics, neighbours: this.neighbours, table: this.table, records: this.records, placements: this.placements,
      messenger: this.messenger, emit: (event) => this.emit(event),
    });
    this.liveness = new Liveness(this, opts.pingIntervalMs ?? C.PING_INTERVAL_MS);
    this.vetting = new NeighbourVetting(this);
    this.siblingExchange = new SiblingExchange(this, this.policy.siblings);
    this.replication = new Replication(this);
    this.messenger.deliverTo(this.gateway);
    this.messenger.onHopFailure((peer) => this.liveness.failure(peer));
    this.messenger.onFirstHopOutcome((hop, through) => this.vetting.outcome(hop, through ? 'through' : 'lost'));
  }

  /** Hand CALL, PUBLISH and PUBSUB_ROUTE to the layers above the DHT (rpc.ts, pubsub.ts). */
  serve(handler: AppHandler): void {
    this.gateway.serve(handler);
  }

  // ---- channels (ChannelHandler) ----

  onChannelOpen(peer: string): void {
    if (this.closed || !isIdHex(peer) || peer === this.selfHex) return;
    const now = this.clock.now();
    const refusal = this.liars.has(peer, now) ? 'contacts.refusedLiar'
      : this.flood?.isBanned(peer, now) === true ? 'flood.refusedBanned'
      : this.vetting.trust.isDistrusted(peer, now) ? 'neighbours.refusedUnreliable' : undefined;
    if (refusal !== undefined) {
      this.count(refusal);
      this.connecting.delete(peer);
      this.transport.disconnect(peer);
      return;
    }
    this.connecting.delete(peer);
    if (!this.neighbours.has(peer)) {
      const id = fromHex(peer);
      this.neighbours.set(peer, { id, idHex: peer, prefix: prefixOf(id), openedAt: now, lastHeard: now });
      this.vetting.opened(peer, now);
    }
    this.learn(fromHex(peer), true);
    this.count('channels.opened');
    this.emit({ type: 'neighbour:open', peer });
    this.reviewSoon();
    if (this.isolated) {
      // Back from isolation (the relay introduced someone): what we knew is gone or untrusted, so join again.
      this.isolated = false;
      this.count('rejoins');
      void this.bootstrap().catch(() => undefined);
    }
  }

  /** The channel closed from the far side (or the network): the contact is lost until heard from again. */
  onChannelClose(peer: string): void {
    this.channelClosed(peer, true);
  }

  private channelClosed(peer: string, unasked: boolean): void {
    if (this.connecting.delete(peer) && !this.neighbours.has(peer)) {
      // A connection we asked for never opened: the contact is gone (or refuses us); stop trying it.
      this.count('connections.failed');
      if (isIdHex(peer)) this.table.markDead(fromHex(peer));
      return;
    }
    if (!this.neighbours.delete(peer)) return;
    if (this.neighbours.size === 0) this.isolated = true;
    // Do not dial it straight back: it may have left, or dropped us on purpose.
    this.cooldown.set(peer, this.clock.now() + REDIAL_COOLDOWN_MS);
    // Nothing else would tell us it left (only open channels are pinged), so stop handing it out now.
    if (unasked && this.table.markLost(peer) === 'lost') {
      this.count('contacts.lost');
      this.probeLost(peer);
    }
    this.liveness.forget(peer);
    this.vetting.closed(peer);
    this.flood?.forget(peer);
    this.messenger.channelClosed(peer);
    this.count('channels.closed');
    this.emit({ type: 'neighbour:close', peer });
    this.reviewSoon();
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
        if (!this.liveness.pong(peer, message.body.rid)) this.gateway.dispatch(message, { kind: 'direct', peer, id: neighbour.id });
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
   * A channel also closes when the far side declared *us* dead (we were paused, or cut off):
   * it is still there, and if it is one of our siblings, routing to us depends on that
   * channel. Routed PINGs tell the two cases apart without a connection: an answer revives
   * the contact and lifts its redial cooldown; silence leaves it lost (the neighbour policy
   * redials it once the cooldown ends, the last way to find it). They are spread out
   * because right after such a close we may have no route at all: every channel of a
   * paused node closes at once. A node that still had a few neighbours when a probe went
   * unanswered had routes: the contact left (the common case under churn), and it is not
   * probed again.
   */
  private probeLost(peer: string): void {
    const now = this.clock.now();
    if ((this.probedAt.get(peer) ?? -Infinity) > now - REDIAL_COOLDOWN_MS) return;
    this.probedAt.set(peer, now);
    for (const [p, at] of this.probedAt) if (at <= now - REDIAL_COOLDOWN_MS) this.probedAt.delete(p);
    let attempt = 0;
    const probe = (): void => {
      if (this.closed || this.table.get(peer)?.lost !== true) return;
      this.count('contacts.probed');
      this.messenger.queryPeer(peer, 'PING', { rid: this.messenger.newId() }).then(
        ({ info }) => {
          if (!this.closed && toHex(info.from) === peer) this.learn(info.from, true);
        },
        () => {
          this.count('contacts.probeUnanswered');
          const delay = LOST_PROBE_DELAYS_MS[++attempt];
          if (delay !== undefined && this.neighbours.size < PROBE_AGAIN_BELOW_NEIGHBOURS) this.clock.setTimer(delay, probe);
        },
      );
    };
    this.clock.setTimer(LOST_PROBE_DELAYS_MS[0]!, probe);
  }

  // ---- flood protection ----

  /** A frame over its class's budget is dropped unread; a neighbour out of strikes is cut off and banned. */
  private limited(peer: string, cls: string, disconnect: boolean): void {
    this.count('flood.limited');
    this.count(`flood.limited.${cls}`);
    if (!disconnect) return;
    this.count('flood.disconnected');
    this.table.markDead(fromHex(peer));
    this.transport.disconnect(peer);
    this.channelClosed(peer, false);
    const now = this.clock.now();
    this.flood!.ban(peer, now);
    // The neighbour policy must not dial it again either while the ban lasts.
    this.cooldown.set(peer, now + this.flood!.limits.banMs);
  }

  /** Sends that would exceed what the neighbour admits from us are shed here (the router then tries another hop). */
  private shaped(inner: Transport, guard: FloodGuard): Transport {
    return {
      send: (peer, frame) => {
        if (this.neighbours.has(peer) && !guard.allowSend(peer, frame, this.clock.now())) {
          this.count('flood.shed');
          return false;
        }
        return inner.send(peer, frame);
      },
      connect: (peer) => inner.connect(peer),
      disconnect: (peer) => inner.disconnect(peer),
    };
  }

  // ---- sending ----

  /** Route WebRTC signaling to `to` through the overlay; false when no neighbour is open. */
  sendSignal(to: string, payload: Uint8Array): boolean {
    if (this.neighbours.size === 0 || !isIdHex(to)) return false;
    this.messenger.originate(fromHex(to), true, 'SIGNAL', { payload });
    return true;
  }

  // ---- knowledge ----

  /**
   * Record a node we heard of. `heard` means it answered us (or opened a channel): a full
   * bucket then pings its oldest contact and evicts it only if dead. Ids merely named in
   * someone's reply wait in the replacement cache instead of costing a ping.
   */
  learn(id: NodeId, heard: boolean, rttMs?: number): void {
    const hex = toHex(id);
    const now = this.clock.now();
    if (this.liars.size > 0 && this.liars.has(hex, now)) return;
    if (this.vetting.trust.distrustedCount > 0 && this.vetting.trust.isDistrusted(hex, now)) return;
    const lost = this.table.lost > 0 && this.table.get(hex)?.lost === true;
    // Others naming a contact we lost (or dropped) do not prove it alive: they may not have noticed yet.
    if (!heard && (lost || (this.departed.size > 0 && this.departed.has(hex, now)))) return;
    if (heard && this.departed.size > 0) this.departed.delete(hex);
    const result = this.table.update(id, now, rttMs);
    if (lost) {
      // It answered (a probe, or any query): it did not leave, so it may be dialled again at once.
      this.count('contacts.revived');
      this.cooldown.delete(hex);
      this.reviewSoon();
    }
    if (result.kind === 'added') this.replication.noteNewContact(result.contact.idHex);
    if (result.kind === 'full' && heard) this.liveness.challengeOldest(result.oldest, id);
  }

  /**
   * A lookup caught `peer` naming an id implausibly close to its target that never
   * answered: a forgery (liars.ts). For LIAR_MEMORY_MS no lookup takes its word, it leaves
   * the routing table (a replacement takes its place) and its channel closes, so it
   * carries none of our traffic either.
   */
  convict(peer: string): void {
    if (peer === this.selfHex || !isIdHex(peer) || !this.liars.convict(peer, this.clock.now())) return;
    this.count('contacts.convicted');
    this.table.markDead(peer);
    if (this.neighbours.has(peer)) {
      this.count('neighbours.droppedLiar');
      this.transport.disconnect(peer);
      this.channelClosed(peer, false);
    }
  }

  /**
   * Requests routed through `peer` to live nodes keep vanishing while other neighbours get
   * ours through (neighbour-vetting.ts): close its channel and take it back neither way
   * while the verdict lasts (neighbour-trust.ts). It leaves the routing table too (we would hand out a contact that
   * swallows traffic), and its bucket is looked up again for contacts to stand in for it.
   * Unlike a conviction, its word in lookups still counts.
   */
  dropUnreliable(peer: string): void {
    if (!this.neighbours.has(peer)) return;
    const now = this.clock.now();
    this.count('neighbours.droppedUnreliable');
    const until = this.vetting.trust.distrust(peer, now);
    this.transport.disconnect(peer);
    this.channelClosed(peer, false);
    this.cooldown.set(peer, until);
    this.table.markDead(peer);
    const bucket = bucketIndex(this.self, fromHex(peer));
    if ((this.refilledAt.get(bucket) ?? -Infinity) <= now - REFILL_SPACING_MS) {
      this.refilledAt.set(bucket, now);
      this.count('neighbours.refills');
      void this.refreshBucket(bucket);
    }
  }

  // ---- lookups ----

  /** The k closest nodes to `target` (see LookupOptions). */
  findNode(target: NodeId, opts: LookupOptions = {}) {
    return findNode(this, target, opts);
  }

  findValue(key: NodeId, kind: 'provider' | 'subscriber', onProgress?: (p: LookupProgress) => void) {
    return findValue(this, key, kind, onProgress);
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
    await this.findNode(this.self, { refine: this.policy.siblings });
    // Refreshes only need to meet some nodes of each bucket: one path each is enough.
    const deepest = Math.max(0, ...this.table.nonEmptyBuckets());
    const refreshes: Promise<unknown>[] = [];
    for (let b = 0; b <= Math.min(deepest, 255); b++) refreshes.push(this.refreshBucket(b));
    await Promise.all(refreshes);
  }

  refreshBucket(index: number): Promise<unknown> {
    this.table.touchBucket(index, this.clock.now());
    const target = randomIdInBucket(this.self, index, (n) => this.random.bytes(n));
    // Asking the closest named node itself costs one query and catches a referrer that made it up.
    return this.findNode(target, { refine: 1, paths: 1 }).catch(() => undefined);
  }

  // ---- maintenance ----

  /** Everything periodic: liveness, neighbour policy, expiry, refresh, replication. */
  tick(): void {
    if (this.closed) return;
    const now = this.clock.now();
    this.liveness.tick(now);
    this.vetting.tick(now);
    this.siblingExchange.tick(now);
    if (now >= this.nextReviewAt) {
      this.reviewNeighbours(now);
      this.lastReviewAt = now;
      this.nextReviewAt = now + C.NEIGHBOUR_REVIEW_MS;
    }
    const pruned = this.records.pruneExpired(now);
    if (pruned > 0) this.count('records.expired', pruned);
    for (const b of this.table.staleBuckets(now, this.bucketRefreshMs)) void this.refreshBucket(b);
    this.replication.tick(now);
  }

  private reviewSoon(): void {
    this.nextReviewAt = Math.min(this.nextReviewAt, this.lastReviewAt + MIN_REVIEW_SPACING_MS);
  }

  /** Carry out the neighbour policy: open what is missing (within budget), drop the surplus. */
  reviewNeighbours(now: number): void {
    for (const [peer, since] of this.connecting) {
      if (now - since <= 2 * this.hopTimeoutMs) continue;
      this.connecting.delete(peer);
      this.count('connections.failed');
      this.table.markDead(fromHex(peer));
    }
    // Nothing changed since a review that left nothing to do: the plan would be the same.
    const state = `${this.table.version}/${this.neighbours.size}/${this.connecting.size}/${this.cooldown.size}`;
    if (state === this.settledState) return;
    const open = new Set(this.neighbours.keys());
    for (const [peer, until] of this.cooldown) if (until <= now) this.cooldown.delete(peer);
    const plan = planNeighbours(this.self, this.table, open, this.policy, new Set(this.cooldown.keys()));
    this.optionalTokens = Math.min(OPTIONAL_CONNECT_BURST, this.optionalTokens + (now - this.tokensAt) / OPTIONAL_CONNECT_INTERVAL_MS);
    this.tokensAt = now;
    for (const peer of plan.toConnect) {
      if (this.connecting.has(peer)) continue;
      if (open.size + this.connecting.size >= this.policy.maxNeighbours) break;
      if (!plan.required.has(peer)) {
        if (this.optionalTokens < 1) continue;
        this.optionalTokens--;
      }
      if (this.connectionsCreated >= this.connectionBudget) {
        this.count('connections.budgetExhausted');
        break;
      }
      this.connecting.set(peer, now);
      this.connectionsCreated++;
      this.count('connections.created');
      // Which part of the policy asked for it: benchmarks tell the slow top-up of route-shortening extras from the rest.
      this.count(plan.required.has(peer) ? 'connections.created.required' : 'connections.created.optional');
      this.transport.connect(peer);
    }
    for (const peer of plan.toDrop) {
      this.count('connections.dropped');
      this.transport.disconnect(peer);
      this.channelClosed(peer, false);
    }
    const idle = plan.toDrop.length === 0 && plan.toConnect.every((p) => this.connecting.has(p) || this.neighbours.has(p));
    this.settledState = idle ? `${this.table.version}/${this.neighbours.size}/${this.connecting.size}/${this.cooldown.size}` : undefined;
  }

  /**
   * The relay should introduce us to a few random nodes: we have no channel, or none of
   * our neighbours has got a request of ours through since long enough to tell
   * (neighbour-vetting.ts): an honest node surrounded by colluders gets out this way. Or a
   * self-lookup found us on an island (wantIntroductions).
   */
  needsIntroductions(): boolean {
    if (this.closed) return false;
    if (this.neighbours.size === 0) return true;
    if (this.introductionsWanted) {
      this.introductionsWanted = false;
      return true;
    }
    // Surrounded: ask now and then, not on every check (each introduction costs connections).
    const now = this.clock.now();
    if (now - this.surroundedAskedAt < SURROUNDED_ASK_SPACING_MS || !this.vetting.surrounded(now)) return false;
    this.surroundedAskedAt = now;
    this.count('introductions.surrounded');
    return true;
  }

  /**
   * Ask the relay for introductions at its next check, though our neighbours get our
   * requests through: they know nobody else. Honest nodes that dropped the colluders their
   * joins met can be left knowing only each other, each the other's one proven neighbour,
   * and nothing else would get them out.
   */
  wantIntroductions(): void {
    this.count('introductions.island');
    this.introductionsWanted = true;
  }

  /** A neighbour stopped answering: close its channel and forget it as a contact. */
  declareDead(peer: string): void {
    this.count('neighbours.dead');
    this.table.markDead(fromHex(peer));
    if (this.neighbours.has(peer)) {
      this.transport.disconnect(peer);
      this.channelClosed(peer, false);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.liveness.close();
    this.messenger.close();
    for (const peer of [...this.neighbours.keys()]) this.transport.disconnect(peer);
    this.neighbours.clear();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ---- observation ----

  on(listener: (e: NodeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: NodeEvent): void {
    for (const l of this.listeners) l(event);
  }

  count(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  stats(): Record<string, number> {
    return {
      ...Object.fromEntries(this.counters),
      'neighbours.open': this.neighbours.size,
      'connections.pending': this.connecting.size,
      'connections.createdTotal': this.connectionsCreated,
      'routingTable.contacts': this.table.size - this.table.lost,
      'routingTable.lost': this.table.lost,
      'records.stored': this.records.size,
      'requests.pending': this.messenger.requests.size,
      'route.pendingHops': this.messenger.router.pendingHops,
    };
  }
}
