import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../core/errors.js';
import type { Result } from '../api-result.js';
import type { FromWorker, PublishedByPage } from '../bridge-protocol.js';
import { PublishesFromPage } from './page-publishes.js';

/**
 * The worker's side of publishes the page sends itself (page-publishes.ts): the page's copy of
 * the subscribers is told only what changed, and a `published` notice hands the publish to the
 * node with the page's headers, its reserved ids taken, and null for a publish the page settled.
 */

const [A, B] = ['a', 'b'].map((x) => x.repeat(64)) as [string, string];
const publicKey = new Uint8Array(32).fill(7);

function setup(opts: { reserved?: number[]; settled?: boolean } = {}) {
  const posted: FromWorker[] = [];
  const counts: string[] = [];
  const taken: number[] = [];
  const runs: unknown[][] = [];
  const results = new Map<number, Promise<Result<unknown>>>();
  const reserved = new Set(opts.reserved ?? [1, 2]);
  const publishes = new PublishesFromPage({
    publicKey,
    post: (m) => void posted.push(m),
    count: (name) => void counts.push(name),
    take: (rid) => taken.push(rid) > 0 && reserved.delete(rid),
    onTheChannel: (head) => head.slice(),
    watch: () => ({ end: () => opts.settled === true }),
    run: (...args) => {
      runs.push(args);
      return Promise.resolve(2);
    },
    started: (token, result) => void results.set(token, result),
  });
  return { posted, counts, taken, runs, results, publishes };
}

const notice = (sent: Array<[string, number]>): PublishedByPage => ({
  token: 4,
  mid: new Uint8Array(16),
  topic: 'chat.lobby',
  payload: Uint8Array.of(0xc0),
  at: 1_000,
  signature: new Uint8Array(64),
  sent: sent.map(([peer, rid]) => ({ peer, rid, head: Uint8Array.of(1, 0x10, 0, 0, 0, 0, 0, rid) })),
  rest: [B],
  here: true,
});

describe("the worker's side of publishes the page sends", () => {
  it("tells the page's copy only what changed", () => {
    const { posted, publishes } = setup();
    publishes.cachedSubscribers('t', [A, B], 10);
    publishes.cachedSubscribers('t', [A, B], 10);
    publishes.cachedSubscribers('t', [A], 10);
    expect(posted).toEqual([
      { t: 'subscribers', topic: 't', ids: [A, B], until: 10 },
      { t: 'subscribers', topic: 't', ids: [A], until: 10 },
    ]);
  });

  it('hands the publish to the node with its own key and the headers, the ids taken; its count goes to the page', async () => {
    const { taken, runs, results, publishes } = setup();
    publishes.published(notice([[A, 1]]));
    expect(taken).toEqual([1]);
    const [publication, sent, rest, here, at] = runs[0] as [
      Record<string, unknown>,
      unknown,
      unknown,
      unknown,
      unknown,
    ];
    expect(publication).toMatchObject({ topic: 'chat.lobby', at: 1_000, publicKey });
    expect(sent).toEqual([{ peer: A, rid: 1, head: Uint8Array.of(1, 0x10, 0, 0, 0, 0, 0, 1) }]);
    expect([rest, here, at]).toEqual([[B], true, 1_000]);
    expect(await results.get(4)).toEqual({ ok: true, value: 2 });
  });

  it('answers null for a publish the page settled, and fails one with an id the worker never gave', async () => {
    const settled = setup({ settled: true });
    settled.publishes.published(notice([[A, 1]]));
    expect(await settled.results.get(4)).toEqual({ ok: true, value: null });
    const bad = setup({ reserved: [1] });
    bad.publishes.published(
      notice([
        [A, 1],
        [B, 9],
      ]),
    );
    expect(bad.taken).toEqual([1, 9]);
    expect(bad.runs).toEqual([]);
    expect(bad.counts).toEqual(['bridge.malformed']);
    const result = await bad.results.get(4)!;
    expect(result.ok === false && result.code).toBe(ErrorCode.MALFORMED);
  });
});
