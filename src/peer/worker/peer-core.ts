import { readvertiseIntervalS } from '../../core/constants.js';
import { DhtNode, type DhtNodeOptions } from '../../core/node/dht-node.js';
import { publishToDht, queryDhtForService, removeFromDht } from '../../core/registry/dht-registry.js';
import { LEAVE_GRACE_MS, leaveMesh } from '../../core/registry/leave.js';
import type { FindWatch } from '../../core/lookup/lookup-result.js';
import type { Clock, Random, Store, Transport } from '../../core/environment.js';
import { ErrorCode, invalidArgument, MeshError } from '../../core/errors.js';
import type { Identity, Verifier } from '../../core/identity.js';
import { checkMetadata, type RecordKind } from '../../core/records/records.js';
import {
  PubSub,
  type PublishWatch,
  type SubscriberCopy,
  type SubscriptionSink,
  type TakenOnPage,
} from '../../core/registry/pubsub.js';
import {
  Rpc,
  type CallLead,
  type CallOptions,
  type CallOutcome,
  type CallWatch,
  type LocalHandlers,
  type SentCall,
} from '../../core/registry/rpc.js';
import {
  checkServiceId,
  ServiceRegistry,
  type ProviderInfo,
  type ServiceHandler,
} from '../../core/registry/service-registry.js';
import { subscriptionKey } from '../../core/registry/topics.js';
import { Persistence, type SavedService } from './persistence.js';
import type { PeerKind } from '../../core/wire/messages.js';

/**
 * What runs in the worker: the DHT node, the service registry with its caches, RPC and
 * pub/sub, the re-advertisement timers and persistence. Still free of browser APIs
 * (transport, clock, store, randomness and the app's handlers are given), so the same
 * class runs in Node tests on the simulated network.
 */
export interface PeerCoreOptions {
  identity: Identity;
  transport: Transport;
  clock: Clock;
  random: Random;
  store?: Store;
  verify?: Verifier;
  /**
   * Runs the app's handler for a CALL (in the browser the handlers live on the main
   * thread). Calls reach it for every service advertised here; one with no handler
   * rejects UNKNOWN_SERVICE.
   */
  handlers?: Pick<LocalHandlers, 'invoke' | 'answerDirect' | 'admittedOnPage'>;
  /** Where subscription messages go (the app's callbacks). */
  sink?: SubscriptionSink;
  /** Publications the page took straight from a neighbour before the node saw them (frame-port.ts). */
  takenOnPage?: TakenOnPage;
  /** Told whenever the providers a call would draw from change (worker/page-calls.ts keeps the page's copy). */
  providerCopy?: ProviderCopy;
  /** Told whenever the subscribers a publish would send to change (worker/page-publishes.ts keeps the page's copy). */
  subscriberCopy?: SubscriberCopy;
  defaultTtl?: number;
  cacheTtl?: number;
  k?: number;
  alpha?: number;
  /** The most channels the node keeps open (the neighbour policy's cap; peer-options.ts checks the range). */
  maxNeighbours?: number;
  node?: Partial<Omit<DhtNodeOptions, 'identity' | 'transport' | 'clock' | 'random'>>;
}

/**
 * The providers a call of a service draws from, as the discovery cache holds them: each
 * answer it serves (`cached`, with until when it serves the same ones) and each provider
 * dropped from it (`forgot`: from one service's answer after a failed call, or from all when
 * the node said it is leaving).
 */
export interface ProviderCopy {
  cached(serviceId: string, providers: readonly string[], until: number): void;
  forgot(nodeId: string, serviceId?: string): void;
}

/**
 * An open channel: its round-trip time once measured, and what the peer says it runs in
 * (its PINGs and PONGs; `kind: 'node'` for a Node peer, a relay's own among them; absent for a browser tab).
 */
export interface ChannelPeer {
  nodeId: string;
  rttMs?: number;
  kind?: PeerKind;
}

export type RoutingTableView = Array<{
  bucket: number;
  /** `kind` as in ChannelPeer, known while a channel is open. */
  contacts: Array<{ nodeId: string; lastSeen: number; rttMs?: number; open: boolean; kind?: PeerKind }>;
}>;

export interface AdvertiseOptions {
  metadata?: Record<string, unknown>;
  ttl?: number;
}

/** A record this peer keeps alive in the DHT: a provided service or a subscription. */
interface Advertised {
  name: string;
  kind: RecordKind;
  metadata: Record<string, unknown>;
  ttl: number;
  cancel: () => void;
  /** The publish under way, if any (storeRecord runs one at a time). */
  publishing?: Promise<void>;
}

const noHandlers: Pick<LocalHandlers, 'invoke'> = {
  invoke: () => Promise.reject(new MeshError(ErrorCode.UNKNOWN_SERVICE, 'no handlers in this context')),
};

export class PeerCore {
  readonly node: DhtNode;
  readonly registry: ServiceRegistry;
  readonly persistence: Persistence | undefined;
  readonly rpc: Rpc;
  readonly pubsub: PubSub;
  private readonly advertised = new Map<string, Advertised>();
  /** The earlier session's services, waiting for the app's handler (restore). */
  private readonly restored = new Map<string, SavedService>();
  private readonly clock: Clock;
  private bootstrapped = false;
  private bootstrapping: Promise<void> | undefined;
  private cacheHits = 0;
  private cacheMisses = 0;
  private readonly handlers: Pick<LocalHandlers, 'invoke' | 'answerDirect' | 'admittedOnPage'>;
  private readonly copy: ProviderCopy | undefined;

  constructor(opts: PeerCoreOptions) {
    this.clock = opts.clock;
    this.node = new DhtNode({
      ...opts.node,
      identity: opts.identity,
      transport: opts.transport,
      clock: opts.clock,
      random: opts.random,
      ...(opts.verify ? { verify: opts.verify } : {}),
      ...(opts.k ? { k: opts.k } : {}),
      ...(opts.alpha ? { alpha: opts.alpha } : {}),
      ...(opts.maxNeighbours ? { maxNeighbours: opts.maxNeighbours } : {}),
    });
    this.registry = new ServiceRegistry(opts.clock, {
      ...(opts.defaultTtl ? { defaultTtl: opts.defaultTtl } : {}),
      ...(opts.cacheTtl ? { cacheTtl: opts.cacheTtl } : {}),
    });
    this.persistence = opts.store ? new Persistence(this.node, opts.store) : undefined;
    this.handlers = opts.handlers ?? noHandlers;
    this.copy = opts.providerCopy;
    // What is served is what the registry holds; its handler slot forwards to the app's.
    this.rpc = new Rpc(
      this.node,
      {
        discover: (serviceId, o) => this.discover(serviceId, o),
        forgetProvider: (serviceId, nodeId) => {
          this.registry.forgetProvider(serviceId, nodeId);
          this.copy?.forgot(nodeId, serviceId);
        },
      },
      {
        has: (serviceId) => this.registry.getLocalHandler(serviceId) !== undefined,
        invoke: (serviceId, args, caller) => this.handlers.invoke(serviceId, args, caller),
        ...(this.handlers.answerDirect ? { answerDirect: this.handlers.answerDirect.bind(this.handlers) } : {}),
        ...(this.handlers.admittedOnPage ? { admittedOnPage: this.handlers.admittedOnPage.bind(this.handlers) } : {}),
      },
    );
    this.pubsub = new PubSub(
      this.node,
      this.registry,
      opts.sink ?? { deliver: () => undefined },
      {
        subscribe: (pattern) => this.keepAdvertised(pattern, 'subscriber', { metadata: { pattern } }),
        unsubscribe: (pattern) => this.stopAdvertising(pattern, 'subscriber'),
      },
      opts.takenOnPage,
      opts.subscriberCopy,
    );
    this.node.serve((message, replyTo) => {
      if (message.type === 'CALL') this.rpc.handleCall(message.body, replyTo);
      else if (message.type === 'PUBLISH' || message.type === 'PUBSUB_ROUTE')
        this.pubsub.handlePublish(message.body, replyTo);
    });
    this.node.on((e) => {
      if (e.type === 'neighbour:open' && !this.bootstrapped) void this.join();
      // A provider that said it is leaving is not offered to the next call from the cache.
      else if (e.type === 'neighbour:left') {
        this.registry.forgetNode(e.peer);
        this.copy?.forgot(e.peer);
      }
    });
  }

  /**
   * Restore what an earlier session of this tab persisted: the records it held for others
   * and the contacts go back in at once; its own services do not. Their handlers died with
   * the page, so advertising them again now would send callers to a peer that can only say
   * UNKNOWN_SERVICE. They wait in restoredServices() until the app hands a handler back
   * (advertise) or lets them go (unadvertise); they are not saved again meanwhile, so one
   * the app no longer offers does not come back at every reload.
   */
  async restore(): Promise<SavedService[]> {
    let saved: SavedService[] = [];
    try {
      saved = this.persistence ? await this.persistence.restore() : [];
    } catch {
      // Storage unavailable (blocked, quota, corrupt): the peer runs from memory.
      this.node.count('persistence.restoreFailed');
    }
    for (const s of saved) this.restored.set(s.serviceId, s);
    if (saved.length > 0) this.persistence?.saveServices(this.localAdvertisements());
    return saved;
  }

  /** Services the earlier session advertised that this one has not advertised or unadvertised yet (see restore). */
  restoredServices(): SavedService[] {
    return [...this.restored.values()];
  }

  /** Join the overlay once the first channel is open: look ourselves up and refresh the buckets. */
  join(): Promise<void> {
    if (this.bootstrapping === undefined) {
      this.bootstrapping = this.node
        .bootstrap()
        .then(
          () => {
            this.bootstrapped = true;
            // Advertisements made while alone now have somewhere to go.
            for (const ad of this.advertised.values()) void this.storeRecord(ad).catch(() => undefined);
          },
          () => undefined,
        )
        .finally(() => {
          this.bootstrapping = undefined;
        });
    }
    return this.bootstrapping;
  }

  get isJoined(): boolean {
    return this.bootstrapped;
  }

  /**
   * Advertise a service: registered locally, stored at the k closest nodes, and
   * re-advertised every max(10, ttl - 60) s until unadvertised.
   */
  async advertise(serviceId: string, opts: AdvertiseOptions = {}): Promise<void> {
    checkServiceId(serviceId);
    // Everything is checked before anything changes: a refused advertise leaves the service,
    // its timer and what is persisted as they were.
    checkAdvertisedTtl(opts.ttl ?? this.registry.defaultTtl);
    checkMetadata(opts.metadata ?? {});
    this.restored.delete(serviceId);
    this.registry.advertiseLocal(serviceId, this.forwardToApp(serviceId), opts.metadata ?? {});
    try {
      await this.keepAdvertised(serviceId, 'provider', opts);
    } finally {
      this.persistence?.saveServices(this.localAdvertisements());
    }
  }

  async unadvertise(serviceId: string): Promise<void> {
    checkServiceId(serviceId);
    this.registry.unadvertiseLocal(serviceId);
    this.persistence?.saveServices(this.localAdvertisements().filter((s) => s.serviceId !== serviceId));
    const wasRestored = this.restored.delete(serviceId);
    if (this.advertised.has(`provider:${serviceId}`)) await this.stopAdvertising(serviceId, 'provider');
    // A restored service's record of the earlier session may still be out there until its TTL: take it back.
    else if (wasRestored) await removeFromDht(this.node, serviceId, this.node.selfHex, { kind: 'provider' });
  }

  listLocalServices(): string[] {
    return this.registry.listLocalServices();
  }

  localAdvertisements(): SavedService[] {
    return [...this.advertised.values()]
      .filter((a) => a.kind === 'provider')
      .map(({ name, metadata, ttl }) => ({ serviceId: name, metadata, ttl }));
  }

  /**
   * Providers of `serviceId`: from the discovery cache, else a DHT lookup whose answer is
   * cached. `watch`: told of the lookup's first paths (the page may settle it: FindWatch).
   */
  async discover(serviceId: string, opts: { forceRefresh?: boolean } = {}, watch?: FindWatch): Promise<ProviderInfo[]> {
    checkServiceId(serviceId);
    const cached = this.registry.discoverService(serviceId, opts);
    if (cached.ok) {
      this.cacheHits++;
      this.copied(serviceId, cached.providers);
      return cached.providers;
    }
    this.cacheMisses++;
    const providers = await queryDhtForService(this.node, serviceId, this.node.k, 'provider', watch);
    this.registry.cacheService(serviceId, providers);
    this.copied(serviceId, providers);
    return providers;
  }

  /** The page's copy of what the cache serves for `serviceId` (ProviderCopy). */
  private copied(serviceId: string, providers: readonly ProviderInfo[]): void {
    const until = this.copy === undefined ? undefined : this.registry.cachedUntil(serviceId);
    if (until !== undefined)
      this.copy!.cached(
        serviceId,
        providers.map((p) => p.nodeId),
        until,
      );
  }

  /**
   * `watch`: told of each CALL sent, by whoever settles the app's call from its REPLY sooner
   * (the page); `lead`: the first provider, drawn by the page, its CALL perhaps sent (rpc.ts).
   */
  call(serviceId: string, args: unknown, opts: CallOptions = {}, watch?: CallWatch, lead?: CallLead): Promise<unknown> {
    return this.rpc.call(serviceId, args, opts, watch, lead);
  }

  /** As call(), with which provider answered and after how many attempts. */
  callDetailed(
    serviceId: string,
    args: unknown,
    opts: CallOptions = {},
    watch?: CallWatch,
    lead?: CallLead,
  ): Promise<CallOutcome> {
    return this.rpc.callDetailed(serviceId, args, opts, watch, lead);
  }

  /** `sent`: the page sent its CALL already (rpc.ts, sentByPage). */
  callTo(
    nodeId: string,
    serviceId: string,
    args: unknown,
    opts: { timeoutMs?: number } = {},
    watch?: CallWatch,
    sent?: SentCall,
  ): Promise<unknown> {
    return this.rpc.callTo(nodeId, serviceId, args, opts, watch, sent);
  }

  subscribe(pattern: string): Promise<number> {
    return this.pubsub.subscribe(pattern);
  }

  unsubscribe(subscriptionId: number): Promise<void> {
    return this.pubsub.unsubscribe(subscriptionId);
  }

  /** `watch`: told of each PUBLISH sent, by whoever counts the acknowledgements sooner (the page). */
  publish(topic: string, payload: unknown, watch?: PublishWatch): Promise<number> {
    return this.pubsub.publish(topic, payload, undefined, watch);
  }

  discoverSubscribers(topic: string, opts: { forceRefresh?: boolean } = {}): Promise<ProviderInfo[]> {
    return this.pubsub.discoverSubscribers(topic, opts);
  }

  /** Periodic work: the node's maintenance, cache pruning and batched persistence. */
  tick(): void {
    this.node.tick();
    this.registry.pruneExpired();
    this.registry.pruneExpiredSubscribers();
    void this.persistence?.flush(this.clock.now());
  }

  peers(): ChannelPeer[] {
    return [...this.node.neighbours.values()].map((n) => ({
      nodeId: n.idHex,
      ...(n.rttMs !== undefined ? { rttMs: n.rttMs } : {}),
      ...(n.kind !== undefined ? { kind: n.kind } : {}),
    }));
  }

  /** The routing table, bucket by bucket, for display: the contacts in use (lost ones are only redial candidates). */
  routingTable(): RoutingTableView {
    const view: RoutingTableView = [];
    for (const bucket of this.node.table.nonEmptyBuckets()) {
      const contacts = this.node.table.bucket(bucket).filter((c) => c.lost !== true);
      if (contacts.length === 0) continue;
      view.push({
        bucket,
        contacts: contacts.map((c) => {
          const kind = this.node.neighbours.get(c.idHex)?.kind;
          return {
            nodeId: c.idHex,
            lastSeen: c.lastSeen,
            open: this.node.neighbours.has(c.idHex),
            ...(c.rttMs !== undefined ? { rttMs: c.rttMs } : {}),
            ...(kind !== undefined ? { kind } : {}),
          };
        }),
      });
    }
    return view;
  }

  stats(): Record<string, number> {
    return {
      ...this.node.stats(),
      'discovery.cacheHits': this.cacheHits,
      'discovery.cacheMisses': this.cacheMisses,
      'services.local': this.registry.listLocalServices().length,
      'subscriptions.patterns': this.pubsub.localPatterns.length,
      ...(this.persistence ? this.persistence.stats() : Persistence.idleStats),
    };
  }

  /**
   * Leave the mesh. Gracefully (`graceMs` > 0, with channels open): this peer's records
   * (services and subscriptions) are taken out of the DHT with signed removals sent straight
   * to the nodes holding copies, and every neighbour is told it is leaving (LEAVE), so
   * discovery stops returning it and calls stop being sent to it. All of that gets at most
   * `graceMs`; whatever has not arrived by then is left to the records' TTL, as after a tab
   * closed abruptly. What the app advertised stays saved for the next session
   * (restoredServices).
   */
  async close(graceMs = LEAVE_GRACE_MS): Promise<void> {
    const ads = [...this.advertised.values()];
    for (const ad of ads) ad.cancel();
    await leaveMesh(
      this.node,
      ads.map((ad) => ({ name: ad.name, placement: placement(ad) })),
      graceMs,
    );
    await this.persistence?.flush(this.clock.now(), true);
    this.node.close();
  }

  private async keepAdvertised(name: string, kind: RecordKind, opts: AdvertiseOptions): Promise<void> {
    const ttl = checkAdvertisedTtl(opts.ttl ?? this.registry.defaultTtl);
    // Checked before the advertisement is kept and rescheduled: INVALID_ARGUMENT naming the rule, or TOO_LARGE.
    const metadata = checkMetadata(opts.metadata ?? {});
    const id = `${kind}:${name}`;
    this.advertised.get(id)?.cancel();
    const ad: Advertised = { name, kind, metadata, ttl, cancel: () => undefined };
    this.advertised.set(id, ad);
    this.schedule(id, ad);
    await this.storeRecord(ad);
  }

  private async stopAdvertising(name: string, kind: RecordKind): Promise<void> {
    const id = `${kind}:${name}`;
    const ad = this.advertised.get(id);
    if (ad === undefined) return;
    ad.cancel();
    this.advertised.delete(id);
    await removeFromDht(this.node, name, this.node.selfHex, placement(ad));
  }

  /** Alone, the node is the closest node it knows and keeps the record itself; join() publishes again. */
  /**
   * One publish of an advertisement at a time: each signs a new version, and one signed later
   * that lands first (a join's re-publish racing the app's advertise on a busy machine) would
   * get the earlier one refused as STALE by every storing node, failing an advertise whose
   * newer version is in place. So each publish waits for the one before it.
   */
  private storeRecord(ad: Advertised): Promise<void> {
    const run = (ad.publishing ?? Promise.resolve()).then(async () => {
      await publishToDht(this.node, ad.name, { metadata: ad.metadata }, ad.ttl, this.node.k, placement(ad));
    });
    ad.publishing = run.catch(() => undefined);
    return run;
  }

  private schedule(id: string, ad: Advertised): void {
    const every = readvertiseIntervalS(ad.ttl) * 1000;
    const again = (): void => {
      if (this.advertised.get(id) !== ad || this.node.isClosed) return;
      if (ad.kind === 'provider') this.registry.advertiseLocal(ad.name, this.forwardToApp(ad.name), ad.metadata);
      void this.storeRecord(ad).catch(() => this.node.count('advertise.republishFailed'));
      ad.cancel = this.clock.setTimer(every, again);
    };
    ad.cancel = this.clock.setTimer(every, again);
  }

  /** The registry's handler for a local service: the app's, wherever it runs (see PeerCoreOptions.handlers). */
  private forwardToApp(serviceId: string): ServiceHandler {
    return (args) => this.handlers.invoke(serviceId, args, this.node.selfHex);
  }
}

const placement = (ad: Advertised): { kind: RecordKind; key?: Uint8Array } =>
  ad.kind === 'subscriber' ? { kind: 'subscriber', key: subscriptionKey(ad.name) } : { kind: 'provider' };

/**
 * The TTL of an advertisement this peer keeps alive. It is re-published every
 * max(10, ttl - 60) s (readvertiseIntervalS), so a record shorter-lived than 10 s would be
 * gone from the DHT for most of each interval: such a TTL is refused, not half-honoured.
 */
export const MIN_ADVERTISED_TTL_S = readvertiseIntervalS(0);

function checkAdvertisedTtl(ttl: unknown): number {
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < MIN_ADVERTISED_TTL_S || ttl > 86_400) {
    throw invalidArgument(
      'ttl',
      `an integer number of seconds in [${MIN_ADVERTISED_TTL_S}, 86400] (it is re-advertised every max(10, ttl - 60) s)`,
      ttl,
    );
  }
  return ttl;
}
