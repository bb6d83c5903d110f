import { describe, expect, it } from 'vitest';
import { CallSlots } from '../../core/registry/call-slots.js';
import type { FromWorker } from '../bridge-protocol.js';
import { GRANT_IDLE_MS, MAX_PAGE_SLOTS, PAGE_CREDIT, PAGE_SLOTS, PageAdmissionGrants } from './page-admissions.js';

/**
 * What the worker grants the provider's page of CALLs straight from a neighbour: slots
 * reserved in the node's bounds, credit given back only for CALLs the worker accounted for,
 * and revocation when the channel closes or the grant goes unused, the slots freed only once
 * the page says it runs nothing under it.
 */

const peer = (i: number): string => i.toString(16).padStart(64, '0');
const P = peer(1);

function grants(neighbours: (p: string) => boolean = () => true) {
  let now = 1_000;
  const slots = new CallSlots();
  const posted: FromWorker[] = [];
  const g = new PageAdmissionGrants({
    reserve: (p, n) => slots.reserve(p, n),
    unreserve: (p, n) => slots.unreserve(p, n),
    admits: neighbours,
    now: () => now,
    post: (m) => void posted.push(m),
  });
  return { g, slots, posted, pass: (ms: number) => void (now += ms) };
}

describe('the grants the worker gives the page', () => {
  it('go to a neighbour that called, once, with slots reserved in the node’s bounds', () => {
    const { g, slots, posted } = grants();
    g.calledByWorker(P);
    g.calledByWorker(P);
    expect(posted).toEqual([{ t: 'allow', peer: P, grant: 1, slots: PAGE_SLOTS, credit: PAGE_CREDIT }]);
    expect(slots.load.calls).toBe(PAGE_SLOTS);
    expect(g.reserved).toBe(PAGE_SLOTS);
  });

  it('go to open neighbours only, and only while their slots fit', () => {
    const { g, slots, posted } = grants((p) => p !== P);
    g.calledByWorker(P);
    expect(posted).toEqual([]);
    const Q = peer(2);
    for (let i = 0; i < 16 - PAGE_SLOTS + 1; i++) slots.take(Q, Q);
    g.calledByWorker(Q);
    expect(posted).toEqual([]);
    expect(g.reserved).toBe(0);
  });

  it('reserve at most MAX_PAGE_SLOTS in all: the other callers keep the rest', () => {
    const { g, slots, posted } = grants();
    const n = MAX_PAGE_SLOTS / PAGE_SLOTS;
    for (let i = 1; i <= n + 3; i++) g.calledByWorker(peer(i));
    expect(posted).toHaveLength(n);
    expect(slots.load.calls).toBe(MAX_PAGE_SLOTS);
  });

  it('give credit back for what the worker accounted for, half of it at a time', () => {
    const { g, posted } = grants();
    g.calledByWorker(P);
    for (let i = 0; i < PAGE_CREDIT / 2 - 1; i++) g.accounted(P);
    expect(posted).toHaveLength(1);
    g.accounted(P);
    expect(posted[1]).toEqual({ t: 'allow', peer: P, grant: 1, slots: PAGE_SLOTS, credit: PAGE_CREDIT / 2 });
    // None for a neighbour without a grant.
    g.accounted(peer(9));
    expect(posted).toHaveLength(2);
  });

  it('end when the channel closes; the slots stay reserved until the page gives the grant back', () => {
    const { g, slots, posted } = grants();
    g.calledByWorker(P);
    g.closed(P);
    expect(posted[1]).toEqual({ t: 'revoke', peer: P, grant: 1 });
    expect(slots.load.calls).toBe(PAGE_SLOTS);
    // Credit no longer comes for it, and a stray or repeated return frees nothing.
    g.accounted(P);
    g.returned(P, 7);
    g.returned(peer(2), 1);
    expect(posted).toHaveLength(2);
    expect(slots.load.calls).toBe(PAGE_SLOTS);
    g.returned(P, 1);
    g.returned(P, 1);
    expect(slots.load.calls).toBe(0);
    expect(g.reserved).toBe(0);
    // Called again later: a new grant.
    g.calledByWorker(P);
    expect(posted[2]).toMatchObject({ t: 'allow', peer: P, grant: 2 });
  });

  it('end when unused for GRANT_IDLE_MS, not while used', () => {
    const { g, posted, pass } = grants();
    g.calledByWorker(P);
    g.calledByWorker(peer(2));
    pass(GRANT_IDLE_MS - 1);
    g.accounted(P);
    g.tick();
    expect(posted).toHaveLength(2);
    pass(1);
    g.tick();
    expect(posted[2]).toEqual({ t: 'revoke', peer: peer(2), grant: 2 });
    pass(GRANT_IDLE_MS);
    g.tick();
    expect(posted[3]).toEqual({ t: 'revoke', peer: P, grant: 1 });
  });

  it('tell the page which services this tab provides, when that changes', () => {
    const { g, posted } = grants();
    g.serving(['b', 'a']);
    g.serving(['a', 'b']);
    g.serving([]);
    expect(posted).toEqual([
      { t: 'serving', services: ['b', 'a'] },
      { t: 'serving', services: [] },
    ]);
  });
});
