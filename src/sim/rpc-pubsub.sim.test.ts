import { describe, expect, it } from 'vitest';
import { ErrorCode, MeshError } from '../core/errors.js';
import { PeerCore } from '../peer/worker/peer-core.js';
import { Swarm } from './swarm.js';

/** PeerCores on the simulated network, each with its own handlers and received messages. */
function coreSwarm(seed: number) {
  const cores = new Map<string, PeerCore>();
  const handlers = new Map<string, Map<string, (args: unknown) => unknown>>();
  const inbox = new Map<string, Array<{ ids: number[]; topic: string; payload: unknown }>>();
  const swarm = new Swarm({
    seed,
    create: (deps) => {
      const mine = new Map<string, (args: unknown) => unknown>();
      const received: Array<{ ids: number[]; topic: string; payload: unknown }> = [];
      const core = new PeerCore({
        ...deps,
        handlers: {
          invoke: async (s, args) => {
            const h = mine.get(s);
            if (!h) throw new MeshError(ErrorCode.UNKNOWN_SERVICE, s);
            return h(args);
          },
        },
        sink: { deliver: (ids, topic, payload) => received.push({ ids, topic, payload }) },
      });
      cores.set(deps.identity.nodeIdHex, core);
      handlers.set(deps.identity.nodeIdHex, mine);
      inbox.set(deps.identity.nodeIdHex, received);
      return { node: core.node, tick: () => core.tick() };
    },
  });
  return { swarm, cores, handlers, inbox };
}

describe('RPC and pub/sub on a 60-node simulated mesh', () => {
  it('round-robin spreads calls evenly; failover survives a provider that left; errors keep their codes', async () => {
    const { swarm, cores, handlers } = coreSwarm(11);
    await swarm.grow(60, 20);
    await swarm.run(10_000);
    const all = [...cores.values()];
    const providers = all.slice(0, 3);
    const caller = all[10]!;
    const served = new Map<string, number>();
    for (const p of providers) {
      handlers.get(p.node.selfHex)!.set('calc.add', (args) => {
        served.set(p.node.selfHex, (served.get(p.node.selfHex) ?? 0) + 1);
        const { a, b } = args as { a: number; b: number };
        return a + b;
      });
      await swarm.settle(p.advertise('calc.add'));
    }
    for (let i = 0; i < 30; i++) {
      expect(await swarm.settle(caller.call('calc.add', { a: i, b: 1 }, { policy: 'roundrobin' }))).toBe(i + 1);
    }
    expect([...served.values()]).toEqual([10, 10, 10]);

    // One provider leaves without a word: calls still succeed through the others.
    swarm.fail(providers[0]!.node, true);
    for (let i = 0; i < 12; i++) {
      expect(await swarm.settle(caller.call('calc.add', { a: 1, b: i }, { policy: 'roundrobin' }), 60_000)).toBe(1 + i);
    }
    expect(caller.stats()['rpc.failover']).toBeGreaterThanOrEqual(1);

    handlers.get(providers[1]!.node.selfHex)!.set('calc.fail', () => {
      throw new Error('boom');
    });
    await swarm.settle(providers[1]!.advertise('calc.fail'));
    await expect(swarm.settle(caller.call('calc.fail', {}))).rejects.toMatchObject({
      code: 'HANDLER_ERROR',
      message: 'boom',
    });
    await expect(swarm.settle(caller.call('nobody.offers.this', {}))).rejects.toMatchObject({ code: 'NO_PROVIDERS' });
    // A result that cannot travel says so, rather than blaming its size.
    handlers.get(providers[2]!.node.selfHex)!.set('calc.bigint', () => 10n);
    await swarm.settle(providers[2]!.advertise('calc.bigint'));
    await expect(swarm.settle(caller.call('calc.bigint', {}))).rejects.toMatchObject({
      code: 'NOT_ENCODABLE',
      message: expect.stringMatching(/^the result of calc\.bigint cannot be encoded as MessagePack/),
    });
    await expect(caller.call('calc.add', { big: new Uint8Array(2 << 20) })).rejects.toMatchObject({
      code: 'TOO_LARGE',
    });
    await expect(caller.call('calc.add', {}, { policy: 'nope' as never })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(await swarm.settle(caller.callTo(providers[2]!.node.selfHex, 'calc.add', { a: 2, b: 2 }))).toBe(4);
    // Calls travel over open channels: none opened a connection for itself.
    expect(caller.stats()['connections.createdTotal']).toBeLessThan(70);
  }, 120_000);

  it('callDetailed says which provider answered, after how many attempts, and which failed first', async () => {
    const { swarm, cores, handlers } = coreSwarm(13);
    await swarm.grow(30, 10);
    await swarm.run(10_000);
    const all = [...cores.values()];
    const providers = all.slice(0, 3).sort((a, b) => (a.node.selfHex < b.node.selfHex ? -1 : 1));
    const caller = all[20]!;
    for (const p of providers) {
      handlers.get(p.node.selfHex)!.set('who.am.i', () => p.node.selfHex);
      await swarm.settle(p.advertise('who.am.i'));
    }
    const [first, second] = [providers[0]!.node.selfHex, providers[1]!.node.selfHex];
    expect(await swarm.settle(caller.callDetailed('who.am.i', null, { policy: 'first' }))).toEqual({
      result: first,
      provider: first,
      attempts: 1,
      failed: [],
    });

    // The first provider goes away without a word; the caller still has it cached and tries it first.
    swarm.fail(providers[0]!.node, true);
    const outcome = await swarm.settle(
      caller.callDetailed('who.am.i', null, { policy: 'first', timeoutMs: 2_000 }),
      60_000,
    );
    expect(outcome).toMatchObject({ result: second, provider: second, attempts: 2 });
    expect(outcome.failed.map((f) => f.nodeId)).toEqual([first]);
    expect(['TIMEOUT', 'NOT_CONNECTED', 'UNREACHABLE', 'CLOSED']).toContain(outcome.failed[0]!.code);

    // When every provider tried fails, the rejection carries each attempt's cause.
    swarm.fail(providers[1]!.node, true);
    const allFailed = swarm.settle(
      caller.callDetailed('who.am.i', null, { policy: 'first', timeoutMs: 2_000, maxAttempts: 1 }),
      60_000,
    );
    await expect(allFailed).rejects.toMatchObject({
      code: 'ALL_PROVIDERS_FAILED',
      details: { attempts: [{ nodeId: second, code: expect.any(String), message: expect.any(String) }] },
      message: expect.stringContaining(`${second.slice(0, 8)}…: `),
    });

    // A local call names this node.
    const own = providers[2]!;
    expect(await swarm.settle(own.callDetailed('who.am.i', null, { policy: 'local-first' }))).toEqual({
      result: own.node.selfHex,
      provider: own.node.selfHex,
      attempts: 1,
      failed: [],
    });
  }, 120_000);

  it('publishes to exact and wildcard subscribers exactly once, none to others, none after unsubscribe', async () => {
    const { swarm, cores, inbox } = coreSwarm(12);
    await swarm.grow(60, 20);
    await swarm.run(10_000);
    const all = [...cores.values()];
    const [exact, star, globstar, other, twice, publisher] = [all[1]!, all[2]!, all[3]!, all[4]!, all[5]!, all[40]!];
    await swarm.settle(exact.subscribe('sensors.kitchen.temp'));
    await swarm.settle(star.subscribe('sensors.*.temp'));
    await swarm.settle(globstar.subscribe('sensors.**'));
    await swarm.settle(other.subscribe('sensors.*.humidity'));
    const t1 = await swarm.settle(twice.subscribe('sensors.kitchen.*'));
    await swarm.settle(twice.subscribe('**.temp'));

    const found = await swarm.settle(publisher.discoverSubscribers('sensors.kitchen.temp', { forceRefresh: true }));
    expect(found.map((s) => s.nodeId).sort()).toEqual([exact, star, globstar, twice].map((c) => c.node.selfHex).sort());

    for (let i = 0; i < 3; i++)
      expect(await swarm.settle(publisher.publish('sensors.kitchen.temp', { c: 20 + i }))).toBe(4);
    const got = (c: PeerCore) => inbox.get(c.node.selfHex)!;
    for (const c of [exact, star, globstar])
      expect(got(c).map((m) => m.payload)).toEqual([{ c: 20 }, { c: 21 }, { c: 22 }]);
    // One node with two matching subscriptions gets each message once, for both of them.
    expect(got(twice).map((m) => m.ids.length)).toEqual([2, 2, 2]);
    expect(got(other)).toEqual([]);

    await swarm.settle(twice.unsubscribe(t1));
    for (const c of [exact, star, globstar]) {
      const subs = [...(c.pubsub as unknown as { subscriptions: Map<number, string> }).subscriptions.keys()];
      for (const id of subs) await swarm.settle(c.unsubscribe(id));
    }
    await swarm.run(6_000); // past the publisher's 5 s subscriber cache
    expect(await swarm.settle(publisher.publish('sensors.kitchen.temp', { c: 99 }))).toBe(1); // twice's **.temp remains
    for (const c of [exact, star, globstar]) expect(got(c)).toHaveLength(3);
  }, 120_000);
});
