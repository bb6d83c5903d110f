import { CACHE_TTL_S, DEFAULT_TTL_S, MAX_CLOCK_SKEW_MS, SERVICE_TTL_S } from '../constants.js';
import type { Clock } from '../environment.js';
import { invalidArgument } from '../errors.js';
import { checkMetadata, type ProviderInfo } from '../records/records.js';

/**
 * The counterpart of macula_service_registry: local services with their handlers, and
 * the discovery caches for providers and subscribers in front of the DHT. Times are in
 * seconds as in macula; the clock is injected. The DHT-facing functions (publishToDht,
 * queryDhtForService, removeFromDht) live in dht-registry.ts.
 */

export type ServiceHandler = (args: unknown) => unknown | Promise<unknown>;

export type { ProviderInfo } from '../records/records.js';

export interface LocalService {
  serviceId: string;
  handler: ServiceHandler;
  metadata: Record<string, unknown>;
  advertisedAt: number;
}

interface CacheEntry {
  providers: ProviderInfo[];
  cachedAt: number;
  ttl: number;
}

export interface RegistryOptions {
  /** TTL of advertisements stored in the DHT (s). */
  defaultTtl?: number;
  /** How long discovered providers are served from the cache (s). */
  cacheTtl?: number;
  /** How long a local service lives without being re-advertised (s). */
  serviceTtl?: number;
}

export type Discovery = { ok: true; providers: ProviderInfo[] } | { ok: false; cacheMiss: true };

export class ServiceRegistry {
  readonly defaultTtl: number;
  readonly cacheTtl: number;
  readonly serviceTtl: number;
  private readonly localServices = new Map<string, LocalService>();
  private readonly cache = new Map<string, CacheEntry>();
  private readonly subscriberCache = new Map<string, CacheEntry>();

  /** macula's new/0 and new/1. */
  constructor(
    private readonly clock: Clock,
    opts: RegistryOptions = {},
  ) {
    this.defaultTtl = positiveSeconds('defaultTtl', opts.defaultTtl ?? DEFAULT_TTL_S);
    this.cacheTtl = positiveSeconds('cacheTtl', opts.cacheTtl ?? CACHE_TTL_S);
    this.serviceTtl = positiveSeconds('serviceTtl', opts.serviceTtl ?? SERVICE_TTL_S);
  }

  /**
   * Register (or refresh) a handler for calls to `serviceId`. The metadata is checked here,
   * before anything is registered, by the rule every record's metadata follows
   * (records/metadata.ts): INVALID_ARGUMENT naming it, or TOO_LARGE.
   */
  advertiseLocal(serviceId: string, handler: ServiceHandler, metadata: Record<string, unknown> = {}): LocalService {
    checkServiceId(serviceId);
    if (typeof handler !== 'function') throw invalidArgument('handler', 'a function', handler);
    const service = { serviceId, handler, metadata: checkMetadata(metadata), advertisedAt: this.clock.now() };
    this.localServices.set(serviceId, service);
    return service;
  }

  unadvertiseLocal(serviceId: string): void {
    this.localServices.delete(serviceId);
  }

  /** macula returns {ok, Handler} | not_found; undefined is "not found" here. */
  getLocalHandler(serviceId: string): ServiceHandler | undefined {
    return this.localServices.get(serviceId)?.handler;
  }

  getLocalService(serviceId: string): LocalService | undefined {
    return this.localServices.get(serviceId);
  }

  listLocalServices(): string[] {
    return [...this.localServices.keys()];
  }

  cacheService(serviceId: string, providers: ProviderInfo[], ttl: number = this.cacheTtl): void {
    this.cache.set(serviceId, { providers: [...providers], cachedAt: this.clock.now(), ttl });
  }

  /**
   * Until when (ms, this clock) the cached answer for `serviceId` hands out the same providers:
   * the entry's expiry or the first of its providers', whichever comes first (lookupCache's
   * rules); undefined when nothing is cached. The page's copy of the answer (main/page-calls.ts)
   * is used only until then.
   */
  cachedUntil(serviceId: string): number | undefined {
    return this.servedUntil(this.cache.get(serviceId));
  }

  /** As cachedUntil, for the subscribers cached for `topic` (the page's copy: main/page-publishes.ts). */
  subscribersCachedUntil(topic: string): number | undefined {
    return this.servedUntil(this.subscriberCache.get(topic));
  }

  private servedUntil(entry: CacheEntry | undefined): number | undefined {
    if (entry === undefined) return undefined;
    const now = this.clock.now();
    let until = entry.cachedAt + entry.ttl * 1000;
    for (const p of entry.providers) {
      const expires = Math.min(entry.cachedAt + p.ttl * 1000, p.advertisedAt + p.ttl * 1000 + MAX_CLOCK_SKEW_MS);
      // One that ran out is no longer handed out, and does not come back: the rest stay as they are.
      if (expires > now) until = Math.min(until, expires);
    }
    return until;
  }

  /** Drop one provider from the cached answer for `serviceId` (it failed a call); the entry keeps its age. */
  forgetProvider(serviceId: string, nodeId: string): void {
    const entry = this.cache.get(serviceId);
    if (entry !== undefined) entry.providers = entry.providers.filter((p) => p.nodeId !== nodeId);
  }

  /** Drop a node from every cached answer, providers and subscribers (it said it is leaving). */
  forgetNode(nodeId: string): void {
    for (const cache of [this.cache, this.subscriberCache])
      for (const entry of cache.values()) entry.providers = entry.providers.filter((p) => p.nodeId !== nodeId);
  }

  cacheSubscribers(topic: string, subscribers: ProviderInfo[], ttl: number = this.cacheTtl): void {
    this.subscriberCache.set(topic, { providers: [...subscribers], cachedAt: this.clock.now(), ttl });
  }

  /** Cache first; a miss (or `forceRefresh`) tells the caller to query the DHT. */
  discoverService(serviceId: string, opts: { forceRefresh?: boolean } = {}): Discovery {
    return this.lookupCache(this.cache, serviceId, opts.forceRefresh === true);
  }

  discoverSubscribers(topic: string, opts: { forceRefresh?: boolean } = {}): Discovery {
    return this.lookupCache(this.subscriberCache, topic, opts.forceRefresh === true);
  }

  clearCache(): void {
    this.cache.clear();
  }

  clearSubscriberCache(): void {
    this.subscriberCache.clear();
  }

  /** Drop expired provider cache entries; returns how many. */
  pruneExpired(): number {
    return this.pruneCache(this.cache);
  }

  pruneExpiredSubscribers(): number {
    return this.pruneCache(this.subscriberCache);
  }

  /** Drop local services not re-advertised within serviceTtl; returns how many. */
  pruneExpiredLocalServices(): number {
    const now = this.clock.now();
    let removed = 0;
    for (const [id, service] of this.localServices) {
      if (now - service.advertisedAt > this.serviceTtl * 1000) {
        this.localServices.delete(id);
        removed++;
      }
    }
    return removed;
  }

  private lookupCache(cache: Map<string, CacheEntry>, name: string, forceRefresh: boolean): Discovery {
    const entry = cache.get(name);
    if (forceRefresh || entry === undefined || this.isExpired(entry)) return { ok: false, cacheMiss: true };
    const now = this.clock.now();
    // A provider whose advertisement ran out while cached is not handed out. Its TTL runs on
    // this node's clock from when it was cached; its signed date is only held to the skew
    // every record check allows (the owner's clock may be ahead of or behind ours).
    const providers = entry.providers.filter(
      (p) => now - entry.cachedAt < p.ttl * 1000 && p.advertisedAt + p.ttl * 1000 + MAX_CLOCK_SKEW_MS > now,
    );
    return { ok: true, providers };
  }

  private pruneCache(cache: Map<string, CacheEntry>): number {
    let removed = 0;
    for (const [name, entry] of cache) {
      if (this.isExpired(entry)) {
        cache.delete(name);
        removed++;
      }
    }
    return removed;
  }

  private isExpired(entry: CacheEntry): boolean {
    return this.clock.now() - entry.cachedAt >= entry.ttl * 1000;
  }
}

export function checkServiceId(serviceId: unknown): asserts serviceId is string {
  if (typeof serviceId !== 'string' || serviceId.length === 0 || serviceId.length > 256) {
    throw invalidArgument('serviceId', 'a non-empty string of at most 256 characters', serviceId);
  }
}

function positiveSeconds(name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    throw invalidArgument(name, 'a positive number of seconds', v);
  return v;
}
