import { unlinkSync } from 'node:fs';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, MeshError } from '../core/errors.js';

const LOCK_FILE = 'lock';
/** Directories a peer of this process holds (a lock file names the process, not the peer). */
const heldHere = new Set<string>();

export interface DataDirLock {
  release(): void;
}

/**
 * Make the data directory (owner-only) and take it for this peer. Two peers on one
 * directory would present one node id twice and overwrite each other's snapshots, as two
 * tabs sharing an identity would (the browser guards that with a Web Lock); here a lock
 * file holds the owning process id. A lock left by a process that no longer runs (a crash,
 * a kill) is taken over.
 */
export async function takeDataDir(dir: string): Promise<DataDirLock> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new MeshError(ErrorCode.STORAGE_ERROR, `cannot create the data directory ${dir}: ${(e as Error).message}`, {
      path: dir,
    });
  }
  if (heldHere.has(dir)) throw inUse(dir, process.pid);
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'EEXIST' || attempt > 0) {
        throw new MeshError(ErrorCode.STORAGE_ERROR, `cannot lock the data directory ${dir}: ${(e as Error).message}`, {
          path: dir,
        });
      }
      const owner = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isRunning(owner)) throw inUse(dir, owner);
      await unlink(path).catch(() => undefined); // stale: its process is gone
    }
  }
  heldHere.add(dir);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      heldHere.delete(dir);
      // At once, not later: a peer started on this directory right after must not lose its new lock to this unlink.
      try {
        unlinkSync(path);
      } catch {
        // Already gone.
      }
    },
  };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it runs, as another user.
    return (e as { code?: unknown }).code === 'EPERM';
  }
}

const inUse = (dir: string, pid: number): MeshError =>
  new MeshError(
    ErrorCode.STORAGE_ERROR,
    `the data directory ${dir} is in use by another peer (process ${pid}); give each peer a directory of its own`,
    { path: dir, pid },
  );
