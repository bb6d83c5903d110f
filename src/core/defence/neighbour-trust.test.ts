import { describe, expect, it } from 'vitest';
import {
  DISTRUST_MS,
  MAX_DISTRUST_MS,
  FAILED_TESTS_TO_DISTRUST,
  FAILED_TESTS_TO_DISTRUST_ALONE,
  LOSSES_BEFORE_DOUBT,
  NeighbourTrust,
  type HopRecord,
  type Outcome,
} from './neighbour-trust.js';

/** Trust over the open channels `hops`, each with a fresh record (as a neighbour's is when its channel opens). */
const trustOver = (...hops: string[]): NeighbourTrust =>
  new NeighbourTrust(
    new Map<string, HopRecord>(hops.map((h) => [h, { through: 0, lostInARow: 0, testsFailedInARow: 0 }])),
  );

const repeat = (t: NeighbourTrust, hop: string, outcome: Outcome, times: number): void => {
  for (let i = 0; i < times; i++) t.record(hop, outcome);
};

describe('NeighbourTrust', () => {
  it('a neighbour is unproven until something routed through it comes back, then reliable', () => {
    const t = trustOver('a');
    expect(t.verdict('a')).toBe('unproven');
    expect(t.record('a', 'lost')).toBe('unproven');
    expect(t.record('a', 'through')).toBe('reliable');
  });

  it('ordinary losses only raise doubt; failed tests, while others get through, make it unreliable', () => {
    const t = trustOver('other', 'a');
    t.record('other', 'through');
    t.record('a', 'through');
    repeat(t, 'a', 'lost', LOSSES_BEFORE_DOUBT + 10);
    expect(t.verdict('a')).toBe('doubtful');
    repeat(t, 'a', 'test-failed', FAILED_TESTS_TO_DISTRUST - 1);
    expect(t.verdict('a')).toBe('doubtful');
    expect(t.record('a', 'test-failed')).toBe('unreliable');
  });

  it('anything through in between starts the count again', () => {
    const t = trustOver('other', 'a');
    t.record('other', 'through');
    repeat(t, 'a', 'test-failed', FAILED_TESTS_TO_DISTRUST - 1);
    t.record('a', 'through');
    repeat(t, 'a', 'test-failed', FAILED_TESTS_TO_DISTRUST - 1);
    expect(t.verdict('a')).not.toBe('unreliable');
  });

  it('with no other neighbour getting anything through, it takes FAILED_TESTS_TO_DISTRUST_ALONE failed tests', () => {
    const t = trustOver('a', 'd', 'e');
    repeat(t, 'a', 'test-failed', FAILED_TESTS_TO_DISTRUST_ALONE - 1);
    expect(t.verdict('a')).toBe('unproven');
    // A doubtful neighbour does not count as getting through.
    t.record('d', 'through');
    t.record('d', 'lost');
    expect(t.verdict('a')).toBe('unproven');
    t.record('e', 'through');
    expect(t.verdict('a')).toBe('unreliable');
    const alone = trustOver('b');
    repeat(alone, 'b', 'test-failed', FAILED_TESTS_TO_DISTRUST_ALONE);
    expect(alone.verdict('b')).toBe('unreliable');
  });

  it('a closed channel starts from nothing; distrust lasts DISTRUST_MS, twice as long for each repeat, at most MAX_DISTRUST_MS', () => {
    const t = trustOver('a');
    t.record('a', 'through');
    t.forget('a');
    expect(t.verdict('a')).toBe('unproven');
    expect(t.distrust('a', 1_000)).toBe(1_000 + DISTRUST_MS);
    expect(t.isDistrusted('a', 1_000 + DISTRUST_MS - 1)).toBe(true);
    expect(t.isDistrusted('a', 1_000 + DISTRUST_MS)).toBe(false);
    const again = 1_000 + DISTRUST_MS;
    expect(t.distrust('a', again)).toBe(again + 2 * DISTRUST_MS);
    let until = 0;
    for (let i = 0; i < 20; i++) until = t.distrust('a', again);
    expect(until).toBe(again + MAX_DISTRUST_MS);
  });

  it('a hop without an open channel records nothing and stays unproven', () => {
    const t = trustOver('a');
    expect(t.record('gone', 'through')).toBe('unproven');
    expect(t.verdict('gone')).toBe('unproven');
    // Nor does it count as another neighbour getting ours through.
    repeat(t, 'a', 'test-failed', FAILED_TESTS_TO_DISTRUST);
    expect(t.verdict('a')).toBe('unproven');
  });

  it('remembers a bounded number of distrusted neighbours, forgetting the oldest verdict first', () => {
    const t = trustOver();
    for (let i = 0; i < 5_000; i++) t.distrust(`n${i}`, i);
    expect(t.distrustedCount).toBe(4_096);
    expect(t.isDistrusted('n0', 0)).toBe(false);
    expect(t.isDistrusted('n4999', 5_000)).toBe(true);
  });
});
