import { delMany, getMany, keys, promisifyRequest, setMany, type UseStore } from 'idb-keyval';
import type { Store } from '../core/environment.js';
import { ErrorCode, MeshError } from '../core/errors.js';

const DB_PREFIX = 'macula-web/node/';
const STORE_NAME = 'state';

/**
 * The worker's durable store: idb-keyval's free functions over a database of this node's
 * own. All tabs of an origin share IndexedDB, so each node id gets its own database
 * (`macula-web/node/<id>`): tabs never write over each other and never need a version
 * upgrade that another tab could block. Should another context upgrade or delete the
 * database anyway (`versionchange`), the connection closes and the next call reopens it.
 */
export function createIdbStore(nodeIdHex: string, factory: IDBFactory = indexedDB): Store {
  const use = reopeningStore(factory, DB_PREFIX + nodeIdHex);
  return {
    getMany: (k) => guard(getMany(k, use)),
    setMany: (entries) => guard(setMany(entries, use)),
    delMany: (k) => guard(delMany(k, use)),
    keys: () => guard(keys<string>(use)),
  };
}

function reopeningStore(factory: IDBFactory, dbName: string): UseStore {
  let db: Promise<IDBDatabase> | undefined;
  const open = (): Promise<IDBDatabase> => {
    const request = factory.open(dbName);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE_NAME);
    request.onblocked = () => {
      // Another connection holds an older version open; it closes on its versionchange.
    };
    const opened = promisifyRequest(request).then((conn) => {
      conn.onversionchange = () => {
        conn.close();
        db = undefined;
      };
      conn.onclose = () => {
        db = undefined;
      };
      return conn;
    });
    opened.catch(() => {
      db = undefined;
    });
    return opened;
  };
  return (txMode, callback) => {
    db ??= open();
    return db.then((conn) => callback(conn.transaction(STORE_NAME, txMode).objectStore(STORE_NAME)));
  };
}

/** A full quota (or any other storage failure) becomes a typed STORAGE_ERROR the node can act on. */
async function guard<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    const name = (e as { name?: string } | null)?.name ?? 'Error';
    const message = name === 'QuotaExceededError'
      ? 'IndexedDB quota exceeded: the peer keeps running from memory'
      : `IndexedDB failed: ${(e as Error)?.message ?? name}`;
    throw new MeshError(ErrorCode.STORAGE_ERROR, message, { name });
  }
}
