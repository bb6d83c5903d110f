import type { Clock } from './environment.js';

/**
 * A clock for tests: time stands still until the test advances it, and then the timers that
 * came due run in order of their due time. Lets a test drive backoffs and refresh periods
 * without sleeping.
 */
export function manualClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  const timers = new Set<{ at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimer(ms, fn) {
      const t = { at: now + ms, fn };
      timers.add(t);
      return () => void timers.delete(t);
    },
    advance(ms) {
      now += ms;
      for (const t of [...timers].sort((a, b) => a.at - b.at)) {
        if (t.at <= now && timers.delete(t)) t.fn();
      }
    },
  };
}
