import { describe, expect, it } from 'vitest';
import type { Clock } from '../../core/environment.js';
import { HIDDEN_TICK_MS, Ticker, VISIBLE_TICK_MS } from './ticker.js';

/** Virtual time: timers fire in order as time is advanced; counts the timers still armed. */
function virtualClock(): Pick<Clock, 'setTimer'> & { advance(ms: number): void; armed(): number } {
  let now = 0;
  const timers = new Set<{ at: number; fn: () => void }>();
  return {
    setTimer(ms, fn) {
      const t = { at: now + ms, fn };
      timers.add(t);
      return () => timers.delete(t);
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const next = [...timers].sort((a, b) => a.at - b.at)[0];
        if (next === undefined || next.at > end) break;
        timers.delete(next);
        now = next.at;
        next.fn();
      }
      now = end;
    },
    armed: () => timers.size,
  };
}

describe('Ticker', () => {
  it('ticks once per visible interval, from one timer', () => {
    const clock = virtualClock();
    let ticks = 0;
    new Ticker(clock, () => ticks++);
    clock.advance(10 * VISIBLE_TICK_MS);
    expect(ticks).toBe(10);
    expect(clock.armed()).toBe(1);
  });

  it('ticks once per hidden interval while hidden, and at once when shown again', () => {
    const clock = virtualClock();
    let ticks = 0;
    const ticker = new Ticker(clock, () => ticks++);
    ticker.setHidden(true);
    clock.advance(4 * HIDDEN_TICK_MS);
    expect(ticks).toBe(4);
    ticker.setHidden(false);
    expect(ticks).toBe(5);
    clock.advance(3 * VISIBLE_TICK_MS);
    expect(ticks).toBe(8);
    expect(clock.armed()).toBe(1);
  });

  it('saying the same visibility twice changes nothing', () => {
    const clock = virtualClock();
    let ticks = 0;
    const ticker = new Ticker(clock, () => ticks++);
    ticker.setHidden(false);
    ticker.setHidden(false);
    expect(ticks).toBe(0);
    ticker.setHidden(true);
    ticker.setHidden(true);
    clock.advance(HIDDEN_TICK_MS - 1);
    expect(ticks).toBe(0);
    clock.advance(1);
    expect(ticks).toBe(1);
  });

  it('a tick that throws does not stop the ticking', () => {
    const clock = virtualClock();
    let ticks = 0;
    new Ticker(clock, () => {
      ticks++;
      throw new Error('boom');
    });
    expect(() => clock.advance(VISIBLE_TICK_MS)).toThrow('boom');
    expect(() => clock.advance(VISIBLE_TICK_MS)).toThrow('boom');
    expect(ticks).toBe(2);
    expect(clock.armed()).toBe(1);
  });

  it('closed, it never ticks again and leaves no timer', () => {
    const clock = virtualClock();
    let ticks = 0;
    const ticker = new Ticker(clock, () => ticks++);
    clock.advance(VISIBLE_TICK_MS);
    ticker.close();
    ticker.setHidden(true);
    ticker.setHidden(false);
    clock.advance(10 * HIDDEN_TICK_MS);
    expect(ticks).toBe(1);
    expect(clock.armed()).toBe(0);
  });
});
