import { describe, expect, it } from 'vitest';
import { MAX_NEIGHBOURS } from '../core/constants.js';
import { runFederation } from './federation-scenario.js';

/**
 * Issue #18 in the simulator: newcomers enter through 10 relays whose own peers joined each
 * other in a chain, each relay introducing only the nodes admitted at it. One mesh forms:
 * services are found from nodes that entered through other relays, and the relays' peers
 * carry no more lookup paths than their capped channel count allows (bench:federation
 * runs the same at 10,000 nodes).
 */
describe('a swarm entered through 10 relays that are DHT peers', () => {
  it('finds providers across entry points (>= 99.9% of 1,000 lookups) and the relays do not become hubs', async () => {
    const f = await runFederation({ nodes: 400, relays: 10, services: 50, lookups: 1_000, pings: 300, seed: 1818 });
    console.log(
      `federation, 400 nodes / 10 relays: found ${f.found}/${f.lookups} (${f.acrossRelays} across relays); ` +
        `paths through a relay peer ${(f.entryShare * 100).toFixed(1)}%, through 10 random nodes ${(f.controlShare * 100).toFixed(1)}%; ` +
        `busiest relay peer ${(f.busiestEntry * 100).toFixed(1)}%, busiest other ${(f.busiestOther * 100).toFixed(1)}%; ` +
        `channels relay peers ${f.entryChannels.mean.toFixed(1)}/${f.entryChannels.max}, others ${f.otherChannels.mean.toFixed(1)}/${f.otherChannels.max}`,
    );
    expect(f.nodes).toBe(400);
    expect(f.acrossRelays).toBeGreaterThanOrEqual(990);
    expect(f.found / f.lookups).toBeGreaterThanOrEqual(0.999);
    // No relay's peer is a hub: none is crossed by more paths than the busiest ordinary node
    // beyond what its channels explain (the neighbour-set cap of 64 channels bounds those).
    const degreeRatio = f.entryChannels.max / f.otherChannels.mean;
    expect(f.busiestEntry).toBeLessThanOrEqual(Math.max(f.busiestOther, (degreeRatio * f.controlShare) / 10) * 1.5);
    // The cap: a surplus is trimmed at the next tick, so a channel opened since may stand over it.
    expect(f.entryChannels.max).toBeLessThanOrEqual(MAX_NEIGHBOURS + 2);
    // Together the 10 relays' peers are on a minority of paths: most lookups never touch a relay.
    expect(f.entryShare).toBeLessThan(0.5);
    // About a minute of CPU; the wall clock on a shared 2-core machine can be several times that.
  }, 600_000);
});
