import { readvertiseIntervalS } from '../core/constants.js';
import type { DhtNode } from '../core/node/dht-node.js';
import { publishToDht, queryDhtForService, removeFromDht } from '../core/registry/dht-registry.js';
import { toHex } from '../core/id.js';
import type { ProviderInfo } from '../core/registry/service-registry.js';
import type { Swarm } from './swarm.js';

/**
 * The ground truth a nemesis run is judged against: every advertisement that was really
 * signed by its owner (with the owner's own, possibly skewed, clock), when its publish
 * finished, and which were removed. A discovery's answer is then checked record by
 * record: one that matches no signed advertisement is forged; one served after its
 * advertisement ran out is expired. A removed record served afterwards is counted, not
 * a violation: a removal reaches the k closest nodes, and a replica elsewhere may serve
 * it until its TTL (which the expiry check holds it to).
 *
 * All times here are true (virtual) time, never a node's skewed clock.
 */
export interface Version {
  owner: string;
  service: string;
  /** As signed: the owner's clock. */
  advertisedAt: number;
  ttl: number;
  metadata: Record<string, unknown>;
  /** True time the publish (lookup and STOREs) settled; undefined while it runs. */
  doneAt?: number;
}

export interface Violation {
  kind: 'forged' | 'expired';
  service: string;
  owner: string;
  /** True time the discovery that served it started. */
  at: number;
  /** For expired records: how long after its allowed end it was served, ms. */
  overshootMs?: number;
}

export interface LedgerOptions {
  /**
   * How long a frame can be held by the network (latency, injected delay, a paused
   * receiver's backlog): a STORE that arrives this late still gives its record a full TTL
   * from its arrival, so service may end this much after publish + TTL.
   */
  graceMs: number;
}

/** Every frame on a link is delivered within this in a healthy simulated network (network.ts default maximum). */
export const HEALTHY_LINK_MS = 60;

/** Whether `node` would serve `owner`'s provider record at `key` (by its own clock). */
export const holds = (node: DhtNode, key: Uint8Array, owner: DhtNode): boolean =>
  node.records.get(key, 'provider', node.clock.now()).some((r) => toHex(r.nodeId) === owner.selfHex);

export class Ledger {
  private readonly versions = new Map<string, Version[]>();
  /** `${owner}:${advertisedAt}` → version, to judge records found in a node's store. */
  private readonly byStamp = new Map<string, Version>();
  /** service → owner → true time its removal settled. */
  private readonly removals = new Map<string, Map<string, number>>();
  private readonly stops = new Map<string, () => void>();
  readonly violations: Violation[] = [];
  discoveries = 0;
  recordsServed = 0;
  /** Records served by a discovery that started after their owner's removal settled. */
  servedAfterRemoval = 0;
  /** The latest any record was served after publish + TTL (ms; negative: always before). */
  maxServedAfterTtlMs = -Infinity;

  constructor(
    private readonly swarm: Swarm,
    private readonly opts: LedgerOptions,
  ) {}

  get graceMs(): number {
    return this.opts.graceMs;
  }

  /** Sign and store an advertisement now, noting what was signed. */
  async publish(owner: DhtNode, service: string, ttl: number, metadata: Record<string, unknown> = {}): Promise<void> {
    // publishToDht signs synchronously with the owner's clock before its first await.
    const version: Version = { owner: owner.selfHex, service, advertisedAt: owner.clock.now(), ttl, metadata };
    const list = this.versions.get(service) ?? [];
    list.push(version);
    this.versions.set(service, list);
    this.byStamp.set(`${version.owner}:${version.advertisedAt}`, version);
    try {
      await publishToDht(owner, service, { metadata }, ttl);
    } catch {
      // Nobody accepted it (a partition, a paused neighbourhood): the re-advertisement will.
    } finally {
      version.doneAt = this.swarm.now;
    }
  }

  /**
   * Advertise and re-advertise every max(10, ttl − 60) s on the owner's own clock (so a
   * paused owner is late, as PeerCore would be), until stop() or the owner is gone.
   */
  keepAdvertised(owner: DhtNode, service: string, ttl: number, metadata: Record<string, unknown> = {}): void {
    const clock = this.swarm.clockOf(owner);
    let cancel = (): void => undefined;
    const again = (): void => {
      if (owner.isClosed || !this.swarm.network.isAlive(owner.selfHex)) return;
      void this.publish(owner, service, ttl, metadata);
      cancel = clock.setTimer(readvertiseIntervalS(ttl) * 1000, again);
    };
    again();
    this.stops.set(`${owner.selfHex}:${service}`, () => cancel());
  }

  /** Whether a publish of `owner`'s `service` has settled (it can be looked for). */
  published(owner: DhtNode, service: string): boolean {
    return this.versions.get(service)?.some((v) => v.owner === owner.selfHex && v.doneAt !== undefined) ?? false;
  }

  stop(owner: DhtNode, service: string): void {
    this.stops.get(`${owner.selfHex}:${service}`)?.();
  }

  /** The owner stops advertising and removes its record (a signed removal). */
  async remove(owner: DhtNode, service: string): Promise<void> {
    this.stop(owner, service);
    await removeFromDht(owner, service).catch(() => undefined);
    let byOwner = this.removals.get(service);
    if (byOwner === undefined) this.removals.set(service, (byOwner = new Map()));
    byOwner.set(owner.selfHex, this.swarm.now);
  }

  /** A discovery through the DHT from `from`, judged against the ground truth. */
  async discover(from: DhtNode, service: string): Promise<ProviderInfo[]> {
    const startedAt = this.swarm.now;
    const providers = await queryDhtForService(from, service);
    this.judge(service, providers, startedAt);
    return providers;
  }

  /**
   * A record found live in some node's store at true time `now`: how long past its
   * publish + TTL is it (ms), or undefined when no signed advertisement matches (forged).
   */
  heldPastTtl(ownerHex: string, advertisedAt: number, now: number): number | undefined {
    const version = this.byStamp.get(`${ownerHex}:${advertisedAt}`);
    if (version === undefined) return undefined;
    return version.doneAt === undefined ? -Infinity : now - (version.doneAt + version.ttl * 1000);
  }

  judge(service: string, providers: ProviderInfo[], startedAt: number): void {
    this.discoveries++;
    for (const p of providers) {
      this.recordsServed++;
      const version = this.versions.get(service)?.find((v) => v.owner === p.nodeId && sameAdvertisement(v, p));
      if (version === undefined) {
        this.violations.push({ kind: 'forged', service, owner: p.nodeId, at: startedAt });
        continue;
      }
      const removedAt = this.removals.get(service)?.get(p.nodeId);
      if (
        removedAt !== undefined &&
        startedAt > removedAt &&
        version.doneAt !== undefined &&
        version.doneAt <= removedAt
      ) {
        this.servedAfterRemoval++;
      }
      if (version.doneAt === undefined) continue;
      const afterTtl = startedAt - (version.doneAt + version.ttl * 1000);
      this.maxServedAfterTtlMs = Math.max(this.maxServedAfterTtlMs, afterTtl);
      if (afterTtl > this.opts.graceMs)
        this.violations.push({ kind: 'expired', service, owner: p.nodeId, at: startedAt, overshootMs: afterTtl });
    }
  }
}

const sameAdvertisement = (v: Version, p: ProviderInfo): boolean =>
  v.advertisedAt === p.advertisedAt &&
  v.ttl === p.ttl &&
  p.endpoint === `peer:${v.owner}` &&
  canonical(v.metadata) === canonical(p.metadata);

/** Flat metadata as text independent of key order (records carry it with sorted keys). */
const canonical = (m: Record<string, unknown>): string =>
  JSON.stringify(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : 1)));
