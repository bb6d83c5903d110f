import { describe, expect, it } from 'vitest';
import type { Neighbour } from '../context.js';
import { seededRandom } from '../environment.js';
import { toHex, type NodeId } from '../id.js';
import type { Contact } from '../routing/routing-table.js';
import type { Message } from '../wire/messages.js';
import { newNeighbour } from './neighbour-record.js';
import { SiblingExchange, type SiblingExchangeHost } from './sibling-exchange.js';

const idStarting = (first: number): NodeId => {
  const id = new Uint8Array(32);
  id[0] = first;
  return id;
};

const contact = (id: NodeId): Contact => ({ id, idHex: toHex(id), lastSeen: 0, failures: 0 });

/**
 * A host with `reliable` proven neighbours, its only contacts: records what the exchange
 * does. Its neighbours name nobody; a self-lookup makes `newSibling` (when given) our
 * closest contact.
 */
function hostWith(reliable: number, newSibling?: NodeId) {
  let now = 0;
  const self = idStarting(0x00);
  const neighbours = new Map(
    Array.from({ length: reliable }, (_, i): [string, Neighbour] => {
      const id = idStarting(0x80 + i);
      return [toHex(id), newNeighbour(id, toHex(id), 0)];
    }),
  );
  let closest: Contact[] = [...neighbours.values()].map((n) => contact(n.id));
  const log: string[] = [];
  const noNodes: Message = { type: 'FIND_NODE_REPLY', body: { rid: 1, target: self, nodes: [] } };
  const host: SiblingExchangeHost = {
    self,
    selfHex: toHex(self),
    k: 20,
    alpha: 3,
    hopTimeoutMs: 5_000,
    clock: { now: () => now, setTimer: () => () => undefined },
    random: seededRandom(1),
    verify: () => true,
    count: () => undefined,
    neighbours,
    trust: { verdict: () => 'reliable' },
    table: { closest: () => closest, isLive: () => false, nonEmptyBuckets: () => [0] },
    messenger: {
      newId: () => 1,
      expect: (_rid, _timeout, settle) => settle(noNodes, { hops: 0, from: self, path: [] }),
      sendDirect: (peer) => log.push(`ask ${peer.slice(0, 2)}`) > 0,
      queryPeer: () => Promise.reject(new Error('nobody is named, so nobody is checked')),
    },
    findNode: async () => {
      log.push('self-lookup');
      if (newSibling !== undefined) closest = [contact(newSibling), ...closest];
    },
    contacts: { learn: () => undefined },
    actions: { wantIntroductions: () => log.push('introductions') },
  };
  return {
    host,
    log,
    at: (ms: number) => {
      now = ms;
    },
  };
}

/** Tick the exchange once a second up to `untilMs`; returns when each tick that did something happened. */
async function runUntil(
  exchange: SiblingExchange,
  at: (ms: number) => void,
  log: string[],
  untilMs: number,
): Promise<number[]> {
  const times: number[] = [];
  for (let ms = 0; ms <= untilMs; ms += 1_000) {
    at(ms);
    const before = log.length;
    exchange.tick(ms);
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (log.length > before) times.push(ms);
  }
  return times;
}

describe('SiblingExchange', () => {
  it('asks its proven neighbours when it has enough of them, after one self-lookup a minute after the first exchange', async () => {
    const { host, log, at } = hostWith(4);
    const exchange = new SiblingExchange(host, 4);
    const times = await runUntil(exchange, at, log, 20 * 60_000);
    expect(times.slice(0, 2)).toEqual([30_000, 90_000]);
    expect(log.slice(0, 5)).toEqual(['ask 80', 'ask 81', 'ask 82', 'ask 83', 'self-lookup']);
    // From then on it asks them, slowing down while they name nobody new.
    expect(times.length).toBeGreaterThan(3);
    expect(log.slice(5).every((l) => l.startsWith('ask'))).toBe(true);
    expect(times[3]! - times[2]!).toBe(2 * (times[2]! - times[1]!));
  });

  it('with too few proven neighbours, looks itself up from the second exchange on, every minute while that finds new siblings', async () => {
    const { host, log, at } = hostWith(2, idStarting(0x01));
    const exchange = new SiblingExchange(host, 4);
    const times = await runUntil(exchange, at, log, 3 * 60_000);
    // 30 s: the first exchange asks the two neighbours (still being tested then); 60 s: nothing new, so 60 s later a self-lookup.
    expect(log.slice(0, 3)).toEqual(['ask 80', 'ask 81', 'self-lookup']);
    // It knows three nodes then, fewer than the four siblings it keeps: it asks the relay to introduce others.
    expect(log[3]).toBe('introductions');
    expect(times.slice(0, 2)).toEqual([30_000, 90_000]);
    // It found a sibling: the next one a minute later (which finds nothing new, then slows down).
    expect(times[2]).toBe(150_000);
    expect(log[4]).toBe('self-lookup');
  });

  it('after a self-lookup that leaves it knowing as many nodes as it keeps siblings, does not ask for introductions', async () => {
    const { host, log, at } = hostWith(3, idStarting(0x01));
    const exchange = new SiblingExchange(host, 4);
    await runUntil(exchange, at, log, 3 * 60_000);
    expect(log.filter((l) => l === 'self-lookup').length).toBeGreaterThan(1);
    expect(log).not.toContain('introductions');
  });

  it('slows down, doubling, while self-lookups find nothing new', async () => {
    const { host, log, at } = hostWith(1);
    const exchange = new SiblingExchange(host, 4);
    const times = await runUntil(exchange, at, log, 20 * 60_000);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps.slice(0, 4)).toEqual([60_000, 120_000, 240_000, 480_000]);
    expect(log.filter((l) => l === 'self-lookup').length).toBe(times.length - 1);
  });
});
