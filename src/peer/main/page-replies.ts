import type { Clock } from '../../core/environment.js';
import { acknowledged, failsOver, isReplyFrame, readReply, replyError } from '../../core/registry/call-answer.js';
import type { CallOutcome, FailedAttempt } from '../../core/registry/rpc.js';
import type { AwaitedReply } from '../bridge-protocol.js';

/**
 * The page's side of calls it settles itself (docs/ARCHITECTURE.md, Threads; the worker's
 * side is worker/page-answers.ts). A call from the app is named here (a token) and run in
 * the worker, which discovers, picks providers, fails over and times out as ever. Each
 * CALL it sends straight to a neighbour comes to the page with the request id and deadline
 * (`expect`), before the page puts it on the channel; when that neighbour's REPLY comes back
 * in time, the page reads it and settles the app's promise at once, instead of handing the
 * frame to the worker and waiting for the worker to wake, settle its request and answer
 * over Comlink. The frame still goes on to the worker, marked, for its counters, flood
 * budget and the request's slot; the worker then asks no one else.
 *
 * The page settles only what the worker would settle the same way: a result, or an error
 * after which the worker would not try another provider (a handler's error; for callTo,
 * any). A REPLY that fails over, comes after the deadline, or answers a CALL the worker has
 * since moved on from is left to the worker. Whichever of the two settles first wins: the
 * worker's own result (after a failover, a routed call, a timeout) settles the call too.
 *
 * A publish is counted the same way: each PUBLISH straight to a subscriber comes with the
 * id of its acknowledgement, the worker says once all are out how many its own
 * subscriptions took and how many it sent (`planned`), and the last acknowledgement settles
 * the app's publish with the count the worker would make (acknowledged: matched > 0). A
 * subscriber that does not answer leaves the publish to the worker's timeout.
 */

/**
 * What the app is given: call()'s result, callDetailed()'s outcome, callTo()'s result (no
 * failover), publish()'s count of subscribers that took the message, or discover()'s
 * providers (settled here by page-discoveries.ts).
 */
export type CallShape = 'call' | 'detailed' | 'to' | 'publish' | 'discover';

interface Running {
  shape: CallShape;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** The request ids awaited: a call's last CALL straight to a neighbour, or a publish's PUBLISHes. */
  rids: number[];
  /** A publish: acknowledgements in, those that took the message, and the worker's plan once told. */
  acks: number;
  took: number;
  plan?: { delivered: number; sent: number };
}

interface Expected {
  token: number;
  peer: string;
  until: number;
  failed: FailedAttempt[];
}

export class PageReplies {
  private nextToken = 0;
  private readonly running = new Map<number, Running>();
  private readonly byRid = new Map<number, Expected>();
  /** Calls this page settled from a REPLY before the worker did. */
  settledHere = 0;

  constructor(private readonly clock: Clock) {}

  /**
   * Run one call: `start` asks the worker, naming the call with the token it is given; the
   * app's promise settles with the page's reading of the REPLY or with the worker's result,
   * whichever comes first. The worker resolves null for a call the page settled.
   */
  run<T>(shape: CallShape, start: (token: number) => Promise<T | null>): Promise<T> {
    const token = ++this.nextToken;
    return new Promise<T>((resolve, reject) => {
      this.running.set(token, {
        shape,
        resolve: resolve as (value: unknown) => void,
        reject,
        rids: [],
        acks: 0,
        took: 0,
      });
      start(token).then(
        (value) => {
          if (this.finish(token)) resolve(value as T);
        },
        (error: unknown) => {
          if (this.finish(token)) reject(error);
        },
      );
    });
  }

  /** The worker sends CALL `awaits.rid` of call `awaits.token` to `peer`: its REPLY may settle the call here. */
  expect(peer: string, awaits: AwaitedReply): void {
    const call = this.running.get(awaits.token);
    if (call === undefined) return;
    // A new CALL for the same call: the worker moved on from the last one, whose REPLY is no longer the answer.
    if (call.shape !== 'publish') for (const rid of call.rids.splice(0)) this.byRid.delete(rid);
    call.rids.push(awaits.rid);
    this.byRid.set(awaits.rid, { token: awaits.token, peer, until: awaits.until, failed: awaits.failed });
  }

  /** Every PUBLISH of publish `token` is out: `delivered` taken by the publisher's own subscriptions, `sent` to others. */
  planned(token: number, delivered: number, sent: number): void {
    const call = this.running.get(token);
    if (call === undefined || call.shape !== 'publish') return;
    call.plan = { delivered, sent };
    this.counted(token, call);
  }

  /** The CALL could not be put on the channel: no REPLY will come (the worker times it out and moves on). */
  unsent(awaits: AwaitedReply): void {
    if (this.byRid.get(awaits.rid)?.token === awaits.token) this.byRid.delete(awaits.rid);
  }

  /**
   * A frame came in from `peer`: when it is the REPLY a running call awaits from it, settle
   * that call and return its token (the worker is told with the frame); otherwise undefined,
   * and the frame goes to the worker as any other. Never throws: bad bytes are the worker's
   * to count.
   */
  received(peer: string, frame: Uint8Array): number | undefined {
    if (this.byRid.size === 0 || !isReplyFrame(frame)) return undefined;
    const body = readReply(frame);
    if (body === null) return undefined;
    const expected = this.byRid.get(body.rid);
    if (expected === undefined || expected.peer !== peer) return undefined;
    this.byRid.delete(body.rid);
    const call = this.running.get(expected.token);
    if (call === undefined || this.clock.now() >= expected.until) return undefined;
    if (call.shape === 'publish') {
      call.acks++;
      if (acknowledged(body)) call.took++;
      return this.counted(expected.token, call) ? expected.token : undefined;
    }
    if (body.ok) {
      const outcome: CallOutcome = {
        result: body.result,
        provider: peer,
        attempts: expected.failed.length + 1,
        failed: expected.failed,
      };
      this.settle(expected.token, () => call.resolve(call.shape === 'detailed' ? outcome : body.result));
    } else {
      // After this error the worker tries the next provider: that is its to do.
      if (call.shape !== 'to' && failsOver(body.code ?? '')) return undefined;
      const error = replyError(body, peer);
      this.settle(expected.token, () => call.reject(error));
    }
    return expected.token;
  }

  /** Discovery `token` found `providers` (page-discoveries.ts): settle it here. False when it had been settled. */
  found(token: number, providers: unknown[]): boolean {
    const call = this.running.get(token);
    if (call === undefined || call.shape !== 'discover') return false;
    this.settle(token, () => call.resolve(providers));
    return true;
  }

  /** Calls running, and REPLYs awaited (for tests and stats). */
  get size(): { calls: number; awaited: number } {
    return { calls: this.running.size, awaited: this.byRid.size };
  }

  /** Settle a publish whose acknowledgements are all in; true when it did. */
  private counted(token: number, call: Running): boolean {
    if (call.plan === undefined || call.acks < call.plan.sent) return false;
    const count = call.plan.delivered + call.took;
    this.settle(token, () => call.resolve(count));
    return true;
  }

  private settle(token: number, settle: () => void): void {
    this.finish(token);
    this.settledHere++;
    settle();
  }

  /** The call is settled: forget it and what it awaited. False when it was already. */
  private finish(token: number): boolean {
    const call = this.running.get(token);
    if (call === undefined) return false;
    this.running.delete(token);
    for (const rid of call.rids) if (this.byRid.get(rid)?.token === token) this.byRid.delete(rid);
    return true;
  }
}
