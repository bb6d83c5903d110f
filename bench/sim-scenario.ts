/**
 * The seeded run behind bench/sim-fingerprint.ts and bench/sim-heap.ts: a swarm of `n`
 * grown in batches, a minute of virtual time, one record published and looked up 50 times,
 * 30% of the nodes failed silently, 30 s more, and 50 lookups again.
 */
import { keyForName, toHex } from '../src/core/id.js';
import { publishToDht } from '../src/core/registry/dht-registry.js';
import { Swarm } from '../src/sim/swarm.js';

export interface ScenarioRun {
  swarm: Swarm;
  /** Virtual time when the first node joined. */
  startedAt: number;
  /** Lookups (of 100) that found the owner's record. */
  found: number;
  hops: number[];
}

export async function fingerprintScenario(n: number, seed: number): Promise<ScenarioRun> {
  const swarm = new Swarm({ seed });
  const startedAt = swarm.now;
  await swarm.grow(n, Math.max(50, n / 20));
  await swarm.run(60_000);
  const owner = swarm.pick();
  await swarm.settle(publishToDht(owner, 'fingerprint.service', {}, 300));
  let found = 0;
  const hops: number[] = [];
  const lookups = async (): Promise<void> => {
    for (let i = 0; i < 50; i++) {
      const result = await swarm.settle(swarm.pick().findValue(keyForName('fingerprint.service'), 'provider'));
      if (result.records.some((r) => toHex(r.nodeId) === owner.selfHex)) found++;
      hops.push(result.hops);
    }
  };
  await lookups();
  const victims = swarm.alive().filter((x) => x !== owner);
  for (let i = 0; i < Math.round(n * 0.3); i++) swarm.fail(victims[i]!, true);
  await swarm.run(30_000);
  await lookups();
  return { swarm, startedAt, found, hops };
}
