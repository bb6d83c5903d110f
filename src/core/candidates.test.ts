import { describe, expect, it } from 'vitest';
import { Candidates, SELF } from './candidates.js';
import { toHex, type NodeId } from './id.js';

/** An id sharing `prefixBytes` leading bytes with `target`, then `tail`. */
function near(target: NodeId, prefixBytes: number, tail: number): NodeId {
  const id = target.slice();
  id[prefixBytes] = (target[prefixBytes]! ^ 0x80) as number;
  id[31] = tail;
  return id;
}

const target = new Uint8Array(32).fill(7);
const selfHex = toHex(new Uint8Array(32).fill(0xee));

describe('Candidates', () => {
  it('returns as closest only nodes that answered, however close the named ones claim to be', () => {
    const c = new Candidates(target, selfHex);
    const honest = near(target, 2, 1);
    const fake = near(target, 20, 1);
    c.named(toHex(honest), honest, SELF);
    c.named(toHex(fake), fake, 'liar');
    expect(c.closestAny(2)).toEqual([toHex(fake), toHex(honest)]);
    expect(c.closestAnswered(2)).toEqual([]);
    c.answered(toHex(honest), honest);
    expect(c.closestAnswered(2)).toEqual([toHex(honest)]);
    expect(c.settled(1)).toBe(false);
  });

  it('discredits a referrer after two of its ids stay silent and drops the rest of its word unasked', () => {
    const c = new Candidates(target, selfHex);
    const fakes = [1, 2, 3, 4].map((t) => near(target, 20, t));
    for (const f of fakes) c.named(toHex(f), f, 'liar');
    const shared = near(target, 10, 9);
    c.named(toHex(shared), shared, 'liar');
    c.named(toHex(shared), shared, 'honest');
    c.silent(toHex(fakes[0]!));
    expect(c.isDiscredited('liar')).toBe(false);
    c.silent(toHex(fakes[1]!));
    expect(c.isDiscredited('liar')).toBe(true);
    // The other two fakes are gone; the id someone else vouched for stays.
    expect(c.closestAny(10)).toEqual([toHex(shared)]);
    // A discredited referrer's later answers add nothing.
    const more = near(target, 25, 1);
    c.named(toHex(more), more, 'liar');
    expect(c.state(toHex(more))).toBeUndefined();
  });

  it('has at most two ids resting on one referrer in flight, closest first', () => {
    const c = new Candidates(target, selfHex);
    const fakes = [1, 2, 3, 4, 5].map((t) => near(target, 20, t));
    for (const f of fakes) c.named(toHex(f), f, 'liar');
    const real = [1, 2].map((t) => near(target, 3, t));
    for (const r of real) c.named(toHex(r), r, SELF);
    const next = c.nextToAsk(20, 10).map((x) => x.hex);
    expect(next).toHaveLength(4);
    expect(next.filter((h) => fakes.some((f) => toHex(f) === h))).toHaveLength(2);
    expect(next).toEqual(expect.arrayContaining(real.map(toHex)));
    for (const h of next) c.asked(h);
    // The liar's two ids are still being asked: none of its others goes out meanwhile.
    expect(c.nextToAsk(20, 10)).toHaveLength(0);
    const asked = next.filter((h) => fakes.some((f) => toHex(f) === h));
    for (const h of asked) c.answered(h, fakes.find((f) => toHex(f) === h)!);
    expect(c.nextToAsk(20, 10)).toHaveLength(2);
  });

  it('never lists this node as a candidate', () => {
    const c = new Candidates(target, selfHex);
    c.named(selfHex, new Uint8Array(32).fill(0xee), 'x');
    c.answered(selfHex, new Uint8Array(32).fill(0xee));
    expect(c.closestAny(5)).toEqual([]);
  });
});
