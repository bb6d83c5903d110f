import { describe, expect, it } from 'vitest';
import { IntroductionPacer, MAX_WAIT_MS } from './introduction-pacer.js';

describe('IntroductionPacer', () => {
  it('asks at every check until an attempt fails, then doubles the wait up to the cap, and resets when a channel opens', () => {
    const pacer = new IntroductionPacer(5_000);
    expect([pacer.due(0), pacer.due(1), pacer.due(2)]).toEqual([true, true, true]);
    pacer.failed();
    const asked: number[] = [];
    for (let t = 0; t <= 600_000; t += 5_000) if (pacer.due(t)) asked.push(t);
    expect(asked.slice(0, 6)).toEqual([0, 5_000, 15_000, 35_000, 75_000, 155_000]);
    const gaps = asked.slice(1).map((t, i) => t - asked[i]!);
    expect(Math.max(...gaps)).toBe(MAX_WAIT_MS);
    pacer.opened();
    expect([pacer.due(600_001), pacer.due(600_002)]).toEqual([true, true]);
  });
});
