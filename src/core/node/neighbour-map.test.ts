import { describe, expect, it } from 'vitest';
import { seededRandom } from '../environment.js';
import { prefixOf, toHex, type NodeId } from '../id.js';
import { hasNeighbour, NeighbourMap } from './neighbour-map.js';
import { newNeighbour } from './neighbour-record.js';

/** The map's array view, as (hex, prefix) pairs sorted by hex, against what the Map itself holds. */
function views(map: NeighbourMap): { array: string[]; map: string[] } {
  const array = map.hops.map((n, i) => `${n.idHex}/${map.prefixes[i]}`).sort();
  const held = [...map.values()].map((n) => `${n.idHex}/${prefixOf(n.id) | 0}`).sort();
  return { array, map: held };
}

describe('NeighbourMap', () => {
  it('keeps its array of records and prefixes in step with the Map through sets, replacements, deletes and clear', () => {
    const rnd = seededRandom(5);
    const map = new NeighbourMap();
    const ids: NodeId[] = [];
    // Past the initial capacity of the prefixes, so they grow; ids whose first bit is set give negative prefixes.
    for (let i = 0; i < 40; i++) {
      const id = rnd.bytes(32);
      ids.push(id);
      map.set(toHex(id), newNeighbour(id, toHex(id), i));
    }
    let v = views(map);
    expect(v.array).toEqual(v.map);
    expect(map.hops.length).toBe(40);
    // A new record for an open peer replaces the old one in both views.
    const again = newNeighbour(ids[3]!, toHex(ids[3]!), 99);
    map.set(toHex(ids[3]!), again);
    expect(map.hops.filter((n) => n.idHex === toHex(ids[3]!))).toEqual([again]);
    for (const at of [0, 39, 17, 18, 5]) expect(map.delete(toHex(ids[at]!))).toBe(true);
    expect(map.delete(toHex(ids[0]!))).toBe(false);
    expect(map.delete('not a peer')).toBe(false);
    v = views(map);
    expect(v.array).toEqual(v.map);
    expect(map.hops.length).toBe(35);
    expect(map.size).toBe(35);
    map.clear();
    expect(map.hops).toEqual([]);
    expect(map.size).toBe(0);
    map.set(toHex(ids[1]!), newNeighbour(ids[1]!, toHex(ids[1]!), 0));
    v = views(map);
    expect(v.array).toEqual(v.map);
    expect(v.array.length).toBe(1);
  });

  it('tells an open peer by its bytes, not by a shared prefix, and a plain Map by its hex', () => {
    const rnd = seededRandom(6);
    const id = rnd.bytes(32);
    const twin = id.slice();
    twin[31] = twin[31]! ^ 1;
    const map = new NeighbourMap();
    map.set(toHex(id), newNeighbour(id, toHex(id), 0));
    expect(map.hasId(id)).toBe(true);
    expect(map.hasId(twin)).toBe(false);
    expect(hasNeighbour(map, id)).toBe(true);
    expect(hasNeighbour(map, twin)).toBe(false);
    const plain = new Map([[toHex(id), newNeighbour(id, toHex(id), 0)]]);
    expect(hasNeighbour(plain, id)).toBe(true);
    expect(hasNeighbour(plain, twin)).toBe(false);
  });
});
