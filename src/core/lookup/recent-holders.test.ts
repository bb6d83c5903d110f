import { describe, expect, it } from 'vitest';
import { KEEP_MS, MAX_KEYS, RecentHolders } from './recent-holders.js';

describe('RecentHolders', () => {
  it('keeps the last holder per key and kind, for KEEP_MS', () => {
    const h = new RecentHolders();
    h.remember('k1', 'provider', 'a', 1_000);
    h.remember('k1', 'subscriber', 'b', 1_000);
    h.remember('k1', 'provider', 'c', 2_000);
    expect(h.holderOf('k1', 'provider', 2_000)).toBe('c');
    expect(h.holderOf('k1', 'subscriber', 2_000)).toBe('b');
    expect(h.holderOf('k2', 'provider', 2_000)).toBeUndefined();
    expect(h.holderOf('k1', 'provider', 2_000 + KEEP_MS - 1)).toBe('c');
    expect(h.holderOf('k1', 'provider', 2_000 + KEEP_MS)).toBeUndefined();
    h.forget('k1', 'subscriber');
    expect(h.holderOf('k1', 'subscriber', 2_000)).toBeUndefined();
  });

  it(`holds at most ${MAX_KEYS} keys: the one remembered least lately gives way`, () => {
    const h = new RecentHolders();
    for (let i = 0; i < MAX_KEYS; i++) h.remember(`k${i}`, 'provider', 'x', i);
    h.remember('k0', 'provider', 'y', MAX_KEYS);
    h.remember('new', 'provider', 'z', MAX_KEYS + 1);
    expect(h.holderOf('k0', 'provider', MAX_KEYS + 1)).toBe('y');
    expect(h.holderOf('k1', 'provider', MAX_KEYS + 1)).toBeUndefined();
    expect(h.holderOf('new', 'provider', MAX_KEYS + 1)).toBe('z');
  });
});
