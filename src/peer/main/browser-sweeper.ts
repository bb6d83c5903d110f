/**
 * The database sweeper bound to the browser: IndexedDB's database list, Web Locks,
 * localStorage for the "unused since" stamps. Without Web Locks or a database list
 * nothing can tell a live tab's database from an abandoned one, so nothing is removed.
 */
import { parseSeen, stampOwn, sweepAbandonedDatabases, type SweeperEnv } from './database-sweeper.js';

const SEEN_KEY = 'macula-web/databases/v1';
const SWEEP_EVERY_MS = 60 * 60_000;
/** A delete that another connection blocks is left to finish on its own after this. */
const DELETE_WAIT_MS = 10_000;

export interface DatabaseSweeper {
  /** Databases of closed tabs this tab has removed. */
  readonly removed: number;
  stop(): void;
}

export function browserSweeperEnv(): SweeperEnv | undefined {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  const idb = globalThis.indexedDB as IDBFactory | undefined;
  if (locks === undefined || idb === undefined || typeof idb.databases !== 'function') return undefined;
  return {
    listDatabases: async () => (await idb.databases()).flatMap((d) => (d.name === undefined ? [] : [d.name])),
    withFreeLock: (name, f) =>
      locks.request(name, { ifAvailable: true }, async (lock) => {
        if (lock === null) return false;
        await f();
        return true;
      }),
    deleteDatabase: (name) =>
      new Promise<void>((resolve) => {
        const req = idb.deleteDatabase(name);
        req.onsuccess = () => resolve();
        req.onerror = () => resolve();
        req.onblocked = () => setTimeout(resolve, DELETE_WAIT_MS);
      }),
    readSeen: () => {
      try {
        return parseSeen(globalThis.localStorage?.getItem(SEEN_KEY));
      } catch {
        return {};
      }
    },
    writeSeen: (seen) => {
      try {
        globalThis.localStorage?.setItem(SEEN_KEY, JSON.stringify(seen));
      } catch {
        // Storage disabled or full: stamps are a hint; without them nothing is old enough to remove.
      }
    },
    now: () => Date.now(),
  };
}

/**
 * Sweeps now and every hour; stamps this tab's own database (ownId, when it keeps one) in
 * use every hour and when the page is hidden.
 */
export function startDatabaseSweeper(ownId: string | undefined, maxAgeMs: number): DatabaseSweeper {
  const env = browserSweeperEnv();
  let removed = 0;
  if (env === undefined) return { removed, stop: () => undefined };
  const sweep = (): void => {
    sweepAbandonedDatabases(env, ownId, maxAgeMs).then(
      (r) => (removed += r.removed.length),
      () => undefined,
    );
  };
  const onHide = (): void => {
    if (ownId !== undefined) stampOwn(env, ownId);
  };
  sweep();
  const timer = setInterval(sweep, SWEEP_EVERY_MS);
  globalThis.addEventListener?.('pagehide', onHide);
  return {
    get removed() {
      return removed;
    },
    stop() {
      clearInterval(timer);
      globalThis.removeEventListener?.('pagehide', onHide);
      onHide();
    },
  };
}
