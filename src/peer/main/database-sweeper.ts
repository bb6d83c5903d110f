/**
 * Every tab identity keeps its records in an IndexedDB database of its own, and a closed
 * tab's identity is gone with its sessionStorage, so an origin whose users open the app
 * daily would gather hundreds of databases. The sweeper removes those no tab runs (the
 * identity's Web Lock is free) once they have been unused longer than an age, and never a
 * live tab's: it deletes while holding that lock, so no tab can take the identity back
 * meanwhile (a restored tab would find the lock held and start a new identity).
 *
 * "Unused since" is kept in localStorage (node id → last time a tab ran it): every tab
 * stamps its own id when it starts, every hour and when the page is hidden, and a sweep
 * stamps every live one it meets. A database never stamped gets its clock started at the
 * first sweep that sees it.
 */
import { isIdHex } from '../../core/id.js';
import { DB_PREFIX } from '../../storage/idb-store.js';
import { identityLockName } from './tab-identity.js';

export interface SweeperEnv {
  /** This origin's database names; undefined when the browser cannot list them. */
  listDatabases(): Promise<string[] | undefined>;
  /** Runs `f` holding the lock when no one holds it; resolves false (without running it) otherwise. */
  withFreeLock(name: string, f: () => Promise<void>): Promise<boolean>;
  deleteDatabase(name: string): Promise<void>;
  readSeen(): Record<string, number>;
  writeSeen(seen: Record<string, number>): void;
  now(): number;
}

export interface SweepReport {
  removed: string[];
  /** Held by a live tab. */
  live: number;
  /** Unused for less than the age (or seen for the first time). */
  young: number;
}

/**
 * One sweep. `ownId` is this tab's node id when it keeps a database (it is stamped, never
 * touched); `maxAgeMs` is how long an unused database is kept.
 */
export async function sweepAbandonedDatabases(
  env: SweeperEnv,
  ownId: string | undefined,
  maxAgeMs: number,
): Promise<SweepReport> {
  const report: SweepReport = { removed: [], live: 0, young: 0 };
  const names = await env.listDatabases();
  if (names === undefined) return report;
  const ids = names
    .filter((n) => n.startsWith(DB_PREFIX))
    .map((n) => n.slice(DB_PREFIX.length))
    .filter(isIdHex);
  const seen = env.readSeen();
  const now = env.now();
  for (const id of ids) {
    if (id === ownId) continue;
    const last = seen[id];
    if (last === undefined || now - last < maxAgeMs) {
      seen[id] ??= now;
      report.young++;
      continue;
    }
    const removed = await env.withFreeLock(identityLockName(id), () => env.deleteDatabase(DB_PREFIX + id));
    if (removed) {
      delete seen[id];
      report.removed.push(id);
    } else {
      seen[id] = now;
      report.live++;
    }
  }
  // Forget ids whose database is gone (removed by another tab, or by the user).
  const present = new Set(ids);
  for (const id of Object.keys(seen)) if (!present.has(id) && id !== ownId) delete seen[id];
  if (ownId !== undefined) seen[ownId] = now;
  env.writeSeen(seen);
  return report;
}

/** Stamps this tab's own id as in use now. */
export function stampOwn(env: Pick<SweeperEnv, 'readSeen' | 'writeSeen' | 'now'>, ownId: string): void {
  const seen = env.readSeen();
  seen[ownId] = env.now();
  env.writeSeen(seen);
}

/** Parses the stamps kept in localStorage; anything malformed is dropped, never thrown. */
export function parseSeen(raw: string | null | undefined): Record<string, number> {
  if (typeof raw !== 'string') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
  const seen: Record<string, number> = {};
  for (const [id, at] of Object.entries(parsed as Record<string, unknown>)) {
    if (isIdHex(id) && typeof at === 'number' && Number.isFinite(at)) seen[id] = at;
  }
  return seen;
}
