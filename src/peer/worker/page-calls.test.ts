import { describe, expect, it } from 'vitest';
import { manualClock } from '../../core/manual-clock.js';
import { seededRandom } from '../../core/environment.js';
import { PendingRequests } from '../../core/routing/requests.js';
import type { FromWorker } from '../bridge-protocol.js';
import { CallsFromPage, RESERVED_RIDS } from './page-calls.js';

/**
 * What the worker keeps the page told of for calls the page starts (page-calls.ts): request
 * ids no request of the node can take, the providers each service's calls draw from (changes
 * only), and the outcome of each call the page started, whichever of notice and ask comes first.
 */

const reply = { type: 'REPLY', body: { rid: 0, ok: true, result: 1 } } as const;
const info = { hops: 0, from: new Uint8Array(32), path: [] };

function setUp() {
  const clock = manualClock();
  // Few ids to pick from, so that the node would pick a reserved one often if it could.
  let n = 0;
  const requests = new PendingRequests(clock, { next: () => (n++ % 64) / 4294967296, bytes: seededRandom(1).bytes });
  const posted: FromWorker[] = [];
  const counts: Record<string, number> = {};
  const calls = new CallsFromPage({
    messenger: requests,
    count: (name) => void (counts[name] = (counts[name] ?? 0) + 1),
    post: (m) => posted.push(m),
  });
  const rids = (): number[] => posted.flatMap((m) => (m.t === 'rids' ? m.rids : []));
  return { clock, requests, posted, counts, calls, rids };
}

describe("the worker's side of calls the page starts", () => {
  it('reserves ids that no request of the node takes, for as long as the page holds them', () => {
    const { clock, requests, calls, rids } = setUp();
    calls.grant(RESERVED_RIDS);
    expect(new Set(rids()).size).toBe(RESERVED_RIDS);
    clock.advance(60 * 60_000); // reservations outlive their own timers
    for (let i = 0; i < 8; i++) expect(rids()).not.toContain(requests.newId());
    const [first] = rids();
    expect(calls.take(first!)).toBe(true);
    expect(requests.has(first!)).toBe(false); // the call's own wait takes its place
    expect(calls.take(first!)).toBe(false); // once
    expect(calls.take(123_456)).toBe(false); // never given
    // Handed back in a batch once the page holds half of them, never more than it may hold.
    for (const rid of rids().slice(1, RESERVED_RIDS / 2 - 1)) calls.take(rid);
    expect(rids().length).toBe(RESERVED_RIDS);
    calls.take(rids()[RESERVED_RIDS / 2 - 1]!);
    expect(rids().length).toBe(RESERVED_RIDS + RESERVED_RIDS / 2);
  });

  it('counts a reply naming a reserved id as unmatched, and keeps the id reserved', () => {
    const { requests, counts, calls, rids } = setUp();
    calls.grant(1);
    const [rid] = rids();
    expect(requests.settle(rid!, { ...reply, body: { ...reply.body, rid: rid! } }, info)).toBe(true);
    expect(counts['replies.unmatched']).toBe(1);
    expect(requests.has(rid!)).toBe(true);
    expect(calls.take(rid!)).toBe(true);
  });

  it("tells the page only of changes to a service's providers", () => {
    const { posted, calls } = setUp();
    calls.cached('svc', ['a', 'b'], 1_000);
    calls.cached('svc', ['a', 'b'], 1_000);
    calls.cached('svc', ['a'], 1_000);
    calls.forgot('a', 'svc');
    calls.forgot('b');
    expect(posted).toEqual([
      { t: 'providers', service: 'svc', ids: ['a', 'b'], until: 1_000 },
      { t: 'providers', service: 'svc', ids: ['a'], until: 1_000 },
      { t: 'forget', peer: 'a', service: 'svc' },
      { t: 'forget', peer: 'b' },
    ]);
  });

  it("hands a call's outcome over whether the page asks before or after the worker started it", async () => {
    const { calls } = setUp();
    calls.started(1, Promise.resolve({ ok: true, value: 'early' }));
    expect(await calls.result(1)).toEqual({ ok: true, value: 'early' });
    const asked = calls.result(2);
    calls.started(2, Promise.resolve({ ok: true, value: 'late' }));
    expect(await asked).toEqual({ ok: true, value: 'late' });
  });
});
