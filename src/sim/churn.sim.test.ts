import { describe, expect, it } from 'vitest';
import { Churn } from './churn.js';
import { Swarm } from './swarm.js';
import { Weibull } from './weibull.js';

const MINUTE = 60_000;
const TTL_S = 300;

describe('continuous churn on a seeded 300-node swarm (Weibull sessions, shape 0.5, median 10 min)', () => {
  it('lookups succeed ≥ 99.5%; no record outlives its TTL after its owner left; nothing forged or expired is served', async () => {
    const swarm = new Swarm({ seed: 300 });
    await swarm.grow(300, 50);
    await swarm.run(60_000);
    const churn = new Churn(swarm, {
      nodes: 300,
      session: new Weibull(0.5, 10 * MINUTE),
      providerShare: 0.1,
      ttlS: TTL_S,
      lookupsPerSecond: 3,
      departedLookupShare: 0.1,
    });
    churn.start();
    const traffic = await churn.run(15 * MINUTE);
    await churn.finish();
    const f = churn.figures;
    console.log(
      `churn 300: ${JSON.stringify({ ...f, failures: f.failures.length })} traffic ${JSON.stringify({ ...traffic, bytesByType: traffic.bytesByType.slice(0, 6) })}`,
    );

    // The churn was real and N stayed near steady.
    expect(f.departures).toBeGreaterThan(80);
    expect(f.joins).toBeGreaterThan(80);
    expect(f.liveMin).toBeGreaterThan(240);
    expect(f.liveMax).toBeLessThan(360);

    expect(f.lookups).toBeGreaterThan(2_000);
    expect(f.found / f.lookups).toBeGreaterThanOrEqual(0.995);

    // Lookups did ask for departed providers, and stores were swept throughout.
    expect(f.departedLookups).toBeGreaterThan(50);
    expect(f.sweeps).toBeGreaterThanOrEqual(30);
    expect(f.maxServedAfterLeaveMs).toBeLessThanOrEqual(TTL_S * 1000);
    expect(f.maxHeldAfterLeaveMs).toBeLessThanOrEqual(TTL_S * 1000);
    expect(f.maxHeldPastTtlMs).toBeLessThanOrEqual(churn.ledger.graceMs);
    expect(f.heldForged).toBe(0);
    expect(churn.ledger.violations).toEqual([]);
  });
});
