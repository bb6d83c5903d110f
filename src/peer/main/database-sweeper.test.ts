import { describe, expect, it } from 'vitest';
import { DB_PREFIX } from '../../storage/idb-store.js';
import { parseSeen, sweepAbandonedDatabases, type SweeperEnv } from './database-sweeper.js';
import { identityLockName } from './tab-identity.js';

const DAY = 86_400_000;
const id = (c: string): string => c.repeat(64);

/** An origin's databases, its held identity locks and its localStorage stamps, in memory. */
function origin(databases: string[], held: string[], seen: Record<string, number>, now: number) {
  const state = {
    databases: new Set(databases.map((d) => DB_PREFIX + d)),
    held: new Set(held.map(identityLockName)),
    seen: { ...seen },
    lockedWhileDeleting: [] as boolean[],
  };
  const env: SweeperEnv = {
    listDatabases: async () => [...state.databases, 'some-other-library-db'],
    withFreeLock: async (name, f) => {
      if (state.held.has(name)) return false;
      state.held.add(name);
      try {
        await f();
      } finally {
        state.held.delete(name);
      }
      return true;
    },
    deleteDatabase: async (name) => {
      state.lockedWhileDeleting.push(state.held.has(identityLockName(name.slice(DB_PREFIX.length))));
      state.databases.delete(name);
    },
    readSeen: () => ({ ...state.seen }),
    writeSeen: (s) => (state.seen = { ...s }),
    now: () => now,
  };
  return { env, state };
}

describe('sweeping abandoned IndexedDB databases', () => {
  it("removes a closed tab's database past the age, and keeps live, young and its own", async () => {
    const now = 100 * DAY;
    const [own, live, old, young] = [id('a'), id('b'), id('c'), id('d')];
    const { env, state } = origin(
      [own, live, old, young],
      [own, live],
      { [own]: 0, [live]: now - 30 * DAY, [old]: now - 8 * DAY, [young]: now - DAY },
      now,
    );
    const report = await sweepAbandonedDatabases(env, own, 7 * DAY);
    expect(report).toEqual({ removed: [old], live: 1, young: 1 });
    expect([...state.databases].sort()).toEqual([own, live, young].map((d) => DB_PREFIX + d).sort());
    // Deleted while holding the identity's lock, so no tab could take the identity back meanwhile.
    expect(state.lockedWhileDeleting).toEqual([true]);
    // The live tab and this tab are stamped now; the removed one is forgotten; the young one keeps its stamp.
    expect(state.seen).toEqual({ [own]: now, [live]: now, [young]: now - DAY });
  });

  it("never removes a live tab's database, however old its stamp", async () => {
    const live = id('e');
    const { env, state } = origin([live], [live], { [live]: 0 }, 365 * DAY);
    expect((await sweepAbandonedDatabases(env, undefined, DAY)).removed).toEqual([]);
    expect(state.databases.size).toBe(1);
  });

  it('starts the clock of a database it has never seen instead of removing it', async () => {
    const stray = id('f');
    const first = origin([stray], [], {}, 10 * DAY);
    expect(await sweepAbandonedDatabases(first.env, undefined, DAY)).toEqual({ removed: [], live: 0, young: 1 });
    expect(first.state.seen).toEqual({ [stray]: 10 * DAY });
    const later = origin([stray], [], first.state.seen, 12 * DAY);
    expect((await sweepAbandonedDatabases(later.env, undefined, DAY)).removed).toEqual([stray]);
  });

  it('forgets stamps of databases that are gone, and touches nothing when the browser cannot list databases', async () => {
    const gone = id('1');
    const { env, state } = origin([], [], { [gone]: 5 }, DAY);
    await sweepAbandonedDatabases(env, undefined, DAY);
    expect(state.seen).toEqual({});
    const blind = origin([gone], [], { [gone]: 0 }, 100 * DAY);
    blind.env.listDatabases = async () => undefined;
    expect(await sweepAbandonedDatabases(blind.env, undefined, DAY)).toEqual({ removed: [], live: 0, young: 0 });
    expect(blind.state.databases.size).toBe(1);
  });

  it('reads stamps defensively: malformed storage is an empty map, bad entries are dropped', () => {
    expect(parseSeen(null)).toEqual({});
    expect(parseSeen('{not json')).toEqual({});
    expect(parseSeen('[1,2]')).toEqual({});
    expect(parseSeen(JSON.stringify({ [id('2')]: 7, short: 1, [id('3')]: 'x', [id('4')]: null }))).toEqual({
      [id('2')]: 7,
    });
  });
});
