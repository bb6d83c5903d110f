import { describe, expect, it } from 'vitest';
import { ExpiringIds } from './expiring-ids.js';

describe('ExpiringIds', () => {
  it('remembers an id until memoryMs after it was last added, unless deleted', () => {
    const ids = new ExpiringIds(1_000, 10);
    expect(ids.add('a', 0)).toBe(true);
    expect(ids.add('a', 500)).toBe(false);
    expect(ids.has('a', 1_499)).toBe(true);
    expect(ids.has('a', 1_500)).toBe(false);
    expect(ids.size).toBe(0);
    ids.add('b', 0);
    ids.delete('b');
    expect(ids.has('b', 1)).toBe(false);
    expect(ids.add('b', 2)).toBe(true);
  });

  it('stays bounded, forgetting the id added longest ago first', () => {
    const ids = new ExpiringIds(60_000, 3);
    for (const [t, hex] of ['a', 'b', 'c'].entries()) ids.add(hex, t);
    ids.add('a', 10); // re-added: now the newest
    ids.add('d', 11);
    expect(ids.size).toBe(3);
    expect(['a', 'b', 'c', 'd'].filter((hex) => ids.has(hex, 12))).toEqual(['a', 'c', 'd']);
  });
});
