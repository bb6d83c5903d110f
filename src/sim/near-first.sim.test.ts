import { describe, expect, it } from 'vitest';
import { compareDistance, keyForName, toHex, type NodeId } from '../core/id.js';
import type { DhtNode } from '../core/node/dht-node.js';
import { publishToDht } from '../core/registry/dht-registry.js';
import { Swarm } from './swarm.js';

/**
 * A value lookup whose key's last lookup ended at a neighbour's straight answer asks that
 * neighbour alone first (lookup/lookup-run.ts, round; lookup/recent-holders.ts): its answer with
 * records ends the round, so the other paths need not leave. When it is silent, they leave a few
 * of its round trips later and find the records all the same, and the next lookup sends every
 * path at once; a first lookup of a key always does.
 */

/** A swarm where `svc.near` has three providers, and a node whose nearest neighbour to the key is the key's nearest node. */
async function swarmWithNearNeighbour(seed: number) {
  const swarm = new Swarm({ seed, network: { minLatencyMs: 5, maxLatencyMs: 30 } });
  await swarm.grow(60, 20);
  await swarm.run(20_000);
  const key = keyForName('svc.near');
  const providers = swarm.alive().slice(0, 3);
  for (const p of providers) await swarm.settle(publishToDht(p, 'svc.near', {}, 3_600));
  await swarm.run(5_000);
  const byDistance = (a: DhtNode, b: DhtNode): number => compareDistance(key, a.self, b.self);
  const nearest = [...swarm.alive()].sort(byDistance)[0]!;
  // A requester holding a channel to the nearest node and to others, none of them nearer.
  const requester = swarm
    .alive()
    .find(
      (n) => n !== nearest && !providers.includes(n) && n.neighbours.has(nearest.selfHex) && n.neighbours.size > 3,
    )!;
  return { swarm, key, providers, nearest, requester };
}

async function lookUp(swarm: Swarm, node: DhtNode, key: NodeId) {
  const started: string[] = [];
  let startedAt: number | undefined;
  let doneAt: number | undefined;
  const result = await swarm.settle(
    node.findValue(key, 'provider', (p) => {
      startedAt ??= node.clock.now();
      if (p.kind === 'path-start') started.push(p.via);
      if (p.kind === 'done') doneAt = node.clock.now();
    }),
  );
  return { result, started, tookMs: (doneAt ?? NaN) - (startedAt ?? NaN) };
}

describe('a value lookup asks the neighbour that ended the last one alone first', () => {
  it('ends at its answer with every provider, one path sent', async () => {
    const { swarm, key, providers, nearest, requester } = await swarmWithNearNeighbour(71);
    expect(requester).toBeDefined();
    const first = await lookUp(swarm, requester, key);
    // The first lookup of the key sends every path: this node knows no holder yet.
    expect(first.started.length).toBeGreaterThan(1);
    expect(requester.stats()['lookups.nearFirst'] ?? 0).toBe(0);
    const again = await lookUp(swarm, requester, key);
    expect(requester.stats()['lookups.nearFirst']).toBe(1);
    expect(again.started).toEqual([nearest.selfHex]);
    expect(again.result.paths).toBe(1);
    const all = providers.map((p) => p.selfHex).sort();
    expect(again.result.records.map((r) => toHex(r.nodeId)).sort()).toEqual(all);
    expect(first.result.records.map((r) => toHex(r.nodeId)).sort()).toEqual(all);
  });

  it('sends the other paths when it is silent, still finds every provider, and forgets it', async () => {
    const { swarm, key, providers, nearest, requester } = await swarmWithNearNeighbour(72);
    expect(requester).toBeDefined();
    await lookUp(swarm, requester, key);
    // Failed silently: its channels stay open and swallow the FIND_VALUE, no acknowledgement comes.
    swarm.fail(nearest, true);
    const { result, started } = await lookUp(swarm, requester, key);
    expect(started[0]).toBe(nearest.selfHex);
    expect(started.length).toBeGreaterThan(1);
    expect(result.records.map((r) => toHex(r.nodeId)).sort()).toEqual(providers.map((p) => p.selfHex).sort());
    // The next one does not wait on it again.
    const next = await lookUp(swarm, requester, key);
    expect(next.started.length).toBeGreaterThan(1);
    expect(requester.stats()['lookups.nearFirst']).toBe(1);
  });
});
