import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it, vi } from 'vitest';
import type { Store } from '../core/environment.js';
import { createIdbStore, toStorageError } from './idb-store.js';
import { createMemoryStore } from './memory-store.js';

const stores: Array<[string, () => Store]> = [
  ['memory', () => createMemoryStore()],
  ['indexeddb', () => createIdbStore('a'.repeat(64), new IDBFactory())],
];

describe.each(stores)('%s store', (_name, make) => {
  it('sets, gets, lists and deletes in batches', async () => {
    const store = make();
    const bytes = Uint8Array.of(1, 2, 3);
    await store.setMany([
      ['a', { x: 1, bytes }],
      ['b', [1, 2]],
      ['c', 'three'],
    ]);
    expect(await store.getMany(['a', 'b', 'missing'])).toEqual([{ x: 1, bytes }, [1, 2], undefined]);
    expect((await store.keys()).sort()).toEqual(['a', 'b', 'c']);
    await store.delMany(['a', 'c']);
    expect(await store.keys()).toEqual(['b']);
  });

  it('hands out copies, not its own objects', async () => {
    const store = make();
    const value = { n: 1 };
    await store.setMany([['k', value]]);
    value.n = 2;
    const [got] = (await store.getMany(['k'])) as Array<{ n: number }>;
    expect(got).toEqual({ n: 1 });
  });
});

describe('IndexedDB store', () => {
  it('keeps each node id in its own database, so tabs of one origin do not mix', async () => {
    const factory = new IDBFactory();
    const a = createIdbStore('a'.repeat(64), factory);
    const b = createIdbStore('b'.repeat(64), factory);
    await a.setMany([['k', 'from a']]);
    await b.setMany([['k', 'from b']]);
    expect(await a.getMany(['k'])).toEqual(['from a']);
    expect(await b.getMany(['k'])).toEqual(['from b']);
  });

  it('reopens after another connection forces a versionchange', async () => {
    const factory = new IDBFactory();
    const name = 'c'.repeat(64);
    const store = createIdbStore(name, factory);
    await store.setMany([['k', 1]]);
    // Another context upgrades the database: ours must close (not block it) and then reopen.
    const upgrade = factory.open(`macula-web/node/${name}`, 2);
    await new Promise<void>((resolve, reject) => {
      upgrade.onsuccess = () => {
        upgrade.result.close();
        resolve();
      };
      upgrade.onerror = () => reject(upgrade.error);
    });
    expect(await store.getMany(['k'])).toEqual([1]);
  });

  it('turns storage failures into STORAGE_ERROR', async () => {
    const factory = new IDBFactory();
    const store = createIdbStore('d'.repeat(64), factory);
    const notCloneable = { f: () => 1 };
    await expect(store.setMany([['k', notCloneable]])).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
  });
  it('maps a full quota to STORAGE_ERROR with a clear message, and the store keeps working after', async () => {
    const factory = new IDBFactory();
    const store = createIdbStore('e'.repeat(64), factory);
    await store.setMany([['kept', 1]]);
    const put = vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    });
    try {
      const err = await store
        .setMany([
          ['a', 1],
          ['b', 2],
        ])
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'STORAGE_ERROR', details: { name: 'QuotaExceededError' } });
      expect((err as Error).message).toMatch(/quota exceeded/i);
    } finally {
      put.mockRestore();
    }
    // setMany is one transaction: nothing of the failed batch was written.
    expect((await store.keys()).sort()).toEqual(['kept']);
    await store.setMany([['a', 1]]);
    expect(await store.getMany(['a'])).toEqual([1]);
  });

  it('writes a batch all or nothing: a put that fails part-way rolls back the puts before it', async () => {
    const store = createIdbStore('2'.repeat(64), new IDBFactory());
    await store.setMany([
      ['records', 'old'],
      ['services', 'old'],
    ]);
    const notCloneable = { f: () => 1 };
    await expect(
      store.setMany([
        ['records', 'new'],
        ['services', notCloneable],
      ]),
    ).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
    expect(await store.getMany(['records', 'services'])).toEqual(['old', 'old']);
  });

  it('recognises quota errors by name or legacy code, and passes MeshErrors through', () => {
    expect(toStorageError({ name: 'NS_ERROR_DOM_QUOTA_REACHED' }, 'db').details).toMatchObject({
      name: 'QuotaExceededError',
    });
    expect(toStorageError({ code: 22, name: 'Error' }, 'db').message).toMatch(/quota/);
    expect(toStorageError(new Error('boom'), 'db')).toMatchObject({
      code: 'STORAGE_ERROR',
      message: expect.stringMatching(/boom/),
    });
    const e = toStorageError(null, 'db');
    expect(toStorageError(e, 'other')).toBe(e);
  });

  it('adds its object store when the database exists without it', async () => {
    const factory = new IDBFactory();
    const name = 'f'.repeat(64);
    const raw = factory.open(`macula-web/node/${name}`, 3);
    raw.onupgradeneeded = () => raw.result.createObjectStore('something-else');
    await new Promise<void>((resolve) => {
      raw.onsuccess = () => {
        raw.result.close();
        resolve();
      };
    });
    const store = createIdbStore(name, factory);
    await store.setMany([['k', 'v']]);
    expect(await store.getMany(['k'])).toEqual(['v']);
  });

  it('fails with STORAGE_ERROR instead of hanging while another connection blocks an upgrade, then recovers', async () => {
    const factory = new IDBFactory();
    const name = '1'.repeat(64);
    // A connection of another tab that holds the database open and ignores versionchange.
    const raw = factory.open(`macula-web/node/${name}`, 1);
    const holder = await new Promise<IDBDatabase>((resolve) => {
      raw.onsuccess = () => resolve(raw.result);
    });
    const store = createIdbStore(name, factory, { blockedTimeoutMs: 50 });
    const err = await store.keys().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORAGE_ERROR', details: { name: 'BlockedError' } });
    expect((err as Error).message).toMatch(/blocked/);
    holder.close();
    await expect.poll(() => store.keys().catch(() => 'failed'), { timeout: 2_000 }).toEqual([]);
  });
});
