import { describe, expect, it } from 'vitest';
import { DISTRUST_MS, FAILED_TESTS_TO_DISTRUST, LOSSES_BEFORE_DOUBT, NeighbourTrust } from './neighbour-trust.js';

const fail = (t: NeighbourTrust, hop: string, times: number, test: boolean): void => {
  for (let i = 0; i < times; i++) t.record(hop, false, test);
};

describe('NeighbourTrust', () => {
  it('a neighbour is unproven until something routed through it comes back, then reliable', () => {
    const t = new NeighbourTrust();
    expect(t.verdict('a')).toBe('unproven');
    expect(t.record('a', false)).toBe('unproven');
    expect(t.record('a', true)).toBe('reliable');
  });

  it('ordinary losses only raise doubt; failed tests, while others get through, make it unreliable', () => {
    const t = new NeighbourTrust();
    t.record('other', true);
    t.record('a', true);
    fail(t, 'a', LOSSES_BEFORE_DOUBT + 10, false);
    expect(t.verdict('a')).toBe('doubtful');
    fail(t, 'a', FAILED_TESTS_TO_DISTRUST - 1, true);
    expect(t.verdict('a')).toBe('doubtful');
    expect(t.record('a', false, true)).toBe('unreliable');
  });

  it('anything through in between starts the count again', () => {
    const t = new NeighbourTrust();
    t.record('other', true);
    fail(t, 'a', FAILED_TESTS_TO_DISTRUST - 1, true);
    t.record('a', true);
    fail(t, 'a', FAILED_TESTS_TO_DISTRUST - 1, true);
    expect(t.verdict('a')).not.toBe('unreliable');
  });

  it('judges nobody when no other neighbour gets anything through (we are the one cut off)', () => {
    const t = new NeighbourTrust();
    for (const hop of ['a', 'b', 'c']) fail(t, hop, FAILED_TESTS_TO_DISTRUST + 2, true);
    expect(['a', 'b', 'c'].map((h) => t.verdict(h))).toEqual(['unproven', 'unproven', 'unproven']);
    // A doubtful neighbour does not count as getting through either.
    t.record('d', true);
    fail(t, 'd', LOSSES_BEFORE_DOUBT, false);
    expect(t.verdict('a')).toBe('unproven');
    t.record('e', true);
    expect(t.verdict('a')).toBe('unreliable');
  });

  it('a closed channel starts from nothing; distrust expires after DISTRUST_MS', () => {
    const t = new NeighbourTrust();
    t.record('a', true);
    t.forget('a');
    expect(t.verdict('a')).toBe('unproven');
    t.distrust('a', 1_000);
    expect(t.isDistrusted('a', 1_000 + DISTRUST_MS - 1)).toBe(true);
    expect(t.isDistrusted('a', 1_000 + DISTRUST_MS)).toBe(false);
    expect(t.distrustedCount).toBe(0);
  });

  it('remembers a bounded number of distrusted neighbours, forgetting the oldest verdict first', () => {
    const t = new NeighbourTrust();
    for (let i = 0; i < 5_000; i++) t.distrust(`n${i}`, i);
    expect(t.distrustedCount).toBe(4_096);
    expect(t.isDistrusted('n0', 5_000)).toBe(false);
    expect(t.isDistrusted('n4999', 5_000)).toBe(true);
  });
});
