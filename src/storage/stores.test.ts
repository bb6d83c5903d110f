import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import type { Store } from '../core/environment.js';
import { createIdbStore } from './idb-store.js';
import { createMemoryStore } from './memory-store.js';

const stores: Array<[string, () => Store]> = [
  ['memory', () => createMemoryStore()],
  ['indexeddb', () => createIdbStore('a'.repeat(64), new IDBFactory())],
];

describe.each(stores)('%s store', (_name, make) => {
  it('sets, gets, lists and deletes in batches', async () => {
    const store = make();
    const bytes = Uint8Array.of(1, 2, 3);
    await store.setMany([['a', { x: 1, bytes }], ['b', [1, 2]], ['c', 'three']]);
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
});
