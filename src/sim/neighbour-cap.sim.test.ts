import { describe, expect, it } from 'vitest';
import { PeerCore } from '../peer/worker/peer-core.js';
import { Swarm } from './swarm.js';

/**
 * createPeer's `maxNeighbours` (and `k`) reach the node through PeerCore. The browser
 * benchmark of multi-hop lookups (bench/hops.bench.ts) runs 48 tabs with k = 2 and a cap
 * of 8: in a mesh that small the default policy gives every lookup one hop (a neighbour
 * holds the record), so this checks on the simulated network that the capped mesh keeps
 * its cap, finds every record, and does take several hops.
 *
 * The network holds every node to its cap as its page does (SimNetwork.capChannels): a
 * connection past it is refused and the dialler told "busy". Before the busy answer and the
 * slot kept free for offers (OFFER_SLOTS), this configuration churned in real tabs: dials to
 * full tabs timed out, live contacts were taken for dead, late joiners found the mesh full.
 */
async function mesh(seed: number, tuning: { k?: number; maxNeighbours?: number }) {
  const cores: PeerCore[] = [];
  const hops: number[] = [];
  const swarm = new Swarm({
    seed,
    create: (deps) => {
      const core = new PeerCore({ ...deps, ...tuning });
      core.node.on((e) => {
        const p = e.type === 'lookup' ? e.progress : undefined;
        if (p?.kind === 'done' && p.answered > 0) hops.push(p.hops);
      });
      cores.push(core);
      return { node: core.node, tick: () => core.tick() };
    },
  });
  await swarm.grow(48, 8);
  await swarm.run(120_000);
  const provider = cores[0]!;
  await swarm.settle(provider.advertise('bench.echo'));
  hops.length = 0;
  let found = 0;
  const createdBefore = swarm.network.stats.connectionsCreated;
  for (const core of cores.slice(1)) {
    const providers = await swarm.settle(core.discover('bench.echo', { forceRefresh: true }), 60_000);
    if (providers.some((p) => p.nodeId === provider.node.selfHex)) found++;
  }
  const createdDuringLookups = swarm.network.stats.connectionsCreated - createdBefore;
  const total = (name: string): number => cores.reduce((n, c) => n + (c.node.stats()[name] ?? 0), 0);
  const churn = {
    failed: total('connections.failed'),
    dead: total('neighbours.dead'),
    busy: total('connections.busy'),
  };
  return { cores, hops, found, createdDuringLookups, churn };
}

describe('a neighbour cap on a 48-node simulated mesh', () => {
  it('with k = 2 and 8 channels: every node keeps at most 8, every discovery finds the provider, routes take several hops', async () => {
    const capped = await mesh(48, { k: 2, maxNeighbours: 8 });
    expect(Math.max(...capped.cores.map((c) => c.node.neighbours.size))).toBeLessThanOrEqual(8);
    expect(capped.found).toBe(47);
    expect(capped.hops.length).toBeGreaterThanOrEqual(47);
    const sorted = [...capped.hops].sort((a, b) => a - b);
    expect(sorted[sorted.length >> 1]).toBeGreaterThanOrEqual(2);
    // Full tabs answered busy, and no dial to one was taken for a failure, nor its node for dead.
    expect(capped.churn.busy).toBeGreaterThan(0);
    expect(capped.churn).toMatchObject({ failed: 0, dead: 0 });
    // The neighbour sets were built: the discoveries opened no connection.
    expect(capped.createdDuringLookups).toBe(0);

    // The same mesh with the defaults: some node keeps more than 8 channels, and a neighbour holds the record.
    const open = await mesh(48, {});
    expect(Math.max(...open.cores.map((c) => c.node.neighbours.size))).toBeGreaterThan(8);
    expect(open.found).toBe(47);
    expect(Math.max(...open.hops)).toBe(1);
  });
});
