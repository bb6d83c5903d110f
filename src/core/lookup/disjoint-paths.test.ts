import { describe, expect, it } from 'vitest';
import { DisjointPaths } from './disjoint-paths.js';
import { toHex } from '../id.js';

const hop = (b: number) => {
  const id = new Uint8Array(32);
  id[0] = b;
  return { id, idHex: toHex(id) };
};

describe('DisjointPaths', () => {
  const neighbours = [hop(1), hop(2), hop(4), hop(8), hop(16)];
  const dest = new Uint8Array(32);

  it('gives each path a first hop no earlier path used, closest first', () => {
    const paths = new DisjointPaths(() => neighbours);
    expect(paths.fresh(dest, 2).map((n) => n.id[0])).toEqual([1, 2]);
    expect(paths.fresh(dest, 2).map((n) => n.id[0])).toEqual([4, 8]);
    expect(paths.fresh(dest, 5).map((n) => n.id[0])).toEqual([16]);
    expect(paths.fresh(dest, 1)).toEqual([]);
  });

  it('never leaves again through a node seen on a failed or empty path', () => {
    const paths = new DisjointPaths(() => neighbours);
    paths.distrust([hop(1).idHex, hop(4).idHex, 'not-a-neighbour']);
    expect(paths.fresh(dest, 5).map((n) => n.id[0])).toEqual([2, 8, 16]);
    expect(paths.towards(dest, new Set())?.id[0]).toBe(2);
    expect(paths.towards(dest, new Set([hop(2).idHex]))?.id[0]).toBe(8);
    expect(paths.isSuspect(hop(4).idHex)).toBe(true);
  });
});
