import { describe, expect, it } from 'vitest';
import { manualClock } from '../../core/manual-clock.js';
import { seededRandom } from '../../core/environment.js';
import { DEFAULT_FLOOD_LIMITS, OUTBOUND_SHARE } from '../../core/defence/rate-limit.js';
import { PAGE_CALL_BUDGET, PageCalls } from './page-calls.js';

/**
 * The page draws a call's first provider from the worker's copy as the worker would (random:
 * uniformly; first: the lowest id), only while the worker's cache serves that copy, and sends
 * the CALL itself only to an open neighbour with an id the worker reserved.
 */

const [A, B, C] = ['a', 'b', 'c'].map((x) => x.repeat(64)) as [string, string, string];

function setUp() {
  const clock = manualClock();
  const calls = new PageCalls(clock, seededRandom(5));
  calls.told({ t: 'providers', service: 'svc', ids: [C, A, B], until: 1_000 });
  return { clock, calls };
}

describe("the page's side of calls it starts", () => {
  it('draws uniformly for random, the lowest id for first', () => {
    const { calls } = setUp();
    const drawn = new Map<string, number>();
    for (let i = 0; i < 3_000; i++) {
      const p = calls.draw('svc', 'random')!;
      drawn.set(p, (drawn.get(p) ?? 0) + 1);
    }
    for (const p of [A, B, C]) expect(drawn.get(p)).toBeGreaterThan(850);
    expect(calls.draw('svc', 'first')).toBe(A);
  });

  it('draws nothing once the copy is past its time, for an unknown service, or with nobody left', () => {
    const { clock, calls } = setUp();
    expect(calls.draw('other', undefined)).toBeUndefined();
    calls.told({ t: 'forget', peer: A, service: 'svc' });
    calls.told({ t: 'forget', peer: B });
    expect(calls.draw('svc', 'random')).toBe(C);
    calls.told({ t: 'forget', peer: C });
    expect(calls.draw('svc', 'random')).toBeUndefined();
    calls.told({ t: 'providers', service: 'svc', ids: [A], until: 1_000 });
    clock.advance(1_000);
    expect(calls.draw('svc', 'random')).toBeUndefined();
  });

  it('sends from here only to an open neighbour, with ids the worker reserved, each once', () => {
    const { calls } = setUp();
    expect(calls.ridFor(A)).toBeUndefined();
    calls.told({ t: 'neighbour', peer: A, open: true });
    expect(calls.ridFor(A)).toBeUndefined(); // no id yet
    calls.told({ t: 'rids', rids: [7, 8] });
    const first = calls.ridFor(A)!;
    const second = calls.ridFor(A)!;
    expect(new Set([first, second])).toEqual(new Set([7, 8]));
    expect(calls.ridFor(A)).toBeUndefined();
    calls.unused(second);
    expect(calls.ridFor(A)).toBe(second);
    calls.unused(second);
    calls.told({ t: 'neighbour', peer: A, open: false });
    expect(calls.ridFor(A)).toBeUndefined();
    calls.told({ t: 'neighbour', peer: B, open: true });
    calls.closed(B);
    expect(calls.ridFor(B)).toBeUndefined();
  });

  it("keeps its own CALLs to a neighbour within the share of the neighbour's budget the worker leaves", () => {
    const call = DEFAULT_FLOOD_LIMITS.classes.call;
    expect(PAGE_CALL_BUDGET.perSecond).toBeCloseTo(call.perSecond * (1 - OUTBOUND_SHARE));
    expect(PAGE_CALL_BUDGET.burst).toBeCloseTo(call.burst * (1 - OUTBOUND_SHARE));
    const { clock, calls } = setUp();
    calls.told({ t: 'neighbour', peer: A, open: true });
    calls.told({ t: 'rids', rids: Array.from({ length: 2_000 }, (_, i) => i) });
    let sent = 0;
    while (calls.ridFor(A) !== undefined) sent++;
    expect(sent).toBe(PAGE_CALL_BUDGET.burst);
    clock.advance(1_000);
    sent = 0;
    while (calls.ridFor(A) !== undefined) sent++;
    expect(sent).toBe(PAGE_CALL_BUDGET.perSecond);
  });
});
