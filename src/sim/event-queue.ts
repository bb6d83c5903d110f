import type { Clock } from '../core/environment.js';

/**
 * Something due at a moment of virtual time. `fn` is a timer's function, or the method of an
 * object that carries its own state (a frame in flight, network.ts; a node's timer,
 * node-clock.ts), so the hottest events need no closure and no cancel function of their own.
 */
export interface Due {
  /** Set by the queue. */
  at: number;
  /** Set by the queue: events due at the same time run in the order they were scheduled. */
  seq: number;
  cancelled: boolean;
  fn(): void;
}

/**
 * Virtual time for the simulator: a binary heap of events ordered by (time, insertion).
 * It doubles as the nodes' Clock, so timers in the real core run on simulated time.
 */
export class EventQueue implements Clock {
  private heap: Due[] = [];
  private seq = 0;
  private time: number;
  processed = 0;

  constructor(startMs = 1_700_000_000_000) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  setTimer(ms: number, fn: () => void): () => void {
    return this.at(this.time + Math.max(0, ms), fn);
  }

  /** Schedule `fn` at absolute time `at` (whole milliseconds keep same-time batches large). */
  at(at: number, fn: () => void): () => void {
    const event: Due = { at: 0, seq: 0, fn, cancelled: false };
    this.scheduleAt(event, at);
    return () => {
      event.cancelled = true;
      // Cancelled events wait in the heap until their time; let go of what they captured.
      event.fn = noop;
    };
  }

  /** Schedule `event` in `ms`, as setTimer does; it is cancelled by setting its `cancelled`. */
  schedule(event: Due, ms: number): void {
    this.scheduleAt(event, this.time + Math.max(0, ms));
  }

  private scheduleAt(event: Due, at: number): void {
    event.at = Math.ceil(at);
    event.seq = this.seq++;
    this.push(event);
  }

  get size(): number {
    return this.heap.length;
  }

  /** Time of the next pending event, or undefined. */
  peekTime(): number | undefined {
    return this.heap[0]?.at;
  }

  /**
   * Run events up to `until`. Between two distinct instants it lets pending promise
   * continuations run, so async code in the core (a publish awaiting its lookup) sees
   * the virtual time at which its awaited event happened.
   */
  async runUntil(until: number): Promise<void> {
    for (;;) {
      const next = this.heap[0];
      if (next === undefined || next.at > until) break;
      if (next.at > this.time) {
        await flushContinuations();
        // A continuation may have scheduled something earlier than `next`.
        if (this.heap[0] !== next) continue;
        this.time = next.at;
      }
      this.pop();
      if (next.cancelled) continue;
      this.processed++;
      next.fn();
    }
    await flushContinuations();
    if (until > this.time && Number.isFinite(until)) this.time = until;
  }

  runFor(ms: number): Promise<void> {
    return this.runUntil(this.time + ms);
  }

  private push(e: Due): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(e, h[parent]!)) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = e;
  }

  private pop(): Due | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      let best = last;
      if (l < h.length && before(h[l]!, best)) {
        m = l;
        best = h[l]!;
      }
      if (r < h.length && before(h[r]!, best)) {
        m = r;
        best = h[r]!;
      }
      if (m === i) break;
      h[i] = h[m]!;
      i = m;
    }
    h[i] = last;
    return top;
  }
}

const noop = (): void => undefined;

const before = (a: Due, b: Due): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/** setImmediate runs only after every queued microtask (promise continuation) has run. */
const flushContinuations = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
