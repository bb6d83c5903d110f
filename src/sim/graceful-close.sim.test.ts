import { describe, expect, it } from 'vitest';
import { ErrorCode, MeshError } from '../core/errors.js';
import { keyForName, toHex } from '../core/id.js';
import type { DhtNode } from '../core/node/dht-node.js';
import { PeerCore } from '../peer/worker/peer-core.js';
import { holds } from './ledger.js';
import { Swarm } from './swarm.js';

/** PeerCores on the simulated network; every one answers `close.svc` with its own id. */
function coreSwarm(seed: number) {
  const cores = new Map<string, PeerCore>();
  const swarm = new Swarm({
    seed,
    create: (deps) => {
      const core = new PeerCore({
        ...deps,
        handlers: {
          invoke: async (s) => {
            if (s !== 'close.svc') throw new MeshError(ErrorCode.UNKNOWN_SERVICE, s);
            return deps.identity.nodeIdHex;
          },
        },
      });
      cores.set(deps.identity.nodeIdHex, core);
      return { node: core.node, tick: () => core.tick() };
    },
  });
  return { swarm, cores };
}

/** Owners of the subscriber records `node` holds for close.topic. */
const subscribersOf = (node: DhtNode): string[] =>
  node.records.get(keyForName('close.topic'), 'subscriber', node.clock.now()).map((r) => toHex(r.nodeId));

describe('close(): leaving gracefully, on a 40-node simulated mesh', () => {
  it("takes the peer's records out of the DHT within its bound and tells its neighbours; an abrupt close leaves them to their TTL", async () => {
    const { swarm, cores } = coreSwarm(23);
    await swarm.grow(40, 20);
    await swarm.run(20_000);
    const all = [...cores.values()];
    const [leaving, abrupt, staying] = all as [PeerCore, PeerCore, PeerCore];
    const caller = all[20]!;
    for (const p of [leaving, abrupt, staying]) await swarm.settle(p.advertise('close.svc', { ttl: 3_600 }));
    await swarm.settle(leaving.subscribe('close.topic'));
    const providers = async () =>
      (await swarm.settle(caller.discover('close.svc', { forceRefresh: true }))).map((p) => p.nodeId).sort();
    expect(await providers()).toEqual([leaving, abrupt, staying].map((p) => p.node.selfHex).sort());
    // The caller has it cached too: a call after the close must not be sent to it from there.
    const neighbours = [...leaving.node.neighbours.keys()];
    expect(neighbours.length).toBeGreaterThan(0);
    const key = keyForName('close.svc');
    expect(swarm.alive().filter((n) => n !== leaving.node && holds(n, key, leaving.node)).length).toBeGreaterThan(0);
    expect(swarm.alive().filter((n) => subscribersOf(n).includes(leaving.node.selfHex)).length).toBeGreaterThan(0);

    const started = swarm.now;
    await swarm.settle(leaving.close(1_500));
    // Bounded: the removals and goodbyes get 1.5 s of (virtual) time at most.
    expect(swarm.now - started).toBeLessThanOrEqual(1_550);
    swarm.fail(leaving.node, false);
    expect(leaving.stats()['leave.removed']).toBeGreaterThan(0);
    // No node holds its provider record (nor its subscription) any more.
    expect(
      swarm
        .alive()
        .filter((n) => holds(n, key, leaving.node))
        .map((n) => n.selfHex),
    ).toEqual([]);
    expect(swarm.alive().filter((n) => subscribersOf(n).includes(leaving.node.selfHex)).length).toBe(0);
    // Its neighbours were told: it left their tables at once (not kept as a lost contact to probe).
    for (const hex of neighbours) {
      const n = swarm.nodes.get(hex)!;
      expect(n.counters.get('neighbours.left')).toBe(1);
      expect(n.table.get(leaving.node.selfHex)).toBeUndefined();
    }

    // An abrupt close (the tab killed): its record stays until its TTL.
    await swarm.settle(abrupt.close(0));
    swarm.fail(abrupt.node, false);
    await swarm.run(5_000);
    expect(await providers()).toEqual([abrupt, staying].map((p) => p.node.selfHex).sort());

    // A call does not wait on the peer that left: the first provider tried answers, or fails at once.
    for (let i = 0; i < 6; i++) {
      const before = swarm.now;
      const outcome = await swarm.settle(caller.callDetailed('close.svc', null));
      expect(outcome.failed.map((f) => f.nodeId)).not.toContain(leaving.node.selfHex);
      expect(outcome.provider).toBe(staying.node.selfHex);
      if (outcome.failed.length === 0) expect(swarm.now - before).toBeLessThan(1_000);
    }
  });
});
