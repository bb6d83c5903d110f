import { describe, expect, it } from 'vitest';
import type { DhtNode } from './dht-node.js';
import { toHex, type NodeId } from '../id.js';
import { SiblingExchange } from './sibling-exchange.js';

const idStarting = (first: number): NodeId => {
  const id = new Uint8Array(32);
  id[0] = first;
  return id;
};

/**
 * A node stand-in with `reliable` proven neighbours, its only contacts: records what the
 * exchange does. Its neighbours name nobody; a self-lookup makes `newSibling` (when given)
 * our closest contact.
 */
function nodeWith(reliable: number, newSibling?: NodeId) {
  let now = 0;
  const self = idStarting(0x00);
  const neighbours = new Map(Array.from({ length: reliable }, (_, i) => {
    const id = idStarting(0x80 + i);
    return [toHex(id), { id, idHex: toHex(id) }] as const;
  }));
  let closest: Array<{ id: NodeId; idHex: string }> = [...neighbours.values()];
  const log: string[] = [];
  const node = {
    self,
    neighbours,
    clock: { now: () => now },
    vetting: { trust: { verdict: () => 'reliable' } },
    table: { closest: () => closest, get: () => undefined, nonEmptyBuckets: () => [0] },
    messenger: {
      newId: () => 1,
      expect: (_rid: number, _timeout: number, settle: (reply: unknown) => void) => settle({ type: 'FIND_NODE_REPLY', body: { nodes: [] } }),
      sendDirect: (peer: string) => log.push(`ask ${peer.slice(0, 2)}`),
    },
    findNode: async () => {
      log.push('self-lookup');
      if (newSibling !== undefined) closest = [{ id: newSibling, idHex: toHex(newSibling) }, ...closest];
      return { closest: [] };
    },
    count: () => undefined,
    wantIntroductions: () => log.push('introductions'),
  };
  return { node: node as unknown as DhtNode, log, at: (ms: number) => { now = ms; } };
}

/** Tick the exchange once a second up to `untilMs`; returns when each tick that did something happened. */
async function runUntil(exchange: SiblingExchange, at: (ms: number) => void, log: string[], untilMs: number): Promise<number[]> {
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
    const { node, log, at } = nodeWith(4);
    const exchange = new SiblingExchange(node, 4);
    const times = await runUntil(exchange, at, log, 20 * 60_000);
    expect(times.slice(0, 2)).toEqual([30_000, 90_000]);
    expect(log.slice(0, 5)).toEqual(['ask 80', 'ask 81', 'ask 82', 'ask 83', 'self-lookup']);
    // From then on it asks them, slowing down while they name nobody new.
    expect(times.length).toBeGreaterThan(3);
    expect(log.slice(5).every((l) => l.startsWith('ask'))).toBe(true);
    expect(times[3]! - times[2]!).toBe(2 * (times[2]! - times[1]!));
  });

  it('with too few proven neighbours, looks itself up from the second exchange on, every minute while that finds new siblings', async () => {
    const { node, log, at } = nodeWith(2, idStarting(0x01));
    const exchange = new SiblingExchange(node, 4);
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
    const { node, log, at } = nodeWith(3, idStarting(0x01));
    const exchange = new SiblingExchange(node, 4);
    await runUntil(exchange, at, log, 3 * 60_000);
    expect(log.filter((l) => l === 'self-lookup').length).toBeGreaterThan(1);
    expect(log).not.toContain('introductions');
  });

  it('slows down, doubling, while self-lookups find nothing new', async () => {
    const { node, log, at } = nodeWith(1);
    const exchange = new SiblingExchange(node, 4);
    const times = await runUntil(exchange, at, log, 20 * 60_000);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps.slice(0, 4)).toEqual([60_000, 120_000, 240_000, 480_000]);
    expect(log.filter((l) => l === 'self-lookup').length).toBe(times.length - 1);
  });
});
