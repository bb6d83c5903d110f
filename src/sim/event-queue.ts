import type { Clock } from '../core/environment.js';

/**
 * Something due at a moment of virtual time. `fn` is a timer's function, or the method of an
 * object that carries its own state (a frame in flight, network.ts; a node's timer,
 * node-clock.ts), so the hottest events need no closure and no cancel function of their own.
 */
export interface Due {
  /** Set by the queue. */
  at: number;
  /**
   * Set by the queue: the event's place among those due at the same time (which run in the
   * order they were scheduled), where `unlink` finds it.
   */
  index: number;
  cancelled: boolean;
  fn(): void;
}

/** The events due at one millisecond, in the order they were scheduled; `next` is the first not yet run. */
interface Slot {
  events: Due[];
  next: number;
}

/**
 * Virtual time for the simulator: events ordered by (time, insertion). It doubles as the
 * nodes' Clock, so timers in the real core run on simulated time.
 *
 * Times are whole milliseconds and a busy run has several events in each, so the events are
 * kept per millisecond (a slot, filled in scheduling order) and only the distinct times sit
 * in a binary heap of plain numbers: one heap operation per millisecond used rather than two
 * per event, each comparing numbers instead of two fields of objects spread over the heap.
 * The order is exactly that of one heap of (time, insertion) pairs. Slots are keyed by the
 * time less the queue's start: small integers, which V8 keeps in a Map as they are, where a
 * time since 1970 is a boxed double to hash and compare (a frame's arrival looks its slot up).
 */
export class EventQueue implements Clock {
  /** Min-heap of the times that have a slot. */
  private readonly times: number[] = [];
  /** By time less `origin`. */
  private readonly slots = new Map<number, Slot>();
  private readonly origin: number;
  private pending = 0;
  private time: number;
  processed = 0;

  constructor(startMs = 1_700_000_000_000) {
    this.time = startMs;
    this.origin = startMs;
  }

  now(): number {
    return this.time;
  }

  setTimer(ms: number, fn: () => void): () => void {
    return this.at(this.time + Math.max(0, ms), fn);
  }

  /** Schedule `fn` at absolute time `at` (whole milliseconds keep same-time batches large). */
  at(at: number, fn: () => void): () => void {
    const event: Due = { at: 0, index: 0, fn, cancelled: false };
    this.scheduleAt(event, at);
    return () => {
      event.cancelled = true;
      event.fn = noop;
      this.unlink(event);
    };
  }

  /**
   * Take a cancelled event out of its slot now rather than skip it at its time, so that it is
   * garbage now, or its holder may schedule it again. A request's timeout is cancelled by its
   * reply within milliseconds but is due seconds later: left in its slot it outlived every
   * scavenge in between, was promoted, and died in the old generation, where only a mark of
   * the whole heap finds it (BENCHMARKS.md, Simulator garbage). A shared cancelled event takes
   * its place, skipped at its time (and counted in `size` until then) as the event itself
   * would have been: the order and the count of what runs are the same. An event that has run
   * already, or is not in the queue, is left alone.
   */
  unlink(event: Due): void {
    const slot = this.slots.get(event.at - this.origin);
    if (slot === undefined) return;
    const { index } = event;
    if (index >= slot.next && slot.events[index] === event) slot.events[index] = CANCELLED;
  }

  /** Schedule `event` in `ms`, as setTimer does; it is cancelled by setting its `cancelled`. */
  schedule(event: Due, ms: number): void {
    this.scheduleAt(event, this.time + Math.max(0, ms));
  }

  private scheduleAt(event: Due, at: number): void {
    const t = Math.ceil(at);
    event.at = t;
    this.pending++;
    const key = t - this.origin;
    const slot = this.slots.get(key);
    if (slot !== undefined) {
      event.index = slot.events.push(event) - 1;
      return;
    }
    event.index = 0;
    this.slots.set(key, { events: [event], next: 0 });
    this.pushTime(t);
  }

  /** Events not yet run, cancelled ones included. */
  get size(): number {
    return this.pending;
  }

  /** Time of the next pending event, or undefined. */
  peekTime(): number | undefined {
    return this.times[0];
  }

  /**
   * Run events up to `until`. Between two distinct instants it lets pending promise
   * continuations run, so async code in the core (a publish awaiting its lookup) sees
   * the virtual time at which its awaited event happened.
   */
  async runUntil(until: number): Promise<void> {
    const { times } = this;
    for (;;) {
      const at = times[0];
      if (at === undefined || at > until) break;
      if (at > this.time) {
        await flushContinuations();
        // A continuation may have scheduled something earlier than `at`.
        if (times[0] !== at) continue;
        this.time = at;
      }
      const slot = this.slots.get(at - this.origin)!;
      const { events } = slot;
      // Events scheduled meanwhile for this same time join the end of the slot and run in
      // turn. One scheduled for an earlier time (only `at()` can) runs first, as in a heap.
      while (slot.next < events.length && times[0] === at) {
        const next = events[slot.next++]!;
        this.pending--;
        if (next.cancelled) continue;
        this.processed++;
        next.fn();
      }
      // Exhausted: gone from the heap once it is back on top (an earlier time may sit there now).
      if (slot.next === events.length && times[0] === at) {
        this.slots.delete(at - this.origin);
        this.popTime();
      }
    }
    await flushContinuations();
    if (until > this.time && Number.isFinite(until)) this.time = until;
  }

  runFor(ms: number): Promise<void> {
    return this.runUntil(this.time + ms);
  }

  private pushTime(t: number): void {
    const h = this.times;
    let i = h.length;
    h.push(t);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]! <= t) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = t;
  }

  private popTime(): void {
    const h = this.times;
    const last = h.pop()!;
    const n = h.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const m = r < n && h[r]! < h[l]! ? r : l;
      if (h[m]! >= last) break;
      h[i] = h[m]!;
      i = m;
    }
    h[i] = last;
  }
}

const noop = (): void => undefined;

/** What stands in a slot for an event unlinked from it. */
const CANCELLED: Due = { at: 0, index: -1, cancelled: true, fn: noop };

/** setImmediate runs only after every queued microtask (promise continuation) has run. */
const flushContinuations = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
