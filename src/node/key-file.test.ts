import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toHex } from '../core/id.js';
import { KEY_FILE, loadKeyFile } from './key-file.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'macula-key-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('identity key file', () => {
  it('is made once, readable by its owner only, and gives the same node id on every load', async () => {
    const first = await loadKeyFile(dir);
    const path = join(dir, KEY_FILE);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await readFile(path, 'utf8')).trim()).toBe(toHex(first.secretKey));
    const again = await loadKeyFile(dir);
    expect(again.nodeIdHex).toBe(first.nodeIdHex);
  });

  it('gives concurrent first starts one identity (the key is linked into place, never overwritten)', async () => {
    const ids = await Promise.all([loadKeyFile(dir), loadKeyFile(dir), loadKeyFile(dir)]);
    expect(new Set(ids.map((i) => i.nodeIdHex)).size).toBe(1);
  });

  it('refuses a damaged key with a message naming the file, instead of taking a new node id', async () => {
    await writeFile(join(dir, KEY_FILE), 'abc\n', { mode: 0o600 });
    await expect(loadKeyFile(dir)).rejects.toMatchObject({
      code: 'STORAGE_ERROR',
      message: expect.stringContaining(`${join(dir, KEY_FILE)} does not hold a key`),
    });
  });

  it('closes a key file others could read, with a warning', async () => {
    const first = await loadKeyFile(dir);
    const path = join(dir, KEY_FILE);
    await chmod(path, 0o644);
    const warnings: string[] = [];
    expect((await loadKeyFile(dir, (m) => warnings.push(m))).nodeIdHex).toBe(first.nodeIdHex);
    expect(warnings[0]).toMatch(/readable by others \(mode 644\); set to 600/);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });
});
