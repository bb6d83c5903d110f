import type { DhtNode } from '../core/node/dht-node.js';
import type { EventQueue } from './event-queue.js';
import type { NodeClock, NodeTimer } from './node-clock.js';
import type { SimNetwork } from './network.js';

/** What the ticker drives: a node's tick and, when it says, when its next work is due (swarm.ts Built). */
export interface Tickable {
  node: DhtNode;
  tick(): void;
  dueAt?(): number;
}

/**
 * Ticks one node of a swarm on its grid (a random phase, then every tickMs, as a tab's timer
 * would), skipping the grid points before its next due work when it says when that is: most
 * ticks of most nodes find nothing due, and each was an event. A part whose work comes due
 * earlier (DhtNode.onDue) brings the next tick forward to the first grid point then.
 *
 * One object per node, with a single closure (the timer's action): the state it keeps were
 * eight closures and their context, some 3 KB a node (BENCHMARKS.md, Simulator memory).
 */
export class NodeTicker {
  private lastTickAt = -Infinity;
  private scheduledAt: number;
  private ticking = false;
  private stopped = false;
  private timer: NodeTimer;
  private readonly loop = (): void => this.run();

  constructor(
    private readonly built: Tickable,
    private readonly clock: NodeClock,
    private readonly queue: EventQueue,
    private readonly network: SimNetwork,
    private readonly tickMs: number,
    /** The first tick, virtual time. */
    private readonly first: number,
  ) {
    this.scheduledAt = first;
    if (built.dueAt !== undefined) built.node.onDue((at) => this.due(at));
    this.timer = clock.startTimer(first - queue.now(), this.loop);
  }

  stop(): void {
    this.stopped = true;
    this.timer.cancel();
  }

  /** The first point of the grid at or after `at` and now (virtual time); the grid runs on from the last tick (a paused node's is late). */
  private gridAt(at: number): number {
    const { tickMs } = this;
    const base = this.lastTickAt === -Infinity ? this.first : this.lastTickAt + tickMs;
    const from = Math.max(at, this.queue.now());
    return from <= base ? base : base + Math.ceil((from - base) / tickMs) * tickMs;
  }

  private schedule(at: number): void {
    this.timer.cancel();
    this.scheduledAt = at;
    this.timer = this.clock.startTimer(at - this.queue.now(), this.loop);
  }

  private run(): void {
    const { built, clock } = this;
    const n = built.node;
    if (n.isClosed || !this.network.isAlive(n.selfHex)) return;
    this.lastTickAt = this.queue.now();
    this.ticking = true;
    built.tick();
    this.ticking = false;
    // The node's clock may be skewed: its due time is on its own clock.
    this.schedule(
      built.dueAt === undefined ? this.lastTickAt + this.tickMs : this.gridAt(built.dueAt() - clock.offsetMs),
    );
  }

  private due(at: number): void {
    if (this.ticking || this.stopped) return;
    const next = this.gridAt(at - this.clock.offsetMs);
    if (next < this.scheduledAt) this.schedule(next);
  }
}
