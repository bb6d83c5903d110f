import * as fs from 'node:fs/promises';
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileStore, SNAPSHOT_FILE, type FileIo } from './file-store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'macula-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const quiet = { warn: () => undefined };
const snapshot = (): string => join(dir, SNAPSHOT_FILE);

describe('file store', () => {
  it('keeps what it was given across instances, as structured clones (bytes stay bytes)', async () => {
    const store = createFileStore(dir, quiet);
    const bytes = Uint8Array.of(1, 2, 3);
    await store.setMany([
      ['a', { x: 1, bytes }],
      ['b', [1, 2]],
      ['c', 'three'],
    ]);
    await store.delMany(['c']);
    const reopened = createFileStore(dir, quiet);
    expect(await reopened.getMany(['a', 'b', 'c'])).toEqual([{ x: 1, bytes }, [1, 2], undefined]);
    expect(((await reopened.getMany(['a'])) as Array<{ bytes: unknown }>)[0]!.bytes).toBeInstanceOf(Uint8Array);
    expect((await reopened.keys()).sort()).toEqual(['a', 'b']);
    expect((await stat(snapshot())).mode & 0o777).toBe(0o600);
  });

  it('hands out copies, not its own objects', async () => {
    const store = createFileStore(dir, quiet);
    const value = { n: 1 };
    await store.setMany([['k', value]]);
    value.n = 2;
    const [got] = (await store.getMany(['k'])) as Array<{ n: number }>;
    got!.n = 3;
    expect(await store.getMany(['k'])).toEqual([{ n: 1 }]);
  });

  it('writes a batch all or nothing: a value that cannot be stored leaves the previous snapshot, on disk and in memory', async () => {
    const store = createFileStore(dir, quiet);
    await store.setMany([
      ['records', 'old'],
      ['services', 'old'],
    ]);
    const before = await readFile(snapshot());
    await expect(
      store.setMany([
        ['records', 'new'],
        ['services', { f: () => 1 }],
      ]),
    ).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
    expect(await store.getMany(['records', 'services'])).toEqual(['old', 'old']);
    expect((await readFile(snapshot())).equals(before)).toBe(true);
  });

  it('keeps the previous snapshot when the write fails before the rename, and leaves no temporary file', async () => {
    let failRename = true;
    const io: FileIo = {
      ...fs,
      rename: (from, to) => (failRename ? Promise.reject(new Error('disk gone')) : fs.rename(from, to)),
    };
    const setup = createFileStore(dir, quiet);
    await setup.setMany([['k', 'old']]);
    const store = createFileStore(dir, { ...quiet, io });
    await expect(store.setMany([['k', 'new']])).rejects.toMatchObject({
      code: 'STORAGE_ERROR',
      message: expect.stringMatching(/disk gone/),
    });
    expect(await store.getMany(['k'])).toEqual(['old']);
    expect(await readdir(dir)).toEqual([SNAPSHOT_FILE]);
    expect(await createFileStore(dir, quiet).getMany(['k'])).toEqual(['old']);
    failRename = false;
    await store.setMany([['k', 'new']]);
    expect(await createFileStore(dir, quiet).getMany(['k'])).toEqual(['new']);
  });

  it('ignores and removes the temporary file of a write a crash interrupted', async () => {
    await createFileStore(dir, quiet).setMany([['k', 'kept']]);
    await writeFile(`${snapshot()}.tmp-0badf00d`, 'half a snapshot');
    const store = createFileStore(dir, quiet);
    expect(await store.getMany(['k'])).toEqual(['kept']);
    expect(await readdir(dir)).toEqual([SNAPSHOT_FILE]);
  });

  it('applies concurrent batches in order, each on top of the one before', async () => {
    const store = createFileStore(dir, quiet);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.setMany([[`k${i}`, i]])));
    await store.delMany(['k0']);
    expect((await createFileStore(dir, quiet).keys()).length).toBe(19);
  });

  it.each([
    ['truncated', async (path: string) => truncate(path, (await stat(path)).size - 7)],
    [
      'altered',
      async (path: string) => {
        const bytes = await readFile(path);
        bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0xff;
        await writeFile(path, bytes);
      },
    ],
    ['emptied', (path: string) => truncate(path, 0)],
    ['not a snapshot', (path: string) => writeFile(path, '{"records": []}')],
  ])(
    'starts empty with a warning, never an error, from a %s snapshot, and keeps the damaged file aside',
    async (_name, damage) => {
      await createFileStore(dir, quiet).setMany([
        ['records', { many: 'x'.repeat(1000) }],
        ['services', []],
      ]);
      await damage(snapshot());
      const warnings: string[] = [];
      const store = createFileStore(dir, { warn: (m) => warnings.push(m) });
      expect(await store.getMany(['records', 'services'])).toEqual([undefined, undefined]);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/STORAGE_ERROR: the snapshot .* is damaged \(.+\); starting with no stored records/);
      const names = await readdir(dir);
      expect(names.some((n) => n.startsWith(`${SNAPSHOT_FILE}.damaged-`))).toBe(true);
      // It goes on working, and its next snapshot is whole.
      await store.setMany([['k', 1]]);
      expect(await createFileStore(dir, quiet).getMany(['k'])).toEqual([1]);
    },
  );
});
