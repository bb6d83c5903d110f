import { chmod, link, open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { cryptoRandom } from '../core/environment.js';
import { ErrorCode, MeshError } from '../core/errors.js';
import { fromHex, isIdHex, toHex } from '../core/id.js';
import { createIdentity, identityFromSecretKey, type Identity } from '../core/identity.js';

/** The Ed25519 secret key of a Node peer's data directory, in hex: the node id survives restarts. */
export const KEY_FILE = 'identity.key';
/** Owner read/write only: whoever reads the key can act as this node. */
export const KEY_FILE_MODE = 0o600;

/**
 * The identity of the peer that keeps its state in `dir`: read from the key file, or made
 * and written there on first start. A new key is written to a temporary file (mode 0600,
 * fsynced) and hard-linked into place, so the key file appears whole or not at all, and
 * link() fails rather than overwrite a key another start wrote meanwhile.
 */
export async function loadKeyFile(dir: string, warn: (message: string) => void = console.warn): Promise<Identity> {
  const path = join(dir, KEY_FILE);
  const existing = await readKey(path, warn);
  if (existing !== undefined) return existing;
  const identity = createIdentity(cryptoRandom.bytes);
  const temp = `${path}.tmp-${process.pid}-${toHex(cryptoRandom.bytes(4))}`;
  try {
    const handle = await open(temp, 'wx', KEY_FILE_MODE);
    try {
      await handle.writeFile(`${toHex(identity.secretKey)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await link(temp, path);
  } catch (e) {
    if ((e as { code?: unknown }).code === 'EEXIST') {
      const other = await readKey(path, warn);
      if (other !== undefined) return other;
    }
    throw storageError(`cannot write the identity key file ${path}: ${(e as Error).message}`, path);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  return identity;
}

async function readKey(path: string, warn: (message: string) => void): Promise<Identity | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') return undefined;
    throw storageError(`cannot read the identity key file ${path}: ${(e as Error).message}`, path);
  }
  const hex = text.trim();
  // A damaged key is not replaced silently: that would give this peer another node id.
  if (!isIdHex(hex)) {
    throw storageError(
      `the identity key file ${path} does not hold a key (64 hex digits); restore it, or delete it to start under a new node id`,
      path,
    );
  }
  const { mode } = await stat(path);
  if ((mode & 0o077) !== 0) {
    warn(`macula-web: ${path} was readable by others (mode ${(mode & 0o777).toString(8)}); set to 600`);
    await chmod(path, KEY_FILE_MODE);
  }
  return identityFromSecretKey(fromHex(hex));
}

const storageError = (message: string, path: string): MeshError =>
  new MeshError(ErrorCode.STORAGE_ERROR, message, { path });
