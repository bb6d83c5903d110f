import { describe, expect, it, vi } from 'vitest';
import { seededRandom } from '../environment.js';
import { toHex, type NodeId } from '../id.js';
import { verify } from '../identity.js';
import { RoutingTable } from '../routing/routing-table.js';
import type { Neighbour } from '../context.js';
import { NeighbourSet } from './neighbour-set.js';

/**
 * The neighbour set's review keeps its plan while it only waits for a token to open an
 * optional neighbour (one every five minutes after a burst of two): planning again every
 * five seconds would only re-rank contacts by when they were last heard from, with nothing
 * to dial. Anything the plan depends on makes the next review plan afresh.
 */

/** An id whose first byte is `first` and second `second`; self is all zeros. */
const id = (first: number, second = 0): NodeId => {
  const bytes = new Uint8Array(32);
  bytes[0] = first;
  bytes[1] = second;
  return bytes;
};

function setUp() {
  let now = 0;
  const self = id(0);
  const table = new RoutingTable(self);
  // Siblings: four contacts far deeper than the rest, each needed (required).
  for (let i = 1; i <= 4; i++) table.update(id(0, i), 0);
  // Bucket 0, two contacts in each of its four sub-prefixes (bits 1 and 2): one is required, three only shorten routes.
  [0x80, 0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0].forEach((b, i) => table.update(id(b), i + 1));
  const neighbours = new Map<string, Neighbour>();
  const dialled: string[] = [];
  const set = new NeighbourSet({
    self,
    selfHex: toHex(self),
    k: 20,
    alpha: 3,
    hopTimeoutMs: 5_000,
    clock: { now: () => now, setTimer: () => () => undefined },
    random: seededRandom(1),
    verify,
    count: () => undefined,
    neighbours,
    table,
    transport: { send: () => true, connect: (peer) => void dialled.push(peer), disconnect: () => undefined },
    policy: { maxNeighbours: 64, perBucket: 4, siblings: 4 },
    connectionBudget: 480,
    emit: () => undefined,
  });
  const plans = vi.spyOn(table, 'nonEmptyBuckets');
  /** Review every 5 s (the review interval) up to `until`, opening every dial at once. */
  const runTo = (until: number): void => {
    for (; now <= until; now += 1_000) {
      set.tick(now);
      for (const peer of dialled) if (!neighbours.has(peer)) set.opened(peer, now);
    }
  };
  return { table, neighbours, set, dialled, plans, runTo, at: (t: number) => (now = t) };
}

describe('neighbour set: a plan waiting for a token is kept', () => {
  it('plans once, dials the required and a burst of two optional, then waits without planning again', () => {
    const { dialled, plans, runTo } = setUp();
    runTo(0);
    // 4 siblings and bucket 0's best as required, then 2 of its 3 other sub-prefix leaders.
    expect(dialled).toHaveLength(7);
    runTo(10_000);
    const planned = plans.mock.calls.length;
    runTo(290_000);
    expect(plans.mock.calls.length).toBe(planned);
    expect(dialled).toHaveLength(7);
    // The token comes after five minutes: the last sub-prefix's most recently seen contact.
    runTo(310_000);
    expect(dialled).toHaveLength(8);
    expect(dialled.at(-1)).toBe(toHex(id(0x90)));
  });

  it('when the token comes, plans with the contacts as last heard from then', () => {
    const { dialled, table, runTo } = setUp();
    runTo(10_000);
    expect(dialled).not.toContain(toHex(id(0x80)));
    // 0x80 shares its sub-prefix with 0x90 and was heard from longer ago; now it is heard from
    // (no table change: it is known already), which makes it the sub-prefix's pick.
    table.update(id(0x80), 200_000);
    runTo(310_000);
    expect(dialled).toHaveLength(8);
    expect(dialled.at(-1)).toBe(toHex(id(0x80)));
  });

  it('a closed channel or a new contact makes the next review plan again', () => {
    const { dialled, neighbours, set, table, plans, runTo, at } = setUp();
    runTo(10_000);
    let planned = plans.mock.calls.length;
    at(10_500);
    set.close(dialled[6]!, true);
    expect(neighbours.has(dialled[6]!)).toBe(false);
    runTo(20_000);
    expect(plans.mock.calls.length).toBeGreaterThan(planned);
    runTo(30_000);
    planned = plans.mock.calls.length;
    table.update(id(0x40), 30_500);
    runTo(40_000);
    expect(plans.mock.calls.length).toBeGreaterThan(planned);
    // The new contact is the only one in bucket 1: routing needs it, so it is dialled without a token.
    expect(dialled.at(-1)).toBe(toHex(id(0x40)));
  });
});
