import { readvertiseIntervalS } from '../core/constants.js';
import { DhtNode, type DhtNodeOptions } from '../core/dht-node.js';
import { publishToDht, queryDhtForService, removeFromDht } from '../core/dht-registry.js';
import type { Clock, Random, Store, Transport } from '../core/environment.js';
import { ErrorCode, invalidArgument, MeshError } from '../core/errors.js';
import type { Identity, Verifier } from '../core/identity.js';
import { checkServiceId, ServiceRegistry, type ProviderInfo } from '../core/service-registry.js';
import { Persistence } from './persistence.js';

/**
 * What runs in the worker: the DHT node, the service registry with its caches, the
 * re-advertisement timers and persistence. Still free of browser APIs (transport, clock,
 * store and randomness are given), so the same class runs in Node tests on the
 * simulated network.
 */
export interface PeerCoreOptions {
  identity: Identity;
  transport: Transport;
  clock: Clock;
  random: Random;
  store?: Store;
  verify?: Verifier;
  defaultTtl?: number;
  cacheTtl?: number;
  serviceTtl?: number;
  k?: number;
  alpha?: number;
  node?: Partial<Omit<DhtNodeOptions, 'identity' | 'transport' | 'clock' | 'random'>>;
}

export interface AdvertiseOptions {
  metadata?: Record<string, unknown>;
  ttl?: number;
}

interface Advertised {
  serviceId: string;
  metadata: Record<string, unknown>;
  ttl: number;
  cancel: () => void;
}

export class PeerCore {
  readonly node: DhtNode;
  readonly registry: ServiceRegistry;
  readonly persistence: Persistence | undefined;
  private readonly advertised = new Map<string, Advertised>();
  private readonly clock: Clock;
  private bootstrapped = false;
  private bootstrapping: Promise<void> | undefined;
  private cacheHits = 0;
  private cacheMisses = 0;

  constructor(private readonly opts: PeerCoreOptions) {
    this.clock = opts.clock;
    this.node = new DhtNode({
      ...opts.node, identity: opts.identity, transport: opts.transport, clock: opts.clock, random: opts.random,
      ...(opts.verify ? { verify: opts.verify } : {}), ...(opts.k ? { k: opts.k } : {}), ...(opts.alpha ? { alpha: opts.alpha } : {}),
    });
    this.registry = new ServiceRegistry(opts.clock, {
      ...(opts.defaultTtl ? { defaultTtl: opts.defaultTtl } : {}),
      ...(opts.cacheTtl ? { cacheTtl: opts.cacheTtl } : {}),
      ...(opts.serviceTtl ? { serviceTtl: opts.serviceTtl } : {}),
    });
    this.persistence = opts.store ? new Persistence(this.node, opts.store) : undefined;
    this.node.on((e) => {
      if (e.type === 'neighbour:open' && !this.bootstrapped) void this.join();
    });
  }

  /** Restore what an earlier session of this tab persisted; returns the advertisements to re-register. */
  async restore(): Promise<Array<{ serviceId: string; metadata: Record<string, unknown>; ttl: number }>> {
    const saved = this.persistence ? await this.persistence.restore() : [];
    // The advertisement outlives a reload; calls wait for the app to register its handler again.
    for (const s of saved) await this.advertise(s.serviceId, { metadata: s.metadata, ttl: s.ttl }).catch(() => undefined);
    return saved;
  }

  /** Join the overlay once the first channel is open: look ourselves up and refresh the buckets. */
  join(): Promise<void> {
    if (this.bootstrapping === undefined) {
      this.bootstrapping = this.node.bootstrap().then(
        () => {
          this.bootstrapped = true;
          // Advertisements made while alone now have somewhere to go.
          for (const ad of this.advertised.values()) void this.publish(ad).catch(() => undefined);
        },
        () => undefined,
      ).finally(() => {
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
  async advertise(serviceId: string, opts: AdvertiseOptions = {}, handler: (args: unknown) => unknown = noLocalHandler): Promise<void> {
    checkServiceId(serviceId);
    const ttl = opts.ttl ?? this.registry.defaultTtl;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 86_400) throw invalidArgument('ttl', 'an integer number of seconds in [1, 86400]', ttl);
    const metadata = opts.metadata ?? {};
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw invalidArgument('metadata', 'a plain object', metadata);
    this.advertised.get(serviceId)?.cancel();
    this.registry.advertiseLocal(serviceId, handler, metadata);
    const ad: Advertised = { serviceId, metadata, ttl, cancel: () => undefined };
    this.advertised.set(serviceId, ad);
    this.schedule(ad);
    this.persistence?.saveServices(this.localAdvertisements());
    await this.publish(ad);
  }

  async unadvertise(serviceId: string): Promise<void> {
    checkServiceId(serviceId);
    const ad = this.advertised.get(serviceId);
    ad?.cancel();
    this.advertised.delete(serviceId);
    this.registry.unadvertiseLocal(serviceId);
    this.persistence?.saveServices(this.localAdvertisements());
    if (ad !== undefined) await removeFromDht(this.node, serviceId);
  }

  listLocalServices(): string[] {
    return this.registry.listLocalServices();
  }

  localAdvertisements(): Array<{ serviceId: string; metadata: Record<string, unknown>; ttl: number }> {
    return [...this.advertised.values()].map(({ serviceId, metadata, ttl }) => ({ serviceId, metadata, ttl }));
  }

  /** Providers of `serviceId`: from the discovery cache, else a DHT lookup whose answer is cached. */
  async discover(serviceId: string, opts: { forceRefresh?: boolean } = {}): Promise<ProviderInfo[]> {
    checkServiceId(serviceId);
    const cached = this.registry.discoverService(serviceId, opts);
    if (cached.ok) {
      this.cacheHits++;
      return cached.providers;
    }
    this.cacheMisses++;
    const providers = await queryDhtForService(this.node, serviceId);
    this.registry.cacheService(serviceId, providers);
    return providers;
  }

  /** Periodic work: the node's maintenance, cache pruning and batched persistence. */
  tick(): void {
    this.node.tick();
    this.registry.pruneExpired();
    this.registry.pruneExpiredSubscribers();
    void this.persistence?.flush(this.clock.now());
  }

  peers(): Array<{ nodeId: string; rttMs?: number }> {
    return [...this.node.neighbours.values()].map((n) => (n.rttMs === undefined ? { nodeId: n.idHex } : { nodeId: n.idHex, rttMs: n.rttMs }));
  }

  stats(): Record<string, number> {
    return {
      ...this.node.stats(),
      'discovery.cacheHits': this.cacheHits,
      'discovery.cacheMisses': this.cacheMisses,
      'services.local': this.advertised.size,
      ...(this.persistence ? this.persistence.stats() : {}),
    };
  }

  async close(): Promise<void> {
    for (const ad of this.advertised.values()) ad.cancel();
    await this.persistence?.flush(this.clock.now(), true);
    this.node.close();
  }

  /** Alone, the node is the closest node it knows and keeps the record itself; join() publishes again. */
  private async publish(ad: Advertised): Promise<void> {
    await publishToDht(this.node, ad.serviceId, { metadata: ad.metadata }, ad.ttl, this.node.k);
  }

  private schedule(ad: Advertised): void {
    const every = readvertiseIntervalS(ad.ttl) * 1000;
    const again = (): void => {
      if (this.advertised.get(ad.serviceId) !== ad || this.node.isClosed) return;
      this.registry.advertiseLocal(ad.serviceId, this.registry.getLocalHandler(ad.serviceId) ?? noLocalHandler, ad.metadata);
      void this.publish(ad).catch(() => this.node.count('advertise.republishFailed'));
      ad.cancel = this.clock.setTimer(every, again);
    };
    ad.cancel = this.clock.setTimer(every, again);
  }
}

const noLocalHandler = (): never => {
  throw new MeshError(ErrorCode.HANDLER_ERROR, 'this service has no handler in this context');
};
