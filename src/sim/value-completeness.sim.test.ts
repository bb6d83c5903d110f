import { describe, expect, it } from 'vitest';
import { keyForName, toHex } from '../core/id.js';
import { publishToDht } from '../core/registry/dht-registry.js';
import { Swarm } from './swarm.js';

/**
 * A value lookup stops waiting for its slower paths once one of the nodes nearest the key
 * has answered (lookup/value-holders.ts). What it returns must not shrink for that: the
 * union of every provider's record. The holders of a key change most when nodes join
 * nearer to it than those that took the STOREs, and when holders leave: this swarm has
 * providers advertise at two times, then grows by half and loses some nodes, and replication
 * runs, before every node looks the key up.
 */
describe('forced discovery on a simulated swarm: complete, and done without the slowest path', () => {
  it('every lookup returns every provider, and many end at the first answer', async () => {
    const swarm = new Swarm({ seed: 2020, network: { minLatencyMs: 5, maxLatencyMs: 60 } });
    await swarm.grow(120, 30);
    await swarm.run(20_000);
    const key = keyForName('svc.shared');
    const providers = new Set<string>();
    const advertise = async (owners: typeof nodes): Promise<void> => {
      for (const owner of owners) {
        await swarm.settle(publishToDht(owner, 'svc.shared', {}, 3_600));
        providers.add(owner.selfHex);
      }
    };
    const nodes = swarm.alive();
    await advertise(nodes.slice(0, 5));
    await swarm.run(30_000);
    await advertise(nodes.slice(5, 10));
    await swarm.grow(60, 30);
    for (const gone of swarm.alive().slice(20, 30)) swarm.fail(gone, false);
    await swarm.run(30_000);

    let complete = 0;
    let cut = 0;
    const lookups = swarm.alive();
    for (const node of lookups) {
      let firstRecordAt: number | undefined;
      let doneAt: number | undefined;
      const result = await swarm.settle(
        node.findValue(key, 'provider', (p) => {
          if (p.kind === 'path-reply' && p.records > 0) firstRecordAt ??= node.clock.now();
          if (p.kind === 'done') doneAt = node.clock.now();
        }),
      );
      const found = new Set(result.records.map((r) => toHex(r.nodeId)));
      if ([...providers].every((p) => found.has(p))) complete++;
      // Ended at the answer that brought the first records, with paths still out: the wait was cut.
      if (result.answered < result.paths && doneAt === firstRecordAt) cut++;
    }
    expect(providers.size).toBe(10);
    expect(complete).toBe(lookups.length);
    // The rule is in use: without it a lookup that has records waits at least 20 ms more for its other paths.
    expect(cut).toBeGreaterThan(lookups.length / 10);
  });
});
