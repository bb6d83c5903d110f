import { describe, expect, it } from 'vitest';
import { keyForName, toHex } from '../../core/id.js';
import { PAGE_FIND_CREDIT_BATCH, type FromWorker } from '../bridge-protocol.js';
import { KEEP_MS, MAX_KEYS, WorkerFinds, type FindsHost } from './page-finds.js';

/**
 * The worker keeps the page's copies of its answers its own: sent when a key is served, sent
 * again only when the answer changes (records, table, channels, the first expiry), taken back
 * when the node holds nothing for the key or nobody asked for it lately.
 */

const key = keyForName('svc.echo');

function setup() {
  let now = 0;
  let version = 1;
  const store = new Map<string, Array<{ record: object; expiresAt: number }>>();
  const posted: FromWorker[] = [];
  const live = (k: Uint8Array) => (store.get(toHex(k)) ?? []).filter((e) => e.expiresAt > now);
  const host: FindsHost = {
    now: () => now,
    records: (k) => live(k).map((e) => e.record),
    answer: (k) => ({ records: live(k).map((e) => e.record), nodes: [], linked: undefined as never }),
    firstExpiry: (k) => Math.min(Infinity, ...live(k).map((e) => e.expiresAt)),
    tableVersion: () => version,
    post: (m) => void posted.push(m),
  };
  const finds = new WorkerFinds(host);
  const holds = () => posted.filter((m): m is Extract<FromWorker, { t: 'holds' }> => m.t === 'holds');
  return {
    finds,
    posted,
    holds,
    store: (k: Uint8Array, record: object, expiresAt: number) =>
      store.set(toHex(k), [...(store.get(toHex(k)) ?? []), { record, expiresAt }]),
    clear: (k: Uint8Array) => store.delete(toHex(k)),
    at: (t: number) => void (now = t),
    bumpTable: () => void version++,
  };
}

describe('WorkerFinds', () => {
  it('sends the answer of a key served, and again only when it changes', () => {
    const t = setup();
    t.store(key, { n: 1 }, 300_000);
    t.finds.served(key, 'provider');
    expect(t.holds()).toHaveLength(1);
    expect(t.holds()[0]).toMatchObject({ key: toHex(key), kind: 'provider', until: KEEP_MS });
    t.finds.refresh();
    t.finds.served(key, 'provider');
    expect(t.holds()).toHaveLength(1);
    // A record stored, the table changed, a channel opened: each is a new answer.
    t.store(key, { n: 2 }, 20_000);
    t.finds.refresh();
    expect(t.holds()).toHaveLength(2);
    expect(t.holds()[1]!.answer!.records).toHaveLength(2);
    expect(t.holds()[1]!.until).toBe(20_000);
    t.bumpTable();
    t.finds.refresh();
    expect(t.holds()).toHaveLength(3);
    t.finds.neighbour('a', true);
    t.finds.refresh();
    expect(t.holds()).toHaveLength(4);
    // The first record expires: the answer without it, held until the copy's own end.
    t.at(20_000);
    t.finds.refresh();
    expect(t.holds()).toHaveLength(5);
    expect(t.holds()[4]!.answer!.records).toEqual([{ n: 1 }]);
  });

  it('takes the copy back when the node holds nothing for the key, or nobody asked for it lately', () => {
    const t = setup();
    t.store(key, { n: 1 }, 300_000);
    t.finds.served(key, 'provider');
    t.clear(key);
    t.finds.refresh();
    expect(t.holds().at(-1)).toEqual({ t: 'holds', key: toHex(key), kind: 'provider' });
    t.store(key, { n: 1 }, 300_000);
    t.finds.served(key, 'provider');
    t.at(KEEP_MS - 1);
    t.finds.served(key, 'provider');
    t.finds.refresh();
    // Asked again: kept, its copy renewed once the old one ran out.
    t.at(KEEP_MS);
    t.finds.refresh();
    expect(t.holds().at(-1)).toMatchObject({ until: 2 * KEEP_MS - 1 });
    t.at(2 * KEEP_MS);
    t.finds.refresh();
    expect(t.holds().at(-1)).toEqual({ t: 'holds', key: toHex(key), kind: 'provider' });
  });

  it('holds at most MAX_KEYS keys, giving up the one asked for least lately', () => {
    const t = setup();
    const keys = Array.from({ length: MAX_KEYS + 1 }, (_, i) => keyForName(`svc.${i}`));
    keys.forEach((k, i) => {
      t.at(i);
      t.store(k, { i }, 300_000);
      t.finds.served(k, 'provider');
    });
    const dropped = t.holds().filter((m) => m.answer === undefined);
    expect(dropped).toEqual([{ t: 'holds', key: toHex(keys[0]!), kind: 'provider' }]);
  });

  it('gives the page credit back a batch at a time, per neighbour, forgetting a closed one', () => {
    const t = setup();
    for (let i = 0; i < PAGE_FIND_CREDIT_BATCH - 1; i++) t.finds.accountedFor('a');
    t.finds.neighbour('a', false);
    for (let i = 0; i < PAGE_FIND_CREDIT_BATCH - 1; i++) t.finds.accountedFor('a');
    expect(t.posted.filter((m) => m.t === 'finds')).toHaveLength(0);
    t.finds.accountedFor('a');
    expect(t.posted.filter((m) => m.t === 'finds')).toEqual([
      { t: 'finds', peer: 'a', credit: PAGE_FIND_CREDIT_BATCH },
    ]);
  });
});
