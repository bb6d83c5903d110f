import { describe, expect, it } from 'vitest';
import type { NodeId } from '../id.js';
import { ReturnRoutes } from './return-routes.js';

const id = (first: number): NodeId => {
  const bytes = new Uint8Array(32);
  bytes[0] = first;
  return bytes;
};
const firstBytes = (via: NodeId[] | undefined): number[] | undefined => via?.map((v) => v[0]!);

describe('ReturnRoutes: the way back to a node whose signal reached us', () => {
  it('retraces the path, last hop first, and the latest signal wins', () => {
    const routes = new ReturnRoutes();
    routes.remember('a', [id(1), id(2), id(3)], 0);
    expect(firstBytes(routes.via('a', 0))).toEqual([3, 2, 1]);
    routes.remember('a', [id(1), id(4)], 10);
    expect(firstBytes(routes.via('a', 10))).toEqual([4, 1]);
    expect(routes.via('b', 10)).toBeUndefined();
    // A neighbour's own signal came by no path: nothing to retrace (it is answered directly).
    routes.remember('c', [], 10);
    expect(routes.via('c', 10)).toBeUndefined();
  });

  it('forgets a route 30 s after its last signal', () => {
    const routes = new ReturnRoutes();
    routes.remember('a', [id(1)], 1_000);
    expect(routes.via('a', 30_999)).toBeDefined();
    expect(routes.via('a', 31_000)).toBeUndefined();
    expect(routes.size).toBe(0);
  });

  it('keeps at most 256 routes, dropping the one heard from longest ago', () => {
    const routes = new ReturnRoutes();
    for (let i = 0; i < 300; i++) routes.remember(`n${i}`, [id(i & 0xff)], i);
    expect(routes.size).toBe(256);
    expect(routes.via('n0', 300)).toBeUndefined();
    expect(routes.via('n43', 300)).toBeUndefined();
    expect(firstBytes(routes.via('n44', 300))).toEqual([44]);
    expect(firstBytes(routes.via('n299', 300))).toEqual([299 & 0xff]);
  });

  it('does not keep the caller’s array: a later change to it does not move the route', () => {
    const routes = new ReturnRoutes();
    const path = [id(1), id(2)];
    routes.remember('a', path, 0);
    path.push(id(9));
    expect(firstBytes(routes.via('a', 0))).toEqual([2, 1]);
  });
});
