import { describe, expect, it } from 'vitest';
import { toHex } from '../id.js';
import type { ReplyInfo } from '../routing/requests.js';
import { ValueHolders } from './value-holders.js';

const id = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const hex = (n: number): string => toHex(id(n));
/** An answer from node `n` that came straight over its own channel. */
const straight = (n: number): ReplyInfo => ({ hops: 1, from: id(n), path: [id(n)], by: hex(n) });
/** An answer from node `n` forwarded by `via` (the neighbour it came over). */
const routed = (n: number, via: number): ReplyInfo => ({ hops: 2, from: id(n), path: [id(n), id(via)], by: hex(via) });

describe('ValueHolders: when a value lookup stops waiting for its other paths', () => {
  const near = (...ns: number[]) => {
    const set = new Set(ns.map(hex));
    return (h: string): boolean => set.has(h);
  };

  it('one near holder answering over its own channel settles it', () => {
    const holders = new ValueHolders();
    expect(holders.settled).toBe(false);
    holders.answered(straight(1), near(1, 2, 3));
    expect(holders.settled).toBe(true);
  });

  it('a holder farther out does not, however it answered', () => {
    const holders = new ValueHolders();
    holders.answered(straight(9), near(1, 2, 3));
    holders.answered(routed(8, 4), near(1, 2, 3));
    expect(holders.settled).toBe(false);
  });

  it('a near holder heard through another node needs a second near holder', () => {
    const holders = new ValueHolders();
    holders.answered(routed(1, 4), near(1, 2, 3));
    expect(holders.settled).toBe(false);
    // The same holder again is not a second one.
    holders.answered(routed(1, 5), near(1, 2, 3));
    expect(holders.settled).toBe(false);
    holders.answered(routed(2, 5), near(1, 2, 3));
    expect(holders.settled).toBe(true);
  });

  it('an answer claiming a near sender but handed over by someone else is not taken as straight', () => {
    const holders = new ValueHolders();
    // One hop, path naming node 1, but it came over node 4's channel: 4 made the sender up.
    holders.answered({ hops: 1, from: id(1), path: [id(1)], by: hex(4) }, near(1, 2, 3));
    expect(holders.settled).toBe(false);
    // Nor one without the channel it came over (a reply this node made itself).
    const own = new ValueHolders();
    own.answered({ hops: 1, from: id(2), path: [id(2)] }, near(1, 2, 3));
    expect(own.settled).toBe(false);
  });
});
