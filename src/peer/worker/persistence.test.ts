import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { seededRandom, type Clock, type Store, type Transport } from '../../core/environment.js';
import { ErrorCode, MeshError } from '../../core/errors.js';
import { createIdentity, type Identity } from '../../core/identity.js';
import { createIdbStore } from '../../storage/idb-store.js';
import { createMemoryStore } from '../../storage/memory-store.js';
import { PeerCore } from './peer-core.js';

/** A clock that only moves when told; timers are kept but never fire (no re-advertising during a test). */
function stillClock(start = 1_700_000_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, setTimer: () => () => undefined, advance: (ms) => (now += ms) };
}

const nowhere: Transport = { send: () => false, connect: () => undefined, disconnect: () => undefined };

/** A node with no neighbours: it keeps its own records, so each advertisement changes both records and services. */
function lonelyCore(identity: Identity, store: Store, clock = stillClock()): PeerCore {
  return new PeerCore({ identity, transport: nowhere, clock, random: seededRandom(7), store });
}

const newIdentity = (seed: number): Identity => createIdentity(seededRandom(seed).bytes);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Persistence', () => {
  it('restores exactly the last snapshot: services, records and the snapshot number', async () => {
    const identity = newIdentity(1);
    const store = createMemoryStore();
    const clock = stillClock();
    const core = lonelyCore(identity, store, clock);
    for (const name of ['a.svc', 'b.svc', 'c.svc']) await core.advertise(name, { metadata: { name } });
    await core.persistence!.flush(clock.now(), true);
    const written = core.stats()['persistence.snapshot']!;
    expect(written).toBeGreaterThan(0);

    const again = lonelyCore(identity, store, clock);
    const restored = await again.restore();
    expect(restored.map((s) => s.serviceId)).toEqual(['a.svc', 'b.svc', 'c.svc']);
    expect(again.stats()).toMatchObject({
      'persistence.restoredRecords': 3,
      'persistence.restoredSnapshot': written,
      'persistence.inconsistent': 0,
    });
    expect((await again.discover('b.svc')).map((p) => p.metadata)).toEqual([{ name: 'b.svc' }]);
  });

  it('drops and counts the records of a corrupt snapshot, and restores the rest', async () => {
    const identity = newIdentity(11);
    const store = createMemoryStore();
    const clock = stillClock();
    const core = lonelyCore(identity, store, clock);
    for (const name of ['a.svc', 'b.svc', 'c.svc']) await core.advertise(name);
    await core.persistence!.flush(clock.now(), true);
    const [part] = await store.getMany(['records']);
    const { snapshot, data } = part as { snapshot: number; data: { entries: Array<Record<string, unknown>> } };
    // One record's owner id no longer matches its key, one entry is junk.
    const first = data.entries[0]!;
    data.entries[0] = { ...first, record: { ...(first.record as object), nodeId: new Uint8Array(32) } };
    data.entries.push({ record: 'junk', expiresAt: clock.now() + 1_000 });
    await store.setMany([['records', { snapshot, data }]]);

    const again = lonelyCore(identity, store, clock);
    await again.restore();
    expect(again.stats()).toMatchObject({ 'persistence.restoredRecords': 2, 'persistence.droppedRecords': 2 });
  });

  it('writes records and services in one batch, so a failed write leaves the previous snapshot whole', async () => {
    const identity = newIdentity(2);
    const store = createIdbStore(identity.nodeIdHex, new IDBFactory());
    const clock = stillClock();
    const core = lonelyCore(identity, store, clock);
    await core.advertise('first.svc');
    await core.persistence!.flush(clock.now(), true);
    const first = core.stats()['persistence.snapshot'];

    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    // The next write dies after its first put: the records went in, then the transaction failed.
    const put = IDBObjectStore.prototype.put;
    let puts = 0;
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, ...args) {
      if (++puts > 1) throw new DOMException('simulated crash', 'UnknownError');
      return put.apply(this, args);
    });
    await core.advertise('second.svc');
    clock.advance(5_000);
    await core.persistence!.flush(clock.now(), true);
    expect(core.stats()['persistence.failures']).toBe(1);
    vi.restoreAllMocks();

    const again = lonelyCore(identity, store, clock);
    expect((await again.restore()).map((s) => s.serviceId)).toEqual(['first.svc']);
    expect(again.stats()).toMatchObject({ 'persistence.restoredRecords': 1, 'persistence.restoredSnapshot': first });
  });

  it('refuses a stored state whose parts come from different snapshots, and counts it', async () => {
    const identity = newIdentity(3);
    const store = createMemoryStore();
    const clock = stillClock();
    const core = lonelyCore(identity, store, clock);
    await core.advertise('old.svc');
    await core.persistence!.flush(clock.now(), true);
    const [oldServices] = await store.getMany(['services']);
    await core.advertise('new.svc');
    await core.persistence!.flush(clock.now(), true);
    // What a non-atomic writer interrupted half-way would leave: new records, old services.
    await store.setMany([['services', oldServices]]);

    const again = lonelyCore(identity, store, clock);
    expect(await again.restore()).toEqual([]);
    expect(again.stats()).toMatchObject({ 'persistence.inconsistent': 1, 'persistence.restoredRecords': 0 });
  });

  it('on a full quota: says STORAGE_ERROR once, counts it, stops writing after three failures and keeps serving from memory', async () => {
    const identity = newIdentity(4);
    const full: Store = {
      ...createMemoryStore(),
      setMany: () =>
        Promise.reject(
          new MeshError(ErrorCode.STORAGE_ERROR, 'IndexedDB quota exceeded writing "x"', {
            name: 'QuotaExceededError',
          }),
        ),
    };
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const clock = stillClock();
    const core = lonelyCore(identity, full, clock);
    await core.restore();
    for (let i = 0; i < 5; i++) {
      await core.advertise(`svc.${i}`);
      clock.advance(5_000);
      await core.persistence!.flush(clock.now());
    }
    expect(core.stats()).toMatchObject({
      'persistence.failures': 3,
      'persistence.quotaExceeded': 3,
      'persistence.disabled': 1,
      'persistence.writes': 0,
    });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/STORAGE_ERROR: IndexedDB quota exceeded/);
    expect(core.listLocalServices()).toHaveLength(5);
    expect((await core.discover('svc.4')).map((p) => p.nodeId)).toEqual([identity.nodeIdHex]);
  });

  it('close() while a periodic write is in flight writes again afterwards: a service removed meanwhile stays removed', async () => {
    const identity = newIdentity(6);
    const memory = createMemoryStore();
    // The first write waits until released: the periodic flush is still running when close() comes.
    let release: () => void = () => undefined;
    let held = true;
    const slow: Store = {
      ...memory,
      setMany: async (entries) => {
        if (held) {
          held = false;
          await new Promise<void>((resolve) => (release = resolve));
        }
        await memory.setMany(entries);
      },
    };
    const clock = stillClock();
    const core = lonelyCore(identity, slow, clock);
    await core.advertise('kept.svc');
    await core.advertise('gone.svc');
    core.tick();
    await core.unadvertise('gone.svc');
    const closing = core.close();
    release();
    await closing;

    const again = lonelyCore(identity, memory, clock);
    expect((await again.restore()).map((s) => s.serviceId)).toEqual(['kept.svc']);
    expect(again.stats()['persistence.restoredRecords']).toBe(1);
  });

  it('retries a state write that failed once, then carries on numbering snapshots', async () => {
    const identity = newIdentity(5);
    const memory = createMemoryStore();
    let failNext = true;
    const flaky: Store = {
      ...memory,
      setMany: (entries) => {
        if (!failNext) return memory.setMany(entries);
        failNext = false;
        return Promise.reject(new MeshError(ErrorCode.STORAGE_ERROR, 'transient', { name: 'UnknownError' }));
      },
    };
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const clock = stillClock();
    const core = lonelyCore(identity, flaky, clock);
    await core.advertise('kept.svc');
    await core.persistence!.flush(clock.now());
    expect(core.stats()['persistence.writes']).toBe(0);
    clock.advance(1_000);
    await core.persistence!.flush(clock.now());
    expect(core.stats()).toMatchObject({ 'persistence.writes': 1, 'persistence.disabled': 0 });

    const again = lonelyCore(identity, memory, clock);
    expect((await again.restore()).map((s) => s.serviceId)).toEqual(['kept.svc']);
  });
});
