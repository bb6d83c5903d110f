import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { Store } from '../core/environment.js';
import { ErrorCode, MeshError } from '../core/errors.js';

/** The snapshot of a Node peer's data directory: every key the worker's persistence writes. */
export const SNAPSHOT_FILE = 'state.snapshot';
const MAGIC = Buffer.from('macula-web snapshot v1\n', 'latin1');
/** MAGIC, the payload's length (u32 BE) and its SHA-256, then the payload. */
const HEADER_BYTES = MAGIC.length + 4 + 32;

/** The file operations the store uses; tests replace one to fail a write part-way. */
export type FileIo = Pick<typeof fs, 'open' | 'rename' | 'unlink' | 'readFile' | 'readdir'>;

export interface FileStoreOptions {
  /** Where a damaged snapshot is reported (it is never fatal); default console.warn. */
  warn?: (message: string) => void;
  io?: FileIo;
}

/**
 * The Store of a Node peer with a data directory (the browser's is IndexedDB): the whole
 * key space in one file, rewritten on every batch. A batch is written to a temporary file,
 * fsynced, renamed over the snapshot and the directory fsynced, so a crash at any point
 * leaves the previous snapshot or the new one, whole, just as the IndexedDB store's one
 * transaction per batch does (persistence.ts relies on that: records and services of one
 * snapshot, never of two). Values go through V8's serializer, IndexedDB's structured clone.
 *
 * A snapshot that is damaged (truncated, altered, not ours) is moved aside with a warning
 * and the peer starts fresh; it never stops the peer.
 */
export function createFileStore(dir: string, options: FileStoreOptions = {}): Store {
  const io = options.io ?? fs;
  const warn = options.warn ?? console.warn;
  const path = join(dir, SNAPSHOT_FILE);
  let data: Map<string, unknown> | undefined;
  let loading: Promise<Map<string, unknown>> | undefined;
  /** Writes run one after another: each rewrites the file from the state the one before left. */
  let queue: Promise<unknown> = Promise.resolve();

  const state = (): Promise<Map<string, unknown>> => {
    if (data !== undefined) return Promise.resolve(data);
    loading ??= load(io, dir, path, warn).then((m) => (data = m));
    return loading;
  };

  const write = (change: (next: Map<string, unknown>) => void): Promise<void> => {
    const run = queue.then(async () => {
      const next = new Map(await state());
      change(next);
      await writeSnapshot(io, dir, path, next);
      data = next; // only a snapshot on disk becomes the state
    });
    queue = run.catch(() => undefined);
    return run;
  };

  return {
    getMany: async (keys) => {
      const current = await state();
      return keys.map((k) => (current.has(k) ? structuredClone(current.get(k)) : undefined));
    },
    setMany: (entries) => {
      // Copied now: the caller may change its objects while the write waits its turn.
      let copies: Array<[string, unknown]>;
      try {
        copies = entries.map(([k, v]) => [k, structuredClone(v)]);
      } catch (e) {
        return Promise.reject(storageError(`a value cannot be stored in ${path}: ${(e as Error).message}`, path));
      }
      return write((next) => {
        for (const [k, v] of copies) next.set(k, v);
      });
    },
    delMany: (keys) =>
      write((next) => {
        for (const k of keys) next.delete(k);
      }),
    keys: async () => [...(await state()).keys()],
  };
}

async function load(
  io: FileIo,
  dir: string,
  path: string,
  warn: (message: string) => void,
): Promise<Map<string, unknown>> {
  await removeLeftovers(io, dir);
  let bytes: Buffer;
  try {
    bytes = await io.readFile(path);
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') return new Map();
    throw storageError(`cannot read ${path}: ${(e as Error).message}`, path);
  }
  const problem = checkSnapshot(bytes);
  let map: Map<string, unknown> | undefined;
  let why = problem;
  if (problem === null) {
    try {
      const value: unknown = deserialize(bytes.subarray(HEADER_BYTES));
      if (value instanceof Map && [...value.keys()].every((k) => typeof k === 'string'))
        map = value as Map<string, unknown>;
      else why = 'its content is not a key-value map';
    } catch (e) {
      why = `its content cannot be read (${(e as Error).message})`;
    }
  }
  if (map !== undefined) return map;
  const aside = `${path}.damaged-${Date.now()}`;
  await io.rename(path, aside).catch(() => undefined);
  warn(
    `macula-web: ${ErrorCode.STORAGE_ERROR}: the snapshot ${path} is damaged (${why}); starting with no stored records or services (the file was moved to ${aside})`,
  );
  return new Map();
}

/** Why the file is not a whole snapshot, or null when it is. */
function checkSnapshot(bytes: Buffer): string | null {
  if (bytes.length < HEADER_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC))
    return bytes.length < MAGIC.length ? `${bytes.length} bytes: truncated` : 'not a macula-web snapshot';
  const length = bytes.readUInt32BE(MAGIC.length);
  const payload = bytes.subarray(HEADER_BYTES);
  if (payload.length !== length) return `truncated: ${payload.length} of ${length} bytes`;
  const digest = bytes.subarray(MAGIC.length + 4, HEADER_BYTES);
  if (!createHash('sha256').update(payload).digest().equals(digest)) return 'its checksum does not match';
  return null;
}

async function writeSnapshot(io: FileIo, dir: string, path: string, map: Map<string, unknown>): Promise<void> {
  let payload: Buffer;
  try {
    payload = serialize(map);
  } catch (e) {
    throw storageError(`a value cannot be stored in ${path}: ${(e as Error).message}`, path);
  }
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header);
  header.writeUInt32BE(payload.length, MAGIC.length);
  createHash('sha256')
    .update(payload)
    .digest()
    .copy(header, MAGIC.length + 4);
  const temp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
  try {
    const handle = await io.open(temp, 'wx', 0o600);
    try {
      await handle.writev([header, payload]);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await io.rename(temp, path);
  } catch (e) {
    await io.unlink(temp).catch(() => undefined);
    throw storageError(`cannot write ${path}: ${(e as Error).message}`, path);
  }
  // The rename is durable once the directory is (a crash could otherwise bring the old name back).
  const dirHandle = await io.open(dir, 'r').catch(() => undefined);
  await dirHandle
    ?.sync()
    .catch(() => undefined)
    .finally(() => dirHandle.close());
}

/** Temporary files of writes a crash interrupted: never the snapshot, only what it would have become. */
async function removeLeftovers(io: FileIo, dir: string): Promise<void> {
  const names = await io.readdir(dir).catch(() => [] as string[]);
  for (const name of names)
    if (name.startsWith(`${SNAPSHOT_FILE}.tmp-`)) await io.unlink(join(dir, name)).catch(() => undefined);
}

const storageError = (message: string, path: string): MeshError =>
  new MeshError(ErrorCode.STORAGE_ERROR, message, { path });
