import { describe, expect, it } from 'vitest';
import type { NodeId } from '../id.js';
import { Introductions } from './introductions.js';

const id = (first: number): NodeId => {
  const bytes = new Uint8Array(32);
  bytes[0] = first;
  return bytes;
};
const firstBytes = (via: NodeId[] | undefined): number[] | undefined => via?.map((v) => v[0]!);

describe('Introductions: the way to a learned node through the node that named it', () => {
  it('keeps the route as given (our neighbour first, the introducer last) and the latest introduction wins', () => {
    const intros = new Introductions();
    intros.remember('t', [id(1), id(2)], 0);
    expect(firstBytes(intros.via('t', 0))).toEqual([1, 2]);
    intros.remember('t', [id(3)], 10);
    expect(firstBytes(intros.via('t', 10))).toEqual([3]);
    expect(intros.via('u', 10)).toBeUndefined();
    intros.remember('u', [], 10);
    expect(intros.via('u', 10)).toBeUndefined();
  });

  it('forgets an introduction 5 minutes after it was made', () => {
    const intros = new Introductions();
    intros.remember('t', [id(1)], 1_000);
    expect(intros.via('t', 300_999)).toBeDefined();
    expect(intros.via('t', 301_000)).toBeUndefined();
    expect(intros.size).toBe(0);
  });

  it('forgets expired introductions when a new one comes, not only when asked for them', () => {
    const intros = new Introductions();
    intros.remember('t', [id(1)], 0);
    intros.remember('u', [id(2)], 1_000);
    intros.remember('v', [id(3)], 300_000);
    expect(intros.size).toBe(2);
    expect(firstBytes(intros.via('u', 300_000))).toEqual([2]);
  });

  it('holds at most 512 nodes, dropping the oldest introduction first', () => {
    const intros = new Introductions();
    for (let i = 0; i < 600; i++) intros.remember(`n${i}`, [id(i % 256)], i);
    expect(intros.size).toBe(512);
    expect(intros.via('n0', 600)).toBeUndefined();
    expect(intros.via('n87', 600)).toBeUndefined();
    expect(firstBytes(intros.via('n88', 600))).toEqual([88]);
    // Dropped routes' places are reused: every kept node still has its own route.
    for (let i = 88; i < 600; i++) expect(firstBytes(intros.via(`n${i}`, 600))).toEqual([i % 256]);
    // Re-introducing a node makes it the newest again.
    intros.remember('n88', [id(9)], 700);
    intros.remember('extra', [id(9)], 701);
    expect(intros.via('n88', 701)).toBeDefined();
    expect(intros.via('n89', 701)).toBeUndefined();
  });
});
