import type { DhtNode } from '../core/node/dht-node.js';
import { toHex } from '../core/id.js';
import { Ledger } from './ledger.js';
import type { Swarm } from './swarm.js';
import { exponential, Weibull } from './weibull.js';

/**
 * Continuous churn on a built swarm, and what it does to the registry. Every node lives
 * for a Weibull session (the ones present at the start for a residual one, so the swarm
 * is in its steady state from the first second); new nodes arrive as a Poisson process of
 * rate N / mean session, which keeps N steady. A share of the nodes advertise a service
 * of their own, re-advertised until they leave. Meanwhile lookups arrive as a Poisson
 * process: most for a live provider (success = its record is found), some for a provider
 * that left (to catch its record being served too long). A sweep of every node's store
 * shows what any lookup could have been served.
 */
export interface ChurnOptions {
  /** Steady number of nodes (the swarm should already hold about this many). */
  nodes: number;
  session: Weibull;
  /** Share of nodes that advertise a service. */
  providerShare: number;
  ttlS: number;
  lookupsPerSecond: number;
  /** Share of lookups aimed at providers that left within the last two TTLs. */
  departedLookupShare: number;
}

export interface ChurnFigures {
  joins: number;
  departures: number;
  lookups: number;
  found: number;
  /** Lookups not counted: their origin or their provider left while they ran. */
  abandoned: number;
  failures: Array<{ at: number; service: string; from: string }>;
  departedLookups: number;
  /** Latest any lookup was served a record after its owner left, ms (−Infinity: never). */
  maxServedAfterLeaveMs: number;
  /** Latest any node held a live record after its owner left, by the sweeps, ms. */
  maxHeldAfterLeaveMs: number;
  /** Latest any node held a live record past its publish + TTL, by the sweeps, ms (negative: never). */
  maxHeldPastTtlMs: number;
  /** Records found in a store that no owner signed. */
  heldForged: number;
  sweeps: number;
  liveMin: number;
  liveMax: number;
}

/** Everything on the wire during the window, per live node (the mean over the sweeps). */
export interface TrafficFigures {
  seconds: number;
  meanLiveNodes: number;
  bytesPerNodePerS: number;
  framesPerNodePerS: number;
  connectionsPerNodePerHour: number;
  /** Bytes per node per second by frame type, largest first. */
  bytesByType: Array<[string, number]>;
}

interface Provider {
  node: DhtNode;
  service: string;
  leftAt?: number;
}

export class Churn {
  readonly ledger: Ledger;
  readonly figures: ChurnFigures = {
    joins: 0,
    departures: 0,
    lookups: 0,
    found: 0,
    abandoned: 0,
    failures: [],
    departedLookups: 0,
    maxServedAfterLeaveMs: -Infinity,
    maxHeldAfterLeaveMs: -Infinity,
    maxHeldPastTtlMs: -Infinity,
    heldForged: 0,
    sweeps: 0,
    liveMin: Infinity,
    liveMax: 0,
  };
  private readonly providers = new Map<string, Provider>();
  private readonly liveProviders: Provider[] = [];
  private readonly departed: Provider[] = [];
  private readonly running = new Set<DhtNode>();
  private serial = 0;
  private stopped = false;
  /** Lookups off: what is left on the wire is the cost of churn itself (maintenance). */
  lookupsOn = true;

  constructor(
    private readonly swarm: Swarm,
    private readonly opts: ChurnOptions,
  ) {
    // Nothing here delays frames beyond a healthy link's latency.
    this.ledger = new Ledger(swarm, { graceMs: 60 });
  }

  get liveNodes(): number {
    return this.running.size;
  }

  /** Give the present nodes their residual sessions and start arrivals and lookups. */
  start(): void {
    const { swarm, opts } = this;
    for (const node of swarm.alive()) {
      this.running.add(node);
      this.scheduleDeparture(node, opts.session.residual(swarm.random));
      if (swarm.random.next() < opts.providerShare) this.provide(node);
    }
    const arrivalMeanMs = opts.session.meanMs / opts.nodes;
    const arrive = (): void => {
      if (this.stopped) return;
      this.arrive();
      swarm.queue.setTimer(exponential(swarm.random) * arrivalMeanMs, arrive);
    };
    swarm.queue.setTimer(exponential(swarm.random) * arrivalMeanMs, arrive);
    const lookupMeanMs = 1000 / opts.lookupsPerSecond;
    const lookup = (): void => {
      if (this.stopped) return;
      if (this.lookupsOn) this.lookup();
      swarm.queue.setTimer(exponential(swarm.random) * lookupMeanMs, lookup);
    };
    swarm.queue.setTimer(exponential(swarm.random) * lookupMeanMs, lookup);
  }

  stop(): void {
    this.stopped = true;
  }

  /** Run churn for `windowMs` of virtual time, sweeping every `sweepEveryMs`; what went over the wire meanwhile. */
  async run(windowMs: number, sweepEveryMs = 30_000, progress?: (elapsedMs: number) => void): Promise<TrafficFigures> {
    const { swarm } = this;
    const stats = swarm.network.stats;
    const before = {
      bytes: stats.bytes,
      frames: stats.frames,
      connections: stats.connectionsCreated,
      byType: new Map(stats.bytesByType),
    };
    const startedAt = swarm.now;
    let liveSum = 0;
    let samples = 0;
    while (swarm.now < startedAt + windowMs) {
      await swarm.run(Math.min(sweepEveryMs, startedAt + windowMs - swarm.now));
      this.sweep();
      liveSum += this.running.size;
      samples++;
      progress?.(swarm.now - startedAt);
    }
    const seconds = (swarm.now - startedAt) / 1000;
    const perNodeS = (x: number): number => x / (liveSum / samples) / seconds;
    const traffic: TrafficFigures = {
      seconds,
      meanLiveNodes: liveSum / samples,
      bytesPerNodePerS: perNodeS(stats.bytes - before.bytes),
      framesPerNodePerS: perNodeS(stats.frames - before.frames),
      connectionsPerNodePerHour: perNodeS(stats.connectionsCreated - before.connections) * 3600,
      bytesByType: [...stats.bytesByType]
        .map(([t, b]): [string, number] => [t, perNodeS(b - (before.byType.get(t) ?? 0))])
        .sort((a, b) => b[1] - a[1]),
    };
    return traffic;
  }

  /** Stop arrivals and lookups, and let the lookups in flight finish (they still count). */
  async finish(): Promise<void> {
    this.stop();
    await this.swarm.run(30_000);
    this.sweep();
  }

  /** Every live node's store: how long after its owner left is any record still live there? */
  sweep(): void {
    const now = this.swarm.now;
    this.figures.sweeps++;
    this.figures.liveMin = Math.min(this.figures.liveMin, this.running.size);
    this.figures.liveMax = Math.max(this.figures.liveMax, this.running.size);
    for (const node of this.running) {
      for (const { key, kind } of node.records.slotKeys()) {
        for (const record of node.records.get(key, kind, node.clock.now())) {
          const owner = toHex(record.nodeId);
          const leftAt = this.providers.get(owner)?.leftAt;
          if (leftAt !== undefined)
            this.figures.maxHeldAfterLeaveMs = Math.max(this.figures.maxHeldAfterLeaveMs, now - leftAt);
          const past = this.ledger.heldPastTtl(owner, record.advertisedAt, now);
          if (past === undefined) this.figures.heldForged++;
          else this.figures.maxHeldPastTtlMs = Math.max(this.figures.maxHeldPastTtlMs, past);
        }
      }
    }
  }

  private arrive(): void {
    const { swarm } = this;
    const existing = [...this.running];
    const node = swarm.addNode();
    this.figures.joins++;
    this.running.add(node);
    // The relay hands the newcomer a few live peers; it bootstraps once those channels are open.
    for (let i = 0; i < 3; i++)
      swarm.network.link(node.selfHex, existing[Math.floor(swarm.random.next() * existing.length)]!.selfHex);
    const provider = swarm.random.next() < this.opts.providerShare;
    swarm.clockOf(node).setTimer(1_000, () => {
      void node.bootstrap().then(() => {
        if (provider && this.running.has(node)) this.provide(node);
      });
    });
    this.scheduleDeparture(node, this.opts.session.session(swarm.random));
  }

  private provide(node: DhtNode): void {
    const p: Provider = { node, service: `churn.svc.${this.serial++}` };
    this.providers.set(node.selfHex, p);
    this.liveProviders.push(p);
    this.ledger.keepAdvertised(node, p.service, this.opts.ttlS);
  }

  private scheduleDeparture(node: DhtNode, afterMs: number): void {
    const { swarm } = this;
    swarm.queue.setTimer(afterMs, () => {
      if (!this.running.delete(node)) return;
      this.figures.departures++;
      swarm.fail(node, false);
      const p = this.providers.get(node.selfHex);
      if (p !== undefined) {
        p.leftAt = swarm.now;
        this.liveProviders.splice(this.liveProviders.indexOf(p), 1);
        this.departed.push(p);
      }
      // Let the channel closes reach the peers, then drop the node's state.
      swarm.queue.setTimer(60_000, () => swarm.forget(node));
    });
  }

  private lookup(): void {
    const { swarm, opts, figures } = this;
    const now = swarm.now;
    while (this.departed.length > 0 && now - this.departed[0]!.leftAt! > 2 * opts.ttlS * 1000) this.departed.shift();
    const toDeparted = this.departed.length > 0 && swarm.random.next() < opts.departedLookupShare;
    const pool = toDeparted
      ? this.departed
      : this.liveProviders.filter((p) => this.ledger.published(p.node, p.service));
    if (pool.length === 0) return;
    const target = pool[Math.floor(swarm.random.next() * pool.length)]!;
    const origins = [...this.running];
    const from = origins[Math.floor(swarm.random.next() * origins.length)]!;
    if (from === target.node) return;
    void this.ledger.discover(from, target.service).then((providers) => {
      for (const p of providers) {
        const leftAt = this.providers.get(p.nodeId)?.leftAt;
        if (leftAt !== undefined && leftAt < now)
          figures.maxServedAfterLeaveMs = Math.max(figures.maxServedAfterLeaveMs, now - leftAt);
      }
      if (toDeparted) {
        figures.departedLookups++;
        return;
      }
      if (from.isClosed || target.leftAt !== undefined) {
        figures.abandoned++;
        return;
      }
      figures.lookups++;
      if (providers.some((p) => p.nodeId === target.node.selfHex)) figures.found++;
      else figures.failures.push({ at: now, service: target.service, from: from.selfHex });
    });
  }
}
