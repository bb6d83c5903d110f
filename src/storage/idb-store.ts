import { delMany, getMany, keys, promisifyRequest, type UseStore } from 'idb-keyval';
import type { Store } from '../core/environment.js';
import { ErrorCode, MeshError } from '../core/errors.js';

/** Every node's database is named this prefix and its node id (the sweeper of abandoned ones relies on it). */
export const DB_PREFIX = 'macula-web/node/';
const STORE_NAME = 'state';
/** How long an open may wait on another connection that will not close before it fails. */
const BLOCKED_TIMEOUT_MS = 10_000;

export interface IdbStoreOptions {
  /** Give up on an open that stays `blocked` this long (ms); default 10 s. */
  blockedTimeoutMs?: number;
}

/**
 * The worker's durable store: idb-keyval's free functions over a database of this node's
 * own. All tabs of an origin share IndexedDB, so each node id gets its own database
 * (`macula-web/node/<id>`) rather than a key prefix in one shared database: tabs never
 * write over each other, their readwrite transactions never queue behind one another
 * (transactions over one object store serialize across every tab of the origin), a new
 * node never needs a version upgrade that another tab could block, and a dead identity
 * is dropped with one deleteDatabase. Should another context upgrade or delete the
 * database anyway (`versionchange`), the connection closes and the next call reopens it.
 */
export function createIdbStore(
  nodeIdHex: string,
  factory: IDBFactory = indexedDB,
  options: IdbStoreOptions = {},
): Store {
  const dbName = DB_PREFIX + nodeIdHex;
  const use = reopeningStore(factory, dbName, options.blockedTimeoutMs ?? BLOCKED_TIMEOUT_MS);
  return {
    getMany: (k) => guard(getMany(k, use), dbName),
    setMany: (entries) => guard(setAllOrNothing(entries, use), dbName),
    delMany: (k) => guard(delMany(k, use), dbName),
    keys: () =>
      guard(
        keys<string>(use).then((ks) => ks.filter((k): k is string => typeof k === 'string')),
        dbName,
      ),
  };
}

/**
 * idb-keyval's createStore caches one connection and cannot react to `versionchange` or
 * `blocked`; this UseStore can. It opens without a version (whatever version exists is
 * fine) and upgrades only when its object store is missing.
 */
function reopeningStore(factory: IDBFactory, dbName: string, blockedTimeoutMs: number): UseStore {
  let db: Promise<IDBDatabase> | undefined;

  const request = (version?: number): Promise<IDBDatabase> =>
    new Promise((resolve, reject) => {
      const req = version === undefined ? factory.open(dbName) : factory.open(dbName, version);
      let gaveUp = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      req.onupgradeneeded = () => {
        if (!req.result.objectStoreNames.contains(STORE_NAME)) req.result.createObjectStore(STORE_NAME);
      };
      req.onblocked = () => {
        // Another connection holds an older version open and has not closed on its
        // versionchange: wait a bounded time, then fail instead of hanging the node.
        timer ??= setTimeout(() => {
          gaveUp = true;
          reject(
            new MeshError(
              ErrorCode.STORAGE_ERROR,
              `IndexedDB database "${dbName}" is blocked: another tab of this site holds it open at an older version; close or reload other tabs`,
              { name: 'BlockedError', dbName },
            ),
          );
        }, blockedTimeoutMs);
      };
      req.onsuccess = () => {
        clearTimeout(timer);
        const conn = req.result;
        if (gaveUp) {
          conn.close(); // nobody waits for it any more; do not hold the database open
          return;
        }
        resolve(conn);
      };
      req.onerror = () => {
        clearTimeout(timer);
        reject(req.error ?? new Error(`cannot open ${dbName}`));
      };
    });

  const open = async (): Promise<IDBDatabase> => {
    let conn = await request();
    if (!conn.objectStoreNames.contains(STORE_NAME)) {
      // Created by something else without our store: add it in an upgrade.
      const version = conn.version + 1;
      conn.close();
      conn = await request(version);
    }
    conn.onversionchange = () => {
      conn.close();
      db = undefined;
    };
    conn.onclose = () => {
      db = undefined;
    };
    return conn;
  };

  return (txMode, callback) => {
    if (db === undefined) {
      const opening = open();
      db = opening;
      opening.catch(() => {
        if (db === opening) db = undefined;
      });
    }
    return db.then((conn) => callback(conn.transaction(STORE_NAME, txMode).objectStore(STORE_NAME)));
  };
}

/**
 * Every entry in one transaction, and none if any put fails. idb-keyval's setMany lets a
 * put that throws (a value that cannot be cloned) reject the promise while the puts
 * before it still commit: a snapshot half old, half new. Aborting the transaction on
 * such a throw rolls those back.
 */
function setAllOrNothing(entries: Array<[IDBValidKey, unknown]>, use: UseStore): Promise<void> {
  return use('readwrite', (store) => {
    try {
      for (const [key, value] of entries) store.put(value, key);
    } catch (e) {
      store.transaction.abort();
      throw e;
    }
    return promisifyRequest(store.transaction);
  });
}

/** A full quota (or any other storage failure) becomes a typed STORAGE_ERROR the node can act on. */
async function guard<T>(p: Promise<T>, dbName: string): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw toStorageError(e, dbName);
  }
}

export function toStorageError(e: unknown, dbName: string): MeshError {
  if (e instanceof MeshError) return e;
  const name = (e as { name?: unknown } | null)?.name;
  const shown = typeof name === 'string' ? name : 'Error';
  // Firefox reported a full quota as NS_ERROR_DOM_QUOTA_REACHED; old engines as code 22.
  const quota =
    shown === 'QuotaExceededError' ||
    shown === 'NS_ERROR_DOM_QUOTA_REACHED' ||
    (e as { code?: unknown } | null)?.code === 22;
  const message = quota
    ? `IndexedDB quota exceeded writing "${dbName}": the peer keeps running from memory; free disk space or clear this site's data`
    : `IndexedDB failed on "${dbName}": ${(e as Error | null)?.message || shown}`;
  return new MeshError(ErrorCode.STORAGE_ERROR, message, { name: quota ? 'QuotaExceededError' : shown, dbName });
}
