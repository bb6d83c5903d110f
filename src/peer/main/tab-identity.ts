import { cryptoRandom } from '../../core/environment.js';
import { fromHex, isIdHex, toHex } from '../../core/id.js';
import type { Identity } from '../../core/identity.js';
import { asyncEd25519 } from '../../crypto/async-ed25519.js';

const STORAGE_KEY = 'macula-web/identity/v1';

/**
 * One identity per tab (docs/ARCHITECTURE.md, Identity and trust): the secret key lives in sessionStorage, which
 * survives a reload but belongs to this tab. A duplicated tab starts with a copy of
 * sessionStorage, so the key is also guarded by a Web Lock held for the tab's life: a
 * tab that finds the lock taken is the copy and makes itself a new identity.
 *
 * Only a saved key waits for the lock: whether it is free decides which identity the tab
 * runs. A new key is random, so no other tab holds its lock; the tab takes it without waiting
 * for the browser's answer (tens of ms on a loaded machine, on the way to the first channel),
 * and saves the key only once the lock is held, so a copy of this tab can never find the key
 * without finding the lock taken too.
 */
export async function loadTabIdentity(realm: string): Promise<Identity> {
  const storageKey = `${STORAGE_KEY}/${realm}`;
  const saved = readSession(storageKey);
  // The public key comes from the platform's Ed25519 where it has one: the pure-JS one's first
  // use in a fresh page took ~100 ms of the join (BENCHMARKS.md, Browser).
  const ed = asyncEd25519();
  if (saved !== undefined) {
    const identity = await ed.identity(fromHex(saved));
    if (await claim(identity.nodeIdHex)) return identity;
  }
  const identity = await ed.identity(cryptoRandom.bytes(32));
  void claim(identity.nodeIdHex).then((held) => {
    // Not held cannot happen to a key drawn just now; if it did, the key is not saved and a reload makes a new one.
    if (held) writeSession(storageKey, toHex(identity.secretKey));
  });
  return identity;
}

/** The Web Lock a live tab holds for its identity: free means no tab runs that node. */
export const identityLockName = (nodeIdHex: string): string => `macula-web/node/${nodeIdHex}`;

/** Hold a lock named after the node id until the tab goes away; false when another tab holds it. */
function claim(nodeIdHex: string): Promise<boolean> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (locks === undefined) return Promise.resolve(true);
  return new Promise((resolve) => {
    void locks.request(identityLockName(nodeIdHex), { ifAvailable: true }, (lock) => {
      resolve(lock !== null);
      // Keep the lock for the page's lifetime: the browser releases it when the tab closes.
      return lock === null ? undefined : new Promise<void>(() => undefined);
    });
  });
}

function readSession(key: string): string | undefined {
  try {
    const v = globalThis.sessionStorage?.getItem(key);
    return v !== null && v !== undefined && isIdHex(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function writeSession(key: string, value: string): void {
  try {
    globalThis.sessionStorage?.setItem(key, value);
  } catch {
    // Storage disabled: the tab still works, with a new identity on reload.
  }
}
