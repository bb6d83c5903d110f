import { describe, expect, it } from 'vitest';
import { keyForName, toHex } from '../core/id.js';
import type { LookupProgress } from '../core/lookup/lookup.js';
import { colludedSwarm, nodeLookups, publishServices, valueLookups } from './collusion-scenario.js';

/**
 * Issue #7: with 20% of the nodes colluding (src/sim/colluder.ts: they misroute and drop
 * honest envelopes, name only colluders and made-up ids, never store), whether they turn
 * once the swarm is built or are hostile from the first join, publish still reaches the
 * honest closest nodes and lookups still find records.
 */
describe('a seeded 400-node swarm with 20% colluders', () => {
  it('publishes to honest nodes, finds every record, and never hands back an id that did not answer', async () => {
    const setup = await colludedSwarm({ nodes: 400, fraction: 0.2, seed: 2024, activeFromStart: false });
    const { swarm, coalition, honest } = setup;
    expect(coalition.members.size).toBe(80);

    const services = await publishServices(setup, 20);
    // Most of the 20 closest honest nodes hold each record, despite colluders among the closest.
    const holders = services.honestHolders;
    expect(Math.min(...holders)).toBeGreaterThanOrEqual(5);
    expect(holders.reduce((a, b) => a + b, 0) / holders.length).toBeGreaterThanOrEqual(12);

    // Value lookups: count also how many would have failed on their first paths alone.
    let found = 0;
    let firstRoundEmpty = 0;
    const lookups = 200;
    for (let done = 0; done < lookups; done += 20) {
      await swarm.settle(
        Promise.all(
          Array.from({ length: 20 }, async () => {
            const name = services.names[Math.floor(swarm.random.next() * services.names.length)]!;
            let firstPathsFound = false;
            let pathsSeen = 0;
            const onProgress = (p: LookupProgress): void => {
              if (p.kind !== 'path-reply' && p.kind !== 'path-failed') return;
              if (++pathsSeen <= 3 && p.kind === 'path-reply' && p.records > 0) firstPathsFound = true;
            };
            const result = await swarm.pick(honest).findValue(keyForName(name), 'provider', onProgress);
            if (!firstPathsFound) firstRoundEmpty++;
            if (result.records.some((r) => toHex(r.nodeId) === services.owners.get(name)!.selfHex)) found++;
            for (const r of result.records) expect(coalition.has(r.nodeId)).toBe(false);
          }),
        ),
        600_000,
      );
    }
    // The adversary bites: it swallowed honest envelopes and answered with poison, and some
    // lookups' first paths came back empty (fewer since neighbours are vetted: the
    // colluders lose their channels, so first paths rarely start through one).
    expect(coalition.counters.poisoned).toBeGreaterThan(0);
    expect(coalition.counters.dropped).toBeGreaterThan(0);
    expect(firstRoundEmpty).toBeGreaterThan(0);
    expect(found / lookups).toBeGreaterThanOrEqual(0.995);

    // Node lookups as a STORE runs them: only nodes that answered, so no made-up id, and the
    // true closest honest node among them. Before answers said which named nodes their
    // sender holds a channel to, both queries to that node often walked greedily into the
    // same colluder next to it.
    const nodes = await nodeLookups(setup, 200);
    expect(nodes.unproven).toBe(0);
    expect(nodes.success).toBeGreaterThanOrEqual(0.995);

    // A STORE's targets are real nodes: every id a publish lookup returns exists in the swarm.
    const key = keyForName(services.names[0]!);
    const result = await swarm.settle(swarm.pick(honest).findNode(key), 600_000);
    expect(result.closest.length).toBeGreaterThan(0);
    for (const hex of result.closest) expect(swarm.nodes.has(hex)).toBe(true);
  }, 300_000);

  it('hostile from the first join: honest nodes convict the colluders, never each other, and still find every record', async () => {
    const setup = await colludedSwarm({ nodes: 400, fraction: 0.2, seed: 2025, activeFromStart: true });
    const { swarm, coalition, honest } = setup;
    const services = await publishServices(setup, 20);
    const values = await valueLookups(setup, services, 200);

    // Convictions (liars.ts) fall on colluders only, and the colluders lose their hold on honest channels.
    let colludersConvicted = 0;
    let honestConvicted = 0;
    let channels = 0;
    let toColluders = 0;
    for (const judge of honest) {
      for (const other of swarm.nodes.values()) {
        if (!judge.liars.has(other.selfHex, swarm.now)) continue;
        if (coalition.has(other.selfHex)) colludersConvicted++;
        else honestConvicted++;
      }
      for (const peer of judge.neighbours.keys()) {
        channels++;
        if (coalition.has(peer)) toColluders++;
      }
    }
    expect(honestConvicted).toBe(0);
    expect(colludersConvicted).toBeGreaterThan(honest.length);
    // No more than their share of the nodes (without convictions they held 35% of the channels).
    expect(toColluders / channels).toBeLessThanOrEqual(0.2);
    expect(values.success).toBeGreaterThanOrEqual(0.995);
  }, 300_000);

  it('hostile from the first join and naming no made-up ids (nothing to convict on): vetted neighbours keep lookups succeeding', async () => {
    const setup = await colludedSwarm({ nodes: 400, fraction: 0.2, seed: 2026, activeFromStart: true, fakes: 'none' });
    const { swarm, coalition, honest } = setup;
    const services = await publishServices(setup, 20);
    const values = await valueLookups(setup, services, 200);
    const nodes = await nodeLookups(setup, 200);

    let channels = 0;
    let toColluders = 0;
    let colludersDistrusted = 0;
    for (const judge of honest) {
      for (const peer of judge.neighbours.keys()) {
        channels++;
        if (coalition.has(peer)) toColluders++;
      }
      for (const c of coalition.members) if (judge.vetting.trust.isDistrusted(c, swarm.now)) colludersDistrusted++;
      // Nobody is convicted: there is no forgery to convict on.
      for (const other of swarm.nodes.values()) expect(judge.liars.has(other.selfHex, swarm.now)).toBe(false);
    }
    // Without vetting, colluders held 35% of honest channels here and value lookups met 77-78%.
    expect(colludersDistrusted).toBeGreaterThan(honest.length);
    expect(toColluders / channels).toBeLessThanOrEqual(0.05);
    expect(values.success).toBeGreaterThanOrEqual(0.995);
    expect(nodes.unproven).toBe(0);
    expect(nodes.success).toBeGreaterThanOrEqual(0.995);
  }, 300_000);
});
