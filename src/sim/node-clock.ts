import type { Clock, TimerTarget } from '../core/environment.js';
import type { Due, EventQueue } from './event-queue.js';

/**
 * One node's view of time in the simulator, for two nemeses that live inside a node
 * rather than on a link:
 *   - clock skew: `now()` reads the shared virtual time plus a fixed offset, so records
 *     this node signs carry its own wrong time, and it judges others' dates by it;
 *   - pausing: a paused node runs nothing — its timers that come due and everything the
 *     network hands it (frames, channel events) wait in a backlog, and on resume the
 *     backlog runs in arrival order at once, as a tab thawed by the browser does.
 * Durations are unaffected by skew: a skewed clock runs at the right rate.
 */
export class NodeClock implements Clock {
  private paused = false;
  private backlog: Array<() => void> = [];
  /** Events that waited in a backlog, over the node's life. */
  delayedEvents = 0;

  constructor(
    private readonly queue: EventQueue,
    readonly offsetMs = 0,
  ) {}

  now(): number {
    return this.queue.now() + this.offsetMs;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer = this.startTimer(ms, fn);
    return () => timer.cancel();
  }

  /** setTimer, returning the timer itself (its cancel()) rather than a closure: for a holder that keeps it. */
  startTimer(ms: number, fn: () => void): NodeTimer {
    const timer = new NodeTimer(this, fn, undefined);
    this.queue.schedule(timer, ms);
    return timer;
  }

  /** Clock.fireAfter: `target.fire()` after `ms`, with no closure (the timer is the handle). */
  fireAfter(ms: number, target: TimerTarget): NodeTimer {
    const timer = new NodeTimer(this, undefined, target);
    this.queue.schedule(timer, ms);
    return timer;
  }

  /** A timer was cancelled: out of the queue now, not at its time (EventQueue.unlink). */
  unlink(timer: NodeTimer): void {
    this.queue.unlink(timer);
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Run `fn` now, or after resume() when the node is paused. */
  run(fn: () => void): void {
    if (!this.paused) {
      fn();
      return;
    }
    this.delayedEvents++;
    this.backlog.push(fn);
  }

  pause(): void {
    this.paused = true;
  }

  /** Work through the backlog; anything it schedules for now runs after it, as on a real event loop. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const waiting = this.backlog;
    this.backlog = [];
    for (const fn of waiting) {
      // A backlog entry may pause the node again (a test's hook); the rest then waits again.
      if (this.paused) this.backlog.push(fn);
      else fn();
    }
  }

  get backlogSize(): number {
    return this.backlog.length;
  }
}

/**
 * A node's timer, one object in the queue (every request timeout and hop acknowledgement
 * of every node is one): its cancellation stops it in the queue and, should it have come due
 * while the node was paused, in the backlog.
 */
export class NodeTimer implements Due {
  at = 0;
  index = 0;
  cancelled = false;

  constructor(
    private readonly clock: NodeClock,
    /** What it runs: a function (setTimer, startTimer) or a target's fire() (fireAfter). */
    private action: (() => void) | undefined,
    private target: TimerTarget | undefined,
  ) {}

  fn(): void {
    // run() without a closure of its own when the node is not paused (nearly always).
    if (!this.clock.isPaused) this.run();
    else
      this.clock.run(() => {
        if (!this.cancelled) this.run();
      });
  }

  cancel(): void {
    this.cancelled = true;
    // Let go of what it captured, should it wait in the backlog of a paused node.
    this.action = undefined;
    this.target = undefined;
    this.clock.unlink(this);
  }

  private run(): void {
    if (this.action !== undefined) this.action();
    else this.target?.fire();
  }
}
