import type { DhtNode } from '../core/node/dht-node.js';
import { NO_FAULTS, type LinkFaults } from './network.js';
import type { Swarm } from './swarm.js';

/**
 * A nemesis schedule: faults that start and stop at fixed virtual times, applied to a
 * swarm's network and nodes. Episodes may overlap; link faults of overlapping episodes
 * combine (the worst of each), and every episode is undone when it ends, so after
 * `healedAt` the network is healthy again. Which nodes a partition splits or a pause
 * freezes is drawn from the swarm's seeded generator, so a schedule replays exactly.
 *
 *   const nemesis = new Nemesis(swarm, [
 *     { name: 'lossy', startMs: 0, durationMs: 60_000, fault: { kind: 'links', faults: { drop: 0.05 } } },
 *     { name: 'split', startMs: 90_000, durationMs: 120_000, fault: { kind: 'partition', sides: 2 } },
 *   ]);
 *   nemesis.start();
 */
export type Fault =
  /** Every link drops, duplicates, delays or reorders frames. */
  | { kind: 'links'; faults: Partial<LinkFaults> }
  /** The live nodes are split at random into `sides` groups that cannot reach each other. */
  | { kind: 'partition'; sides: number }
  /** A random `fraction` of the live nodes (never those in `spare`) stop processing, then resume with their backlog. */
  | { kind: 'pause'; fraction: number; spare?: (node: DhtNode) => boolean };

export interface Episode {
  name: string;
  /** From Nemesis.start(), ms of virtual time. */
  startMs: number;
  durationMs: number;
  fault: Fault;
}

export interface NemesisEvent {
  at: number;
  episode: string;
  what: string;
}

export class Nemesis {
  private readonly active = new Set<Episode>();
  private readonly paused = new Map<Episode, DhtNode[]>();
  readonly log: NemesisEvent[] = [];
  private startedAt: number | undefined;

  constructor(
    private readonly swarm: Swarm,
    readonly episodes: readonly Episode[],
  ) {
    for (const e of episodes) {
      if (e.fault.kind === 'partition' && e.fault.sides < 2)
        throw new RangeError(`${e.name}: a partition needs at least 2 sides`);
      if (e.durationMs <= 0) throw new RangeError(`${e.name}: durationMs must be positive`);
    }
    const partitions = episodes.filter((e) => e.fault.kind === 'partition');
    for (const a of partitions) {
      for (const b of partitions) {
        if (a !== b && a.startMs < b.startMs + b.durationMs && b.startMs < a.startMs + a.durationMs) {
          throw new RangeError(`${a.name} and ${b.name}: partitions must not overlap`);
        }
      }
    }
  }

  /** Schedule every episode relative to now. */
  start(): void {
    this.startedAt = this.swarm.now;
    for (const e of this.episodes) {
      this.swarm.queue.setTimer(e.startMs, () => this.begin(e));
      this.swarm.queue.setTimer(e.startMs + e.durationMs, () => this.end(e));
    }
  }

  /** True time at which the last episode ends. */
  get healedAt(): number {
    if (this.startedAt === undefined) throw new Error('Nemesis not started');
    return this.startedAt + Math.max(0, ...this.episodes.map((e) => e.startMs + e.durationMs));
  }

  /**
   * The longest a frame can be held between send and delivery under this schedule:
   * the slowest link, the largest injected delay and jitter (twice, for a duplicate),
   * and the longest pause (a paused receiver's backlog).
   */
  maxHoldMs(maxLatencyMs: number): number {
    const links = this.episodes.flatMap((e) => (e.fault.kind === 'links' ? [e.fault.faults] : []));
    const delay = Math.max(0, ...links.map((f) => f.delayMs ?? 0));
    const jitter = Math.max(0, ...links.map((f) => f.jitterMs ?? 0));
    const pause = Math.max(0, ...this.episodes.filter((e) => e.fault.kind === 'pause').map((e) => e.durationMs));
    return maxLatencyMs + delay + 2 * jitter + pause;
  }

  private begin(e: Episode): void {
    this.active.add(e);
    const { fault } = e;
    if (fault.kind === 'links') {
      this.applyLinks();
      this.note(e, `links ${JSON.stringify(fault.faults)}`);
    } else if (fault.kind === 'partition') {
      const side = new Map<string, number>();
      for (const n of this.swarm.alive()) side.set(n.selfHex, Math.floor(this.swarm.random.next() * fault.sides));
      // Nodes that join during the partition land on a side by their id.
      this.swarm.network.partition((id) => side.get(id) ?? parseInt(id.slice(0, 6), 16) % fault.sides);
      this.note(e, `partition into ${fault.sides} sides`);
    } else {
      const candidates = this.swarm
        .alive()
        .filter((n) => !(fault.spare?.(n) ?? false) && !this.swarm.clockOf(n).isPaused);
      const count = Math.round(fault.fraction * candidates.length);
      const chosen: DhtNode[] = [];
      for (let i = 0; i < count; i++) {
        const j = i + Math.floor(this.swarm.random.next() * (candidates.length - i));
        [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
        chosen.push(candidates[i]!);
        this.swarm.pause(candidates[i]!);
      }
      this.paused.set(e, chosen);
      this.note(e, `paused ${chosen.length} nodes`);
    }
  }

  private end(e: Episode): void {
    this.active.delete(e);
    const { fault } = e;
    if (fault.kind === 'links') {
      this.applyLinks();
      this.note(e, 'links restored');
    } else if (fault.kind === 'partition') {
      this.swarm.network.heal();
      this.note(e, 'healed');
    } else {
      const nodes = this.paused.get(e) ?? [];
      let backlog = 0;
      for (const n of nodes) {
        backlog += this.swarm.clockOf(n).backlogSize;
        this.swarm.resume(n);
      }
      this.paused.delete(e);
      this.note(e, `resumed ${nodes.length} nodes with ${backlog} queued events`);
    }
  }

  /** The worst of every active link episode, field by field. */
  private applyLinks(): void {
    const combined: LinkFaults = { ...NO_FAULTS };
    for (const e of this.active) {
      if (e.fault.kind !== 'links') continue;
      const f = e.fault.faults;
      combined.drop = Math.max(combined.drop, f.drop ?? 0);
      combined.duplicate = Math.max(combined.duplicate, f.duplicate ?? 0);
      combined.delayMs = Math.max(combined.delayMs, f.delayMs ?? 0);
      combined.jitterMs = Math.max(combined.jitterMs, f.jitterMs ?? 0);
    }
    this.swarm.network.faults = combined;
  }

  private note(e: Episode, what: string): void {
    this.log.push({ at: this.swarm.now, episode: e.name, what });
  }
}
