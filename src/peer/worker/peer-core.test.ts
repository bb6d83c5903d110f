import { describe, expect, it } from 'vitest';
import { seededRandom, type Transport } from '../../core/environment.js';
import { ErrorCode } from '../../core/errors.js';
import { createIdentity } from '../../core/identity.js';
import { METADATA_RULE } from '../../core/records/metadata.js';
import { createMemoryStore } from '../../storage/memory-store.js';
import { keyForName, toHex } from '../../core/id.js';
import { PeerCore } from './peer-core.js';

const nowhere: Transport = { send: () => false, connect: () => undefined, disconnect: () => undefined };
const lonelyCore = (): PeerCore =>
  new PeerCore({
    identity: createIdentity(seededRandom(3).bytes),
    transport: nowhere,
    random: seededRandom(4),
    clock: { now: () => 1_700_000_000_000, setTimer: () => () => undefined },
  });

describe('PeerCore.advertise: metadata', () => {
  it('refuses nested metadata with INVALID_ARGUMENT naming the rule, and keeps nothing of it', async () => {
    const core = lonelyCore();
    for (const metadata of [
      { a: { b: 1 } },
      { list: [1, 2] },
      Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i])),
    ]) {
      await expect(core.advertise('meta.svc', { metadata })).rejects.toMatchObject({
        code: ErrorCode.INVALID_ARGUMENT,
        details: { argument: 'metadata' },
        message: expect.stringContaining(METADATA_RULE),
      });
    }
    expect(core.listLocalServices()).toEqual([]);
    expect(core.localAdvertisements()).toEqual([]);
    expect(core.node.records.size).toBe(0);
    await core.advertise('meta.svc', { metadata: { unit: 'W', watts: 12 } });
    expect((await core.discover('meta.svc')).map((p) => p.metadata)).toEqual([{ unit: 'W', watts: 12 }]);
  });
});

describe('PeerCore.advertise: a refused advertise changes nothing', () => {
  const timedCore = (store = createMemoryStore()) => {
    let timers = 0;
    const core = new PeerCore({
      identity: createIdentity(seededRandom(3).bytes),
      transport: nowhere,
      random: seededRandom(4),
      store,
      clock: { now: () => 1_700_000_000_000, setTimer: () => (timers++, () => timers--) },
    });
    return { core, store, timers: () => timers };
  };

  it('leaves no service, timer, record or saved advertisement behind an invalid ttl', async () => {
    const { core, store, timers } = timedCore();
    for (const ttl of [0, 1.5, 86_401, '60' as unknown as number]) {
      await expect(core.advertise('ttl.svc', { ttl })).rejects.toMatchObject({
        code: ErrorCode.INVALID_ARGUMENT,
        details: { argument: 'ttl' },
      });
    }
    expect(core.listLocalServices()).toEqual([]);
    expect(core.localAdvertisements()).toEqual([]);
    expect(core.node.records.size).toBe(0);
    expect(timers()).toBe(0);
    await core.persistence!.flush(1_700_000_000_000, true);
    const again = timedCore(store);
    expect(await again.core.restore()).toEqual([]);
  });

  it('keeps an earlier advertisement of the service exactly as it was', async () => {
    const { core } = timedCore();
    await core.advertise('kept.svc', { metadata: { v: 1 }, ttl: 120 });
    await expect(core.advertise('kept.svc', { metadata: { v: 2 }, ttl: -5 })).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
    });
    await expect(core.advertise('kept.svc', { metadata: { big: 'x'.repeat(3000) } })).rejects.toMatchObject({
      code: ErrorCode.TOO_LARGE,
    });
    expect(core.localAdvertisements()).toEqual([{ serviceId: 'kept.svc', metadata: { v: 1 }, ttl: 120 }]);
    expect(core.registry.getLocalService('kept.svc')?.metadata).toEqual({ v: 1 });
  });
});

describe('PeerCore.advertise: ttl', () => {
  it('refuses a ttl under 10 s (re-published only every 10 s, it would be gone most of the time), naming the range', async () => {
    const core = lonelyCore();
    for (const ttl of [1, 5, 9]) {
      await expect(core.advertise('short.svc', { ttl })).rejects.toMatchObject({
        code: ErrorCode.INVALID_ARGUMENT,
        message: expect.stringMatching(/^ttl: expected an integer number of seconds in \[10, 86400\]/),
      });
    }
    expect(core.listLocalServices()).toEqual([]);
    await core.advertise('short.svc', { ttl: 10 });
    expect(core.localAdvertisements()).toEqual([{ serviceId: 'short.svc', metadata: {}, ttl: 10 }]);
  });
});

describe('PeerCore.restore: services of the earlier session', () => {
  const clock = { now: () => 1_700_000_000_000, setTimer: () => () => undefined };
  const coreOver = (store: ReturnType<typeof createMemoryStore>) =>
    new PeerCore({
      identity: createIdentity(seededRandom(3).bytes),
      transport: nowhere,
      random: seededRandom(4),
      store,
      clock,
    });
  const ownRecords = (core: PeerCore, name: string) =>
    core.node.records.get(keyForName(name), 'provider', clock.now()).map((r) => toHex(r.nodeId));

  it('are listed, not advertised, until the app advertises (its handler back) or unadvertises them', async () => {
    const store = createMemoryStore();
    const before = coreOver(store);
    await before.advertise('kept.svc', { metadata: { v: 1 }, ttl: 120 });
    await before.advertise('dropped.svc');
    await before.close();

    const after = coreOver(store);
    const saved = [
      { serviceId: 'kept.svc', metadata: { v: 1 }, ttl: 120 },
      { serviceId: 'dropped.svc', metadata: {}, ttl: 300 },
    ];
    expect(await after.restore()).toEqual(saved);
    expect(after.restoredServices()).toEqual(saved);
    // Nothing is advertised: no local service to call, nothing kept alive or saved as this session's.
    expect(after.listLocalServices()).toEqual([]);
    expect(after.localAdvertisements()).toEqual([]);
    expect(after.rpc.load).toEqual({ calls: 0, callers: 0, neighbours: 0 });

    await after.advertise('kept.svc', { metadata: { v: 2 }, ttl: 120 });
    expect(after.restoredServices().map((s) => s.serviceId)).toEqual(['dropped.svc']);
    expect(after.listLocalServices()).toEqual(['kept.svc']);
    // The earlier session's record of the dropped service goes: a signed removal (here, of our own copy).
    expect(ownRecords(after, 'dropped.svc')).toEqual([after.node.selfHex]);
    await after.unadvertise('dropped.svc');
    expect(after.restoredServices()).toEqual([]);
    expect(ownRecords(after, 'dropped.svc')).toEqual([]);
    await after.close();

    // What the app advertised again is what the next reload restores.
    const third = coreOver(store);
    expect((await third.restore()).map((s) => s.serviceId)).toEqual(['kept.svc']);
  });

  it('are not saved again while they wait: a service the app no longer offers does not come back at every reload', async () => {
    const store = createMemoryStore();
    const before = coreOver(store);
    await before.advertise('old.svc');
    await before.close();
    const after = coreOver(store);
    expect((await after.restore()).map((s) => s.serviceId)).toEqual(['old.svc']);
    await after.close();
    expect(await coreOver(store).restore()).toEqual([]);
  });
});

describe('PeerCore.stats', () => {
  it('reports the same names with and without persistence (zeros when nothing is persisted)', () => {
    const memory = lonelyCore().stats();
    const persisted = new PeerCore({
      identity: createIdentity(seededRandom(5).bytes),
      transport: nowhere,
      random: seededRandom(6),
      clock: { now: () => 1_700_000_000_000, setTimer: () => () => undefined },
      store: createMemoryStore(),
    }).stats();
    expect(Object.keys(memory).sort()).toEqual(Object.keys(persisted).sort());
    expect(memory['persistence.writes']).toBe(0);
  });
});
