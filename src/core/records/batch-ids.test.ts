import { describe, expect, it } from 'vitest';
import { toHex } from '../id.js';
import { BatchIds } from './batch-ids.js';

const id = (...head: number[]): Uint8Array => {
  const out = new Uint8Array(32).fill(7);
  out.set(head);
  return out;
};

describe('BatchIds', () => {
  it('hands out one entry per distinct id, with its own copy of the bytes and their hex', () => {
    const ids = new BatchIds();
    const a = id(1, 2, 3, 4);
    const first = ids.intern(a);
    expect(first.hex).toBe(toHex(a));
    expect(first.bytes).not.toBe(a);
    expect(ids.intern(new Uint8Array(a))).toBe(first);
    // Found by its own copy too (what the batch's records hold).
    expect(ids.intern(first.bytes)).toBe(first);
    // The caller may change its array afterwards: the entry keeps what it was given.
    a[31] = 0;
    expect(first.hex).toBe(toHex(id(1, 2, 3, 4)));
    expect(ids.intern(a)).not.toBe(first);
  });

  it('tells apart ids that share the prefix it files them by', () => {
    const ids = new BatchIds();
    const a = ids.intern(id(9, 9, 9, 1));
    const b = ids.intern(id(9, 9, 9, 2));
    expect(a).not.toBe(b);
    expect(ids.intern(id(9, 9, 9, 1))).toBe(a);
    expect(ids.intern(id(9, 9, 9, 2))).toBe(b);
    expect(b.hex).toBe(toHex(id(9, 9, 9, 2)));
  });

  it('makes each slot id once per (key, kind)', () => {
    const ids = new BatchIds();
    const key = id(5);
    const provider = ids.slotId(key, 'provider');
    expect(provider).toBe(`${toHex(key)}:provider`);
    expect(ids.slotId(new Uint8Array(key), 'provider')).toBe(provider);
    expect(ids.slotId(key, 'subscriber')).toBe(`${toHex(key)}:subscriber`);
  });
});
