import { describe, expect, it } from 'vitest';
import { REPLACEMENT_CACHE_SIZE } from '../constants.js';
import { seededRandom } from '../environment.js';
import type { Random } from '../environment.js';
import { bucketIndex, compareDistance, randomIdInBucket, toHex } from '../id.js';
import type { NodeId } from '../id.js';
import { sharedIdPool } from '../../sim/id-pool.js';
import { RoutingTable } from './routing-table.js';
import type { ContactId } from './routing-table.js';

const hexes = (cs: readonly ContactId[]): string[] => cs.map((c) => c.idHex);

/** `count` distinct ids in `self`'s bucket `index`. */
function idsInBucket(self: NodeId, index: number, count: number, rnd: Random): NodeId[] {
  return Array.from({ length: count }, () => randomIdInBucket(self, index, (n) => rnd.bytes(n)));
}

function fullBucket(k = 4, cache = REPLACEMENT_CACHE_SIZE) {
  const rnd = seededRandom(7);
  const self = rnd.bytes(32);
  const table = new RoutingTable(self, { k, replacementCacheSize: cache });
  const members = idsInBucket(self, 3, k, rnd);
  members.forEach((id, t) => table.update(id, t));
  return { rnd, self, table, members };
}

describe('RoutingTable', () => {
  it('never adds self', () => {
    const self = seededRandom(1).bytes(32);
    const table = new RoutingTable(self);
    expect(table.update(self.slice(), 1)).toEqual({ kind: 'self' });
    expect(table.size).toBe(0);
    expect(table.has(self)).toBe(false);
  });

  it('places each id in the bucket of its shared prefix length', () => {
    const rnd = seededRandom(2);
    const self = rnd.bytes(32);
    const table = new RoutingTable(self);
    for (const i of [0, 1, 7, 8, 9, 100, 254, 255]) {
      const [id] = idsInBucket(self, i, 1, rnd);
      expect(table.update(id!, 0).kind).toBe('added');
      expect(bucketIndex(self, id!)).toBe(i);
      expect(hexes(table.bucket(i))).toEqual([toHex(id!)]);
    }
    expect(table.nonEmptyBuckets()).toEqual([0, 1, 7, 8, 9, 100, 254, 255]);
    expect(table.bucketCount).toBe(8);
    expect(table.size).toBe(8);
    expect(table.all()).toHaveLength(8);
  });

  it('keeps buckets in least-recently-seen order and refreshes seen contacts', () => {
    const rnd = seededRandom(3);
    const self = rnd.bytes(32);
    const table = new RoutingTable(self);
    const [a, b, c] = idsInBucket(self, 0, 3, rnd) as [NodeId, NodeId, NodeId];
    table.update(a, 1, 10);
    table.update(b, 2);
    table.update(c, 3);
    expect(table.recordFailure(a)).toBe(1);
    expect(table.recordFailure(toHex(a))).toBe(2);

    const result = table.update(a, 4);
    expect(result.kind).toBe('updated');
    expect(hexes(table.bucket(0))).toEqual([b, c, a].map(toHex));
    const contact = table.contact(toHex(a))!;
    // rtt kept when the refresh carries none; failures forgiven since it answered.
    expect(contact).toMatchObject({ lastSeen: 4, rttMs: 10, failures: 0 });
    table.update(a, 5, 3);
    expect(table.contact(toHex(a))!.rttMs).toBe(3);
  });

  it("does not alias the caller's id buffer", () => {
    const rnd = seededRandom(4);
    const self = rnd.bytes(32);
    const table = new RoutingTable(self);
    const id = rnd.bytes(32);
    const hex = toHex(id);
    table.update(id, 0);
    id.fill(0);
    expect(toHex(table.get(hex)!.id)).toBe(hex);
  });

  it('takes the ids it keeps from a shared pool when given one, and copies them otherwise', () => {
    const rnd = seededRandom(11);
    const pool = sharedIdPool();
    const a = new RoutingTable(rnd.bytes(32), { ids: pool });
    const b = new RoutingTable(rnd.bytes(32), { ids: pool });
    const own = new RoutingTable(rnd.bytes(32));
    const id = rnd.bytes(32);
    for (const t of [a, b, own]) t.update(id.slice(), 1);
    const hex = toHex(id);
    expect(a.get(hex)!.id).toBe(b.get(hex)!.id);
    expect(a.get(hex)!.idHex).toBe(b.get(hex)!.idHex);
    expect(a.get(hex)!.id).not.toBe(own.get(hex)!.id);
    expect(own.get(hex)!.id).toEqual(id);
    // The pool's copy is its own: the buffer handed in may be reused.
    const given = rnd.bytes(32);
    const viaPool = new RoutingTable(rnd.bytes(32), { ids: pool });
    viaPool.update(given, 2);
    given.fill(0);
    expect(viaPool.closest(given, 1)[0]!.id).not.toEqual(given);
  });

  it('lets go of its own copy of an id it drops, and a reused slot starts afresh', () => {
    const { rnd, self, table, members } = fullBucket(4);
    const gone = toHex(members[0]!);
    const kept = table.idFor(gone);
    expect(table.idFor(gone)).toBe(kept);
    expect(table.recordFailure(gone)).toBe(1);
    table.markLost(gone);
    expect(table.isLost(gone)).toBe(true);
    expect(table.remove(gone)).toBe(true);
    // No longer held: a fresh copy, not the one the table kept.
    expect(table.idFor(gone)).not.toBe(kept);
    expect(table.idFor(gone)).toEqual(kept);
    expect(table.lost).toBe(0);
    // The next contact takes the freed slot with none of the old one's state.
    const [next] = idsInBucket(self, 3, 1, rnd);
    expect(table.update(next!, 20).kind).toBe('added');
    expect(table.contact(toHex(next!))).toMatchObject({ lastSeen: 20, failures: 0, lost: undefined, rttMs: undefined });
    expect(table.isLive(toHex(next!))).toBe(true);
    expect(table.lastSeen(toHex(next!))).toBe(20);
    expect(table.contact(gone)).toBeUndefined();
  });

  it('reports the oldest contact when a bucket is full and caches the candidate', () => {
    const { rnd, self, table, members } = fullBucket(4);
    const [candidate] = idsInBucket(self, 3, 1, rnd);
    const result = table.update(candidate!, 10, 42);
    expect(result.kind).toBe('full');
    if (result.kind !== 'full') return;
    expect(result.bucket).toBe(3);
    expect(result.oldest.idHex).toBe(toHex(members[0]!));
    expect(result.candidate.idHex).toBe(toHex(candidate!));
    expect(table.replacements(3)[0]).toMatchObject({ idHex: toHex(candidate!), lastSeen: 10, rttMs: 42 });
    // Nothing is evicted by the table itself.
    expect(hexes(table.bucket(3))).toEqual(members.map(toHex));
    expect(table.has(candidate!)).toBe(false);
    expect(hexes(table.replacements(3))).toEqual([toHex(candidate!)]);

    // The oldest answered the ping: it stays, moved to the tail.
    expect(table.update(members[0]!, 11).kind).toBe('updated');
    expect(hexes(table.bucket(3))[3]).toBe(toHex(members[0]!));
  });

  it('markDead promotes the most recent replacement, keeping LRS order', () => {
    const { rnd, self, table, members } = fullBucket(4);
    const [r1, r2] = idsInBucket(self, 3, 2, rnd) as [NodeId, NodeId];
    table.update(r1, 10);
    table.update(r2, 11, 5);
    table.update(members[3]!, 12); // newest member, seen after the candidates

    const promoted = table.markDead(members[0]!);
    expect(promoted?.idHex).toBe(toHex(r2));
    expect(promoted).toMatchObject({ lastSeen: 11, rttMs: 5, failures: 0 });
    expect(table.has(members[0]!)).toBe(false);
    expect(table.has(r2)).toBe(true);
    expect(hexes(table.bucket(3))).toEqual([members[1]!, members[2]!, r2, members[3]!].map(toHex));
    expect(hexes(table.replacements(3))).toEqual([toHex(r1)]);

    expect(table.markDead(members[1]!)?.idHex).toBe(toHex(r1));
    expect(table.markDead(members[2]!)).toBeUndefined();
    expect(hexes(table.bucket(3))).toEqual([r1, r2, members[3]!].map(toHex));
    expect(table.markDead(rnd.bytes(32))).toBeUndefined();
  });

  it('bounds and dedupes the replacement cache, keeping the most recent', () => {
    const { rnd, self, table } = fullBucket(2, 3);
    const cands = idsInBucket(self, 3, 5, rnd);
    cands.forEach((id, t) => table.update(id, 100 + t));
    expect(hexes(table.replacements(3))).toEqual([cands[2]!, cands[3]!, cands[4]!].map(toHex));

    // Seen again: moved to the most recent end, not duplicated; rtt carried forward.
    table.update(cands[2]!, 200, 9);
    table.update(cands[2]!, 201);
    const cache = table.replacements(3);
    expect(hexes(cache)).toEqual([cands[3]!, cands[4]!, cands[2]!].map(toHex));
    expect(cache[2]).toMatchObject({ lastSeen: 201, rttMs: 9 });

    // A candidate that gets into the bucket leaves the cache.
    table.remove(table.bucket(3)[0]!.id);
    expect(table.update(cands[3]!, 300).kind).toBe('added');
    expect(hexes(table.replacements(3))).toEqual([cands[4]!, cands[2]!].map(toHex));

    // A dead candidate is forgotten from the cache too.
    expect(table.markDead(cands[4]!)).toBeUndefined();
    expect(hexes(table.replacements(3))).toEqual([toHex(cands[2]!)]);
  });

  it('a zero-size replacement cache caches nothing', () => {
    const { rnd, self, table } = fullBucket(2, 0);
    const [c] = idsInBucket(self, 3, 1, rnd);
    expect(table.update(c!, 5).kind).toBe('full');
    expect(table.replacements(3)).toEqual([]);
  });

  it('remove forgets a contact without promoting', () => {
    const { rnd, self, table, members } = fullBucket(2);
    const [c] = idsInBucket(self, 3, 1, rnd);
    table.update(c!, 5);
    expect(table.remove(toHex(members[0]!))).toBe(true);
    expect(table.remove(members[0]!)).toBe(false);
    expect(table.size).toBe(1);
    expect(hexes(table.replacements(3))).toEqual([toHex(c!)]);
    expect(table.recordFailure(members[0]!)).toBe(0);
  });

  it('markLost keeps a contact without a replacement out of closest() and persistence until it is heard from', () => {
    const { rnd, table, members } = fullBucket(4);
    const target = members[0]!;
    const v = table.version;
    expect(table.markLost(target)).toBe('lost');
    expect(table.version).toBeGreaterThan(v);
    expect(table.markLost(target)).toBe('lost');
    expect(table.lost).toBe(1);
    expect(table.size).toBe(4);
    expect(table.contact(toHex(target))?.lost).toBe(true);
    expect(hexes(table.closest(target, 4))).not.toContain(toHex(target));
    expect(hexes(table.closest(target, 4, undefined, true))[0]).toBe(toHex(target));
    expect(table.toJSON().contacts.map((c) => c.id)).not.toContain(toHex(target));

    // Heard from again: in use once more.
    table.update(target, 50);
    expect(table.lost).toBe(0);
    expect(table.contact(toHex(target))?.lost).toBeUndefined();
    expect(hexes(table.closest(target, 1))).toEqual([toHex(target)]);

    // A lost contact that dies or is removed leaves the count straight.
    table.markLost(members[1]!);
    table.markLost(members[2]!);
    table.markDead(members[1]!);
    table.remove(members[2]!);
    expect(table.lost).toBe(0);
    expect(table.markLost(rnd.bytes(32))).toBe('unknown');
  });

  it('markLost replaces a contact at once when its bucket has a replacement waiting', () => {
    const { rnd, self, table, members } = fullBucket(4);
    const [r] = idsInBucket(self, 3, 1, rnd);
    expect(table.update(r!, 10).kind).toBe('full');
    expect(table.markLost(members[2]!)).toBe('replaced');
    expect(table.has(members[2]!)).toBe(false);
    expect(table.has(r!)).toBe(true);
    expect(table.lost).toBe(0);
  });
  it('tells onDead of every id markDead drops, from a bucket or a replacement cache, and of no other', () => {
    const rnd = seededRandom(8);
    const self = rnd.bytes(32);
    const dead: string[] = [];
    const table = new RoutingTable(self, { k: 2, onDead: (hex) => dead.push(hex) });
    const [a, b, cached, stranger] = idsInBucket(self, 5, 4, rnd) as [NodeId, NodeId, NodeId, NodeId];
    [a, b, cached].forEach((id, t) => table.update(id, t));
    table.markDead(cached);
    expect(table.markLost(a)).toBe('lost');
    table.remove(b);
    table.markDead(stranger);
    table.markDead(a);
    expect(dead).toEqual([toHex(cached), toHex(a)]);
  });

  it('finds a contact given as bytes only when every byte matches, not just the first eight', () => {
    const rnd = seededRandom(11);
    const self = rnd.bytes(32);
    const table = new RoutingTable(self);
    const id = rnd.bytes(32);
    table.update(id, 5);
    const twin = id.slice();
    twin[31] = twin[31]! ^ 1;
    expect(table.has(id)).toBe(true);
    expect(table.lastSeen(id)).toBe(5);
    expect(table.has(twin)).toBe(false);
    expect(table.isLive(twin)).toBe(false);
    expect(table.lastSeen(twin)).toBeUndefined();
    // Its twin is a contact of its own, and updating either leaves the other as it was.
    expect(table.update(twin, 6).kind).toBe('added');
    expect(table.update(id, 7).kind).toBe('updated');
    expect([table.lastSeen(id), table.lastSeen(twin)]).toEqual([7, 6]);
    expect(table.has(self)).toBe(false);
    expect(table.has('not hex')).toBe(false);
  });

  it('members() reads a bucket in place as bucket() copies it: ids, lastSeen and lost, oldest first', () => {
    const { table, members } = fullBucket(4);
    table.markLost(members[1]!);
    table.update(members[0]!, 50);
    const view = table.members(3);
    const read = Array.from({ length: view.length }, (_, at) => ({
      idHex: view.ref(at).idHex,
      lastSeen: view.lastSeen(at),
      lost: view.lost(at),
    }));
    expect(read).toEqual(table.bucket(3).map((c) => ({ idHex: c.idHex, lastSeen: c.lastSeen, lost: c.lost === true })));
    // members[0] was heard from last: it moved to the end, behind the lost members[1].
    expect(read.map((m) => m.lost)).toEqual([true, false, false, false]);
    expect(table.members(200).length).toBe(0);
  });

  it('finds a contact given as hex in every bucket (its bucket read off the hex)', () => {
    const rnd = seededRandom(12);
    const self = rnd.bytes(32);
    const table = new RoutingTable(self);
    const ids = Array.from({ length: 70 }, (_, i) => randomIdInBucket(self, i, (n) => rnd.bytes(n)));
    ids.forEach((id, i) => table.update(id, 1000 + i));
    ids.forEach((id, i) => {
      expect(table.get(toHex(id))?.idHex).toBe(toHex(id));
      expect(table.lastSeen(toHex(id))).toBe(1000 + i);
      expect(table.isLive(toHex(id))).toBe(true);
    });
    expect(table.get(toHex(self))).toBeUndefined();
  });

  it('rejects bad arguments with labelled errors', () => {
    const self = seededRandom(5).bytes(32);
    expect(() => new RoutingTable(new Uint8Array(31))).toThrow(/self/);
    expect(() => new RoutingTable(self, { k: 0 })).toThrow(/opts\.k/);
    expect(() => new RoutingTable(self, { replacementCacheSize: -1 })).toThrow(/replacementCacheSize/);
    const table = new RoutingTable(self);
    expect(() => table.update(new Uint8Array(3), 0)).toThrow(/id/);
    expect(() => table.closest(new Uint8Array(3), 1)).toThrow(/target/);
    expect(() => table.touchBucket(256, 0)).toThrow(/\bi\b/);
    expect(table.has('not hex')).toBe(false);
    expect(table.markDead('zz')).toBeUndefined();
  });

  describe('closest', () => {
    const brute = (table: RoutingTable, target: NodeId, n: number, exclude?: (c: ContactId) => boolean): string[] =>
      hexes(
        table
          .all()
          .filter((c) => !exclude?.(c))
          .sort((a, b) => compareDistance(target, a.id, b.id))
          .slice(0, n),
      );

    const cases = [
      { k: 20, inserts: 0 },
      { k: 20, inserts: 5 },
      { k: 20, inserts: 3_000 },
      { k: 200, inserts: 5_000 },
      { k: 1_000, inserts: 2_500 },
    ];
    for (const { k, inserts } of cases) {
      it(`matches brute force (k=${k}, ${inserts} ids offered)`, () => {
        const rnd = seededRandom(1_000 + k + inserts);
        const self = rnd.bytes(32);
        const table = new RoutingTable(self, { k });
        for (let i = 0; i < inserts; i++) table.update(rnd.bytes(32), i);
        // Some ids near self, so deep buckets are populated as in a real network.
        for (let i = 0; i < 40 && inserts > 0; i++)
          table.update(
            randomIdInBucket(self, 8 + (i % 30), (n) => rnd.bytes(n)),
            i,
          );
        const targets: NodeId[] = [self.slice()];
        for (let i = 0; i < 60; i++) targets.push(rnd.bytes(32));
        for (let i = 0; i < 30; i++) targets.push(randomIdInBucket(self, i * 8, (n) => rnd.bytes(n)));
        for (const c of table.all().slice(0, 10)) targets.push(c.id);
        const odd = (c: ContactId) => (c.id[31]! & 1) === 1;
        for (const target of targets) {
          for (const n of [1, 3, 20, table.size, table.size + 7]) {
            const got = table.closest(target, n);
            expect(got.length).toBe(Math.min(n, table.size));
            expect(hexes(got)).toEqual(brute(table, target, n));
          }
          expect(hexes(table.closest(target, 20, odd))).toEqual(brute(table, target, 20, odd));
        }
      });
    }

    it('matches brute force for members that agree on their first eight bytes and for buckets past bit 38', () => {
      // closest() keys members by their first eight bytes (ContactSlots.hi, lo): ties there,
      // and buckets whose distance keys start past byte 4, must fall back to the whole id.
      const rnd = seededRandom(77);
      const self = rnd.bytes(32);
      const table = new RoutingTable(self, { k: 20 });
      const twinBase = randomIdInBucket(self, 2, (n) => rnd.bytes(n));
      for (let i = 0; i < 12; i++) {
        const twin = twinBase.slice();
        for (let b = 8; b < 32; b++) twin[b] = rnd.bytes(1)[0]!;
        table.update(twin, i);
      }
      for (const index of [39, 40, 47, 60, 100, 200]) {
        for (const id of idsInBucket(self, index, 3, rnd)) table.update(id, index);
      }
      for (let i = 0; i < 50; i++) table.update(rnd.bytes(32), 100 + i);
      const targets: NodeId[] = [self.slice(), twinBase];
      for (let i = 0; i < 20; i++) targets.push(rnd.bytes(32));
      for (const index of [38, 39, 41, 60, 100, 200, 250])
        targets.push(randomIdInBucket(self, index, (n) => rnd.bytes(n)));
      for (const target of targets) {
        for (const n of [1, 5, 20, table.size])
          expect(hexes(table.closest(target, n))).toEqual(brute(table, target, n));
      }
    });

    it('returns nothing for n <= 0 and includes a contact equal to the target', () => {
      const rnd = seededRandom(9);
      const table = new RoutingTable(rnd.bytes(32));
      const id = rnd.bytes(32);
      table.update(id, 0);
      expect(table.closest(id, 0)).toEqual([]);
      expect(table.closest(id, -1)).toEqual([]);
      expect(hexes(table.closest(id, 1))).toEqual([toHex(id)]);
    });
  });

  describe('staleBuckets', () => {
    it('is empty for an empty table', () => {
      const table = new RoutingTable(seededRandom(10).bytes(32));
      expect(table.staleBuckets(1e12, 1000)).toEqual([]);
    });

    it('reports buckets up to one past the deepest non-empty one that were not touched', () => {
      const rnd = seededRandom(11);
      const self = rnd.bytes(32);
      const table = new RoutingTable(self);
      table.update(idsInBucket(self, 0, 1, rnd)[0]!, 1_000);
      table.update(idsInBucket(self, 4, 1, rnd)[0]!, 1_000);
      // Never-touched buckets in range are stale right away: a new node refreshes them once.
      expect(table.staleBuckets(1_000, 500)).toEqual([1, 2, 3, 5]);

      for (const i of [1, 2, 3, 5]) table.touchBucket(i, 1_200);
      expect(table.staleBuckets(1_400, 500)).toEqual([]);
      expect(table.staleBuckets(1_500, 500)).toEqual([0, 4]);
      expect(table.staleBuckets(1_700, 500)).toEqual([0, 1, 2, 3, 4, 5]);

      // A lookup or an update defers the bucket's refresh; touching never moves time back.
      table.touchBucket(0, 1_600);
      table.touchBucket(0, 10);
      table.update(idsInBucket(self, 4, 1, rnd)[0]!, 1_650);
      expect(table.staleBuckets(1_700, 500)).toEqual([1, 2, 3, 5]);
    });

    it('stops at bucket 255', () => {
      const rnd = seededRandom(12);
      const self = rnd.bytes(32);
      const table = new RoutingTable(self);
      table.update(idsInBucket(self, 255, 1, rnd)[0]!, 0);
      const stale = table.staleBuckets(0, 1);
      expect(stale).toHaveLength(255);
      expect(stale.at(-1)).toBe(254);
    });
  });

  describe('persistence', () => {
    it('round-trips contacts with lastSeen and rtt, in LRS order', () => {
      const rnd = seededRandom(13);
      const self = rnd.bytes(32);
      const table = new RoutingTable(self, { k: 8 });
      for (let i = 0; i < 500; i++) table.update(rnd.bytes(32), i, i % 3 === 0 ? i / 2 : undefined);
      const json = JSON.parse(JSON.stringify(table)) as unknown;
      const restored = RoutingTable.fromJSON(self, json, { k: 8 });
      expect(restored.size).toBe(table.size);
      for (const i of table.nonEmptyBuckets()) {
        expect(restored.bucket(i).map(({ idHex, lastSeen, rttMs }) => ({ idHex, lastSeen, rttMs }))).toEqual(
          table.bucket(i).map(({ idHex, lastSeen, rttMs }) => ({ idHex, lastSeen, rttMs })),
        );
      }
      // Replacement caches are not persisted.
      expect(table.nonEmptyBuckets().some((i) => table.replacements(i).length > 0)).toBe(true);
      expect(restored.nonEmptyBuckets().every((i) => restored.replacements(i).length === 0)).toBe(true);
    });

    it('skips malformed entries and tolerates junk', () => {
      const rnd = seededRandom(14);
      const self = rnd.bytes(32);
      const good = toHex(rnd.bytes(32));
      const good2 = toHex(rnd.bytes(32));
      const data = {
        contacts: [
          null,
          42,
          'x',
          { id: 'abc', lastSeen: 1 },
          { id: good.toUpperCase(), lastSeen: 1 },
          { id: good, lastSeen: 'yesterday' },
          { id: good, lastSeen: Number.NaN },
          { id: toHex(self), lastSeen: 1 },
          { id: good, lastSeen: 5, rttMs: -3 },
          { id: good2, lastSeen: 6, rttMs: 12 },
        ],
      };
      const restored = RoutingTable.fromJSON(self, data);
      expect(restored.size).toBe(2);
      expect(restored.contact(good)).toMatchObject({ lastSeen: 5, failures: 0 });
      expect(restored.contact(good)!.rttMs).toBeUndefined();
      expect(restored.contact(good2)).toMatchObject({ lastSeen: 6, rttMs: 12 });

      for (const junk of [undefined, null, 7, 'str', [], {}, { contacts: 'no' }, { contacts: {} }]) {
        expect(RoutingTable.fromJSON(self, junk).size).toBe(0);
      }
    });
  });
});
