import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { takeDataDir } from './data-dir.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'macula-dir-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('data directory', () => {
  it('is created owner-only and locked with this process id until released', async () => {
    const dir = join(root, 'a', 'b');
    const lock = await takeDataDir(dir);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await readFile(join(dir, 'lock'), 'utf8')).trim()).toBe(String(process.pid));
    await expect(takeDataDir(dir)).rejects.toMatchObject({
      code: 'STORAGE_ERROR',
      message: expect.stringMatching(/in use/),
    });
    lock.release();
    const again = await takeDataDir(dir);
    expect((await readFile(join(dir, 'lock'), 'utf8')).trim()).toBe(String(process.pid));
    again.release();
  });

  it('refuses a directory another running process holds, naming it', async () => {
    const dir = join(root, 'held');
    await takeDataDir(dir).then((l) => l.release());
    // The parent of this test process runs as long as the test does.
    await writeFile(join(dir, 'lock'), `${process.ppid}\n`);
    await expect(takeDataDir(dir)).rejects.toMatchObject({
      code: 'STORAGE_ERROR',
      details: { pid: process.ppid },
    });
  });

  it('takes over the lock of a process that is gone (a crash, a kill)', async () => {
    const dir = join(root, 'stale');
    await takeDataDir(dir).then((l) => l.release());
    // Above the kernel's pid_max (4194304 at most): no such process can run.
    await writeFile(join(dir, 'lock'), '4194305\n');
    const lock = await takeDataDir(dir);
    expect((await readFile(join(dir, 'lock'), 'utf8')).trim()).toBe(String(process.pid));
    lock.release();
  });
});
