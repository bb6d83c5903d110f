import { describe, expect, it } from 'vitest';
import { MIN_SOFT_TIMEOUT_MS, QueryTimer } from './query-timer.js';

describe('QueryTimer', () => {
  it('waits the hard timeout until it has timed a reply', () => {
    expect(new QueryTimer(5_000).softMs).toBe(5_000);
  });

  it('follows the replies: mean plus four deviations, never below the floor nor above the hard timeout', () => {
    const timer = new QueryTimer(5_000);
    for (let i = 0; i < 50; i++) timer.observe(100);
    expect(timer.softMs).toBe(MIN_SOFT_TIMEOUT_MS);
    for (let i = 0; i < 50; i++) timer.observe(i % 2 === 0 ? 400 : 1_200);
    expect(timer.softMs).toBeGreaterThan(1_200);
    expect(timer.softMs).toBeLessThan(5_000);
    for (let i = 0; i < 50; i++) timer.observe(60_000);
    expect(timer.softMs).toBe(5_000);
  });

  it('ignores nonsense samples', () => {
    const timer = new QueryTimer(5_000);
    timer.observe(Number.NaN);
    timer.observe(-5);
    expect(timer.softMs).toBe(5_000);
  });
});
