import { describe, expect, it } from 'vitest';
import type { Clock } from '../../core/environment.js';
import { ErrorCode, MeshError } from '../../core/errors.js';
import { replyFrame } from '../../core/registry/call-reply.js';
import { encodeFrame } from '../../core/wire/codec.js';
import type { AwaitedReply } from '../bridge-protocol.js';
import { PageReplies, type CallShape } from './page-replies.js';

/**
 * The page settles the app's call from the REPLY a neighbour sends back, when the worker
 * said it waits for it; everything else (failover, late answers, other peers' frames) stays
 * the worker's, and whichever of the two settles first wins.
 */

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

function setup() {
  let now = 1_000;
  const clock: Clock = { now: () => now, setTimer: () => () => undefined };
  const replies = new PageReplies(clock);
  /** One call: the worker's side is a promise the test settles by hand. */
  const call = (shape: CallShape) => {
    let token = 0;
    let worker!: { resolve: (v: unknown) => void; reject: (e: unknown) => void };
    const settled: { value?: unknown; error?: unknown; done: boolean } = { done: false };
    const app = replies.run<unknown>(shape, (t) => {
      token = t;
      return new Promise<unknown>((resolve, reject) => (worker = { resolve, reject }));
    });
    app.then(
      (value) => Object.assign(settled, { value, done: true }),
      (error: unknown) => Object.assign(settled, { error, done: true }),
    );
    const awaits = (rid: number, failed: AwaitedReply['failed'] = []): AwaitedReply => ({
      token,
      rid,
      until: now + 5_000,
      failed,
    });
    return { app, worker, settled, awaits, token: () => token };
  };
  return { replies, call, advance: (ms: number) => (now += ms) };
}

const ok = (rid: number, result: unknown) => replyFrame('svc', rid, { ok: true, result });
const failed = (rid: number, error: unknown) => replyFrame('svc', rid, { ok: false, error });
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('calls settled on the page', () => {
  it("settles call() with the neighbour's result and tells the frame's token", async () => {
    const { replies, call } = setup();
    const c = call('call');
    replies.expect(A, c.awaits(11));
    expect(replies.received(A, ok(11, { echo: 1 }))).toBe(c.token());
    await flush();
    expect(c.settled).toEqual({ value: { echo: 1 }, done: true });
    // The worker answers null later (it knows the page settled): nothing changes.
    c.worker.resolve(null);
    await flush();
    expect(c.settled.value).toEqual({ echo: 1 });
    expect(replies.size).toEqual({ calls: 0, awaited: 0 });
    expect(replies.settledHere).toBe(1);
  });

  it('gives callDetailed() the provider and the attempts that failed before', async () => {
    const { replies, call } = setup();
    const c = call('detailed');
    const before = [{ nodeId: B, code: ErrorCode.TIMEOUT, message: 'late' }];
    replies.expect(A, c.awaits(12, before));
    replies.received(A, ok(12, 'x'));
    await flush();
    expect(c.settled.value).toEqual({ result: 'x', provider: A, attempts: 2, failed: before });
  });

  it("rejects with the handler's error as the worker would, but leaves failover errors to the worker", async () => {
    const { replies, call } = setup();
    const c = call('call');
    replies.expect(A, c.awaits(13));
    expect(replies.received(A, failed(13, new MeshError(ErrorCode.UNKNOWN_SERVICE, 'gone')))).toBeUndefined();
    expect(replies.size.awaited).toBe(0);
    // The worker fails over to B, whose handler throws: that is the app's answer.
    replies.expect(B, c.awaits(14));
    expect(replies.received(B, failed(14, new Error('boom')))).toBe(c.token());
    await flush();
    const e = c.settled.error as MeshError;
    expect([e.code, e.message, e.details]).toEqual([ErrorCode.HANDLER_ERROR, 'boom', { provider: B }]);
  });

  it('settles callTo() with any error: it does not fail over', async () => {
    const { replies, call } = setup();
    const c = call('to');
    replies.expect(A, c.awaits(15));
    expect(replies.received(A, failed(15, new MeshError(ErrorCode.UNKNOWN_SERVICE, 'gone')))).toBe(c.token());
    await flush();
    expect((c.settled.error as MeshError).code).toBe(ErrorCode.UNKNOWN_SERVICE);
  });

  it('ignores a late REPLY from a provider the worker has moved on from', async () => {
    const { replies, call } = setup();
    const c = call('call');
    replies.expect(A, c.awaits(16));
    // A timed out in the worker, which sent the call to B.
    replies.expect(B, c.awaits(17));
    expect(replies.received(A, ok(16, 'from A'))).toBeUndefined();
    expect(replies.received(B, ok(17, 'from B'))).toBe(c.token());
    await flush();
    expect(c.settled.value).toBe('from B');
  });

  it("leaves a REPLY at or past the worker's deadline to the worker", async () => {
    const { replies, call, advance } = setup();
    const c = call('call');
    replies.expect(A, c.awaits(18));
    advance(5_000);
    expect(replies.received(A, ok(18, 'late'))).toBeUndefined();
    await flush();
    expect(c.settled.done).toBe(false);
    c.worker.reject(new MeshError(ErrorCode.ALL_PROVIDERS_FAILED, 'none'));
    await flush();
    expect((c.settled.error as MeshError).code).toBe(ErrorCode.ALL_PROVIDERS_FAILED);
  });

  it('takes the REPLY only from the peer the CALL went to, and only REPLYs it awaits', async () => {
    const { replies, call } = setup();
    const c = call('call');
    replies.expect(A, c.awaits(19));
    expect(replies.received(B, ok(19, 'forged'))).toBeUndefined();
    expect(replies.received(A, ok(20, 'other'))).toBeUndefined();
    expect(replies.received(A, encodeFrame('PING', { rid: 19 }))).toBeUndefined();
    expect(replies.received(A, ok(19, 'right'))).toBe(c.token());
    // Once only: the same REPLY again is the worker's (counted unmatched there).
    expect(replies.received(A, ok(19, 'again'))).toBeUndefined();
    await flush();
    expect(c.settled.value).toBe('right');
  });

  it('lets the worker settle first: a REPLY after that is the worker’s', async () => {
    const { replies, call } = setup();
    const c = call('call');
    replies.expect(A, c.awaits(21));
    c.worker.resolve('worker');
    await flush();
    expect(replies.received(A, ok(21, 'page'))).toBeUndefined();
    expect(c.settled.value).toBe('worker');
    expect(replies.size).toEqual({ calls: 0, awaited: 0 });
  });

  it('forgets a CALL the channel refused, and awaits from calls already settled nothing', async () => {
    const { replies, call } = setup();
    const c = call('call');
    const awaits = c.awaits(22);
    replies.expect(A, awaits);
    replies.unsent(awaits);
    expect(replies.received(A, ok(22, 'x'))).toBeUndefined();
    c.worker.resolve('done');
    await flush();
    replies.expect(A, c.awaits(23));
    expect(replies.size).toEqual({ calls: 0, awaited: 0 });
  });

  it('never throws on bytes it cannot read', async () => {
    const { replies, call } = setup();
    const c = call('call');
    replies.expect(A, c.awaits(24));
    const junk = [
      new Uint8Array(0),
      Uint8Array.from([1, 0x21, 0, 0, 0, 0, 0, 2, 0xc1, 0xc1]),
      ok(24, 1).subarray(0, 9),
    ];
    for (const frame of junk) expect(replies.received(A, frame)).toBeUndefined();
    expect(replies.received(A, ok(24, 1))).toBe(c.token());
  });

  it('counts a publish’s acknowledgements as the worker would and settles at the last one', async () => {
    const { replies, call } = setup();
    const p = call('publish');
    const [s1, s2, s3] = ['1', '2', '3'].map((c) => c.repeat(64));
    replies.expect(s1!, p.awaits(31));
    replies.expect(s2!, p.awaits(32));
    replies.expect(s3!, p.awaits(33));
    // An acknowledgement may come before the worker's plan: it is counted all the same.
    expect(replies.received(s1!, ok(31, 2))).toBeUndefined();
    replies.planned(p.token(), 1, 3);
    // Matched no subscription: not a delivery, but an answer.
    expect(replies.received(s2!, ok(32, 0))).toBeUndefined();
    expect(replies.received(s3!, failed(33, new MeshError(ErrorCode.STALE, 'old')))).toBe(p.token());
    await flush();
    // The publisher's own subscription, and s1.
    expect(p.settled).toEqual({ value: 2, done: true });
    expect(replies.size).toEqual({ calls: 0, awaited: 0 });
  });

  it('leaves a publish to the worker while an acknowledgement is missing or late, or without a plan', async () => {
    const { replies, call, advance } = setup();
    const p = call('publish');
    replies.expect(A, p.awaits(41));
    replies.expect(B, p.awaits(42));
    replies.planned(p.token(), 0, 2);
    expect(replies.received(A, ok(41, 1))).toBeUndefined();
    advance(5_000);
    expect(replies.received(B, ok(42, 1))).toBeUndefined();
    await flush();
    expect(p.settled.done).toBe(false);
    p.worker.resolve(1);
    await flush();
    expect(p.settled.value).toBe(1);
    // Without the worker's plan (a PUBLISH went routed), the page never settles a publish.
    const q = call('publish');
    replies.expect(A, q.awaits(43));
    expect(replies.received(A, ok(43, 1))).toBeUndefined();
    q.worker.resolve(2);
    await flush();
    expect(q.settled.value).toBe(2);
  });
});
