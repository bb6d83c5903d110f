import type { Clock } from './environment.js';

/** A test clock (manualClock) and what it lets a test do besides being a Clock. */
export interface ManualClock extends Clock {
  /**
   * Move time on by `ms`, running the timers that come due in order of their due time, each
   * at its own due time, including timers those set on the way that are due before the end.
   */
  advance(ms: number): void;
  /** Move time on without running anything: a throttled or frozen page whose timers are late. */
  skip(ms: number): void;
  /** Every delay asked of setTimer, in order (backoff schedules). */
  readonly delays: readonly number[];
}

/**
 * A clock for tests: time stands still until the test advances it. Lets a test drive
 * backoffs, heartbeats and refresh periods without sleeping.
 */
export function manualClock(): ManualClock {
  let now = 0;
  const timers = new Set<{ at: number; fn: () => void }>();
  const delays: number[] = [];
  const nextDue = (end: number): { at: number; fn: () => void } | undefined => {
    let due: { at: number; fn: () => void } | undefined;
    for (const t of timers) if (t.at <= end && (due === undefined || t.at < due.at)) due = t;
    return due;
  };
  return {
    now: () => now,
    setTimer(ms, fn) {
      delays.push(ms);
      const t = { at: now + ms, fn };
      timers.add(t);
      return () => void timers.delete(t);
    },
    advance(ms) {
      const end = now + ms;
      for (let due = nextDue(end); due !== undefined; due = nextDue(end)) {
        timers.delete(due);
        now = Math.max(now, due.at);
        due.fn();
      }
      now = end;
    },
    skip(ms) {
      now += ms;
    },
    delays,
  };
}
