import { describe, expect, it } from 'vitest';
import { Candidates, SELF } from './candidates.js';
import { toHex, type NodeId } from '../id.js';

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
  it("takes an answer's ids by their bytes as it would one by one by hex, ids that share their first 32 bits included", () => {
    const one = new Candidates(target, selfHex);
    const all = new Candidates(target, selfHex);
    // Made-up ids that all start like the target, as a liar's do; one of them named twice, and our own id.
    const lies = [1, 2, 3, 4, 5].map((t) => near(target, 20, t));
    const honest = [1, 2, 3].map((t) => near(target, 1, t));
    const self = new Uint8Array(32).fill(0xee);
    const answers: Array<[string, NodeId[]]> = [
      ['liar', [...lies, lies[2]!, self]],
      ['honest', [...honest, lies[4]!]],
      ['other', [honest[0]!, lies[0]!]],
    ];
    for (const [by, ids] of answers) {
      for (const id of ids) one.named(toHex(id), id, by);
      all.namedAll(ids, by);
    }
    const views = (c: Candidates): unknown[] =>
      [...lies, ...honest, self].map((id) => [c.state(toHex(id)), c.referrersOf(toHex(id)).sort()]);
    expect(views(all)).toEqual(views(one));
    expect(all.closestAny(20)).toEqual(one.closestAny(20));
    // Discrediting the liar drops what only it named, from both of its indexes: naming those
    // ids again (now by someone believed) starts them afresh, found by their bytes.
    for (const c of [one, all]) {
      c.silent(toHex(lies[0]!));
      c.silent(toHex(lies[1]!));
    }
    expect(all.isDiscredited('liar')).toBe(true);
    expect(views(all)).toEqual(views(one));
    one.named(toHex(lies[3]!), lies[3]!, 'late');
    all.namedAll([lies[3]!, lies[4]!], 'late');
    one.named(toHex(lies[4]!), lies[4]!, 'late');
    all.namedAll([lies[2]!], 'liar');
    expect(views(all)).toEqual(views(one));
    expect(all.referrersOf(toHex(lies[3]!))).toEqual(['late']);
    expect(all.referrersOf(toHex(lies[4]!)).sort()).toEqual(['honest', 'late']);
    // Hex for any id: a candidate's, or one no candidate has (dropped with the liar's word).
    for (const id of [lies[4]!, lies[2]!, honest[1]!, self]) expect(all.hexOf(id)).toBe(toHex(id));
  });

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
    for (const h of asked)
      c.answered(
        h,
        fakes.find((f) => toHex(f) === h)!,
      );
    expect(c.nextToAsk(20, 10)).toHaveLength(2);
  });

  it('never lists this node as a candidate', () => {
    const c = new Candidates(target, selfHex);
    c.named(selfHex, new Uint8Array(32).fill(0xee), 'x');
    c.answered(selfHex, new Uint8Array(32).fill(0xee));
    expect(c.closestAny(5)).toEqual([]);
  });

  it('no longer believes a node that made an id up about itself: its answer neither counts as "no records" nor makes it a closest node', () => {
    const c = new Candidates(
      target,
      selfHex,
      () => false,
      () => undefined,
      64,
    );
    const liar = near(target, 3, 1);
    const honest = near(target, 2, 2);
    c.answered(toHex(liar), liar);
    c.answered(toHex(honest), honest);
    const stale = near(target, 4, 1);
    const fake = near(target, 20, 1);
    c.named(toHex(stale), stale, toHex(honest));
    c.named(toHex(fake), fake, toHex(liar));
    expect(c.settled(2)).toBe(false);
    // Naming a silent id that is plausible costs a referrer its word, not its own answer.
    c.silent(toHex(stale));
    expect(c.closestAnswered(5)).toEqual([toHex(liar), toHex(honest)]);
    c.silent(toHex(fake));
    expect(c.closestAnswered(5)).toEqual([toHex(honest)]);
    expect(c.settled(2)).toBe(true);
  });

  it('reports a referrer whose silent id was implausibly close to the target as a forger, once, and one whose silent ids were plausible not at all', () => {
    const forgers: string[] = [];
    const c = new Candidates(
      target,
      selfHex,
      () => false,
      (hex) => forgers.push(hex),
      40,
    );
    const plausible = [1, 2].map((t) => near(target, 2, t));
    const madeUp = [1, 2].map((t) => near(target, 6, t));
    for (const p of plausible) c.named(toHex(p), p, 'stale');
    for (const m of madeUp) c.named(toHex(m), m, 'forger');
    // Naming the target itself is no forgery: lookups for a node's own id name it.
    c.named(toHex(target), target, 'other');
    for (const id of [...plausible, ...madeUp, target]) c.silent(toHex(id));
    expect(forgers).toEqual(['forger']);
    expect(c.isDiscredited('other')).toBe(false);
    expect(c.isDiscredited('stale')).toBe(true);
    expect(c.isDiscredited('forger')).toBe(true);
  });

  it('treats nodes an earlier lookup convicted as discredited from the start', () => {
    const convicted = near(target, 3, 3);
    const c = new Candidates(target, selfHex, (hex) => hex === toHex(convicted) || hex === 'convicted');
    const named = near(target, 2, 1);
    c.named(toHex(named), named, 'convicted');
    expect(c.state(toHex(named))).toBeUndefined();
    c.answered(toHex(convicted), convicted);
    expect(c.closestAnswered(3)).toEqual([]);
    expect(c.isDiscredited(SELF)).toBe(false);
  });

  it('believes, for the routing table, nodes that answered and unasked ids two referrers named, not ids asked and still unanswered', () => {
    const c = new Candidates(target, selfHex);
    const [answered, namedTwice, askedTwice, namedOnce] = [1, 2, 3, 4].map((t) => near(target, 2, t)) as [
      NodeId,
      NodeId,
      NodeId,
      NodeId,
    ];
    c.answered(toHex(answered), answered);
    for (const id of [namedTwice, askedTwice]) {
      c.named(toHex(id), id, 'a');
      c.named(toHex(id), id, 'b');
    }
    c.named(toHex(namedOnce), namedOnce, 'a');
    c.asked(toHex(askedTwice));
    expect(c.believable().map(toHex).sort()).toEqual([answered, namedTwice].map(toHex).sort());
  });
});
