import type { FindWatch } from '../../core/lookup/lookup-result.js';
import { MIN_GRACE_MS } from '../../core/lookup/lookup-run.js';
import { toProviderInfo } from '../../core/records/records.js';
import type { PublishWatch } from '../../core/registry/pubsub.js';
import type { CallWatch, FailedAttempt } from '../../core/registry/rpc.js';
import { MessageType } from '../../core/wire/messages.js';
import { pageDeadline } from '../../core/registry/call-request.js';
import type { AwaitedReply, FromWorker } from '../bridge-protocol.js';

/**
 * The worker's side of calls the page settles itself (docs/ARCHITECTURE.md, Threads; the
 * page's side is main/page-replies.ts). The page names each call it makes (a token); the
 * call's CALL frame goes to the page with what the page needs to settle the app's promise
 * from its REPLY (`AwaitedReply`, in the same message as the frame, so the page knows the
 * request id before the frame is on the channel and its REPLY cannot come first). The page
 * then hands the REPLY on, marked with the token; the worker takes it as ever (counters,
 * the neighbour's flood budget, the request's slot) and, knowing the app has its answer,
 * asks no further provider and does not send the result back a second time.
 *
 * A publish goes the same way: each PUBLISH straight to a subscriber goes to the page with
 * the id of the acknowledgement it awaits, and once all are out the page is told how many
 * this node's own subscriptions took and how many went out (`publishing`); the page settles
 * the app's publish when the last acknowledgement is in.
 *
 * A CALL or PUBLISH that is routed (no channel to its target) is not marked: its answer
 * comes back in an envelope, which the page does not open, and the worker settles it as
 * before (for a publish, the page is then not told the plan, and waits for the worker).
 *
 * A forced discovery's first FIND_VALUEs go the same way, each with what the page needs to
 * settle the discovery from the lookup's first answer (`seek`: main/page-discoveries.ts).
 */

/** What the page named: an API call it may settle itself. */
export type Named = 'call' | 'publish' | 'find';

/**
 * How long after a lookup started the page may settle it from its first answer: less than the
 * least grace the lookup's first round gives its slower paths (lookup-run.ts), so the node,
 * taking the same answer first, ends the same round with the same union; the margin is for
 * the answer's way from the page to the node.
 */
export const PAGE_SEEK_WINDOW_MS = MIN_GRACE_MS - 5;

export class PageAnswers {
  /** Calls and publishes the page named and that are still running here, with whether the page settled them. */
  private readonly running = new Map<number, { settled: boolean; what: Named }>();
  /** The CALL or PUBLISH about to leave, until the transport sees it go (the same synchronous run). */
  private armed: { peer: string; type: number; reply: AwaitedReply; marked: () => void } | undefined;

  constructor(
    private readonly now: () => number,
    private readonly post: (m: FromWorker) => void,
  ) {}

  /** Watch the call the page named `token` while it runs here (rpc.ts, CallWatch); `end` when it is done. */
  watch(token: number): { watch: CallWatch; end: () => boolean } {
    const state = this.start(token, 'call');
    const watch: CallWatch = {
      sending: (rid, provider, failed, timeoutMs) =>
        this.arm(
          provider,
          MessageType.CALL,
          { token, rid, until: pageDeadline(this.now(), timeoutMs), failed: copy(failed) },
          () => undefined,
        ),
      answered: () => state.settled,
    };
    return { watch, end: () => this.end(token, state) };
  }

  /** Watch the publish the page named `token` (pubsub.ts, PublishWatch); `end` when it is done. */
  watchPublish(token: number): { watch: PublishWatch; end: () => boolean } {
    const state = this.start(token, 'publish');
    let marked = 0;
    const watch: PublishWatch = {
      sending: (rid, subscriber, timeoutMs) =>
        this.arm(
          subscriber,
          MessageType.PUBLISH,
          { token, rid, until: pageDeadline(this.now(), timeoutMs), failed: [] },
          () => marked++,
        ),
      // Only when every PUBLISH went straight to its subscriber can the page count them all.
      sent: (delivered, sent) => {
        if (sent > 0 && marked === sent) this.post({ t: 'publishing', token, delivered, sent });
      },
    };
    return { watch, end: () => this.end(token, state) };
  }

  /**
   * Watch the discovery the page named `token` (lookup-result.ts, FindWatch): each of the
   * lookup's first FIND_VALUEs goes to the page with what it needs to settle the discovery
   * from the first answer, until PAGE_SEEK_WINDOW_MS after the lookup started.
   */
  watchFind(token: number): { watch: FindWatch; end: () => boolean } {
    const state = this.start(token, 'find');
    const watch: FindWatch = {
      sending: (rid, firstHop, brief) => {
        const seek = { key: brief.key, kind: brief.kind, near: brief.near, held: brief.held.map(toProviderInfo) };
        const until = brief.startedAt + PAGE_SEEK_WINDOW_MS;
        this.arm(firstHop, MessageType.RPC_ROUTE, { token, rid, until, failed: [], seek }, () => undefined);
      },
    };
    return { watch, end: () => this.end(token, state) };
  }

  /** What to tell the page with `frame`, on its way to `peer`: the REPLY to await, when it is the armed request. */
  awaited(peer: string, frame: Uint8Array): AwaitedReply | undefined {
    const armed = this.armed;
    if (armed === undefined || armed.peer !== peer || frame[1] !== armed.type) return undefined;
    this.armed = undefined;
    armed.marked();
    return armed.reply;
  }

  private start(token: number, what: Named): { settled: boolean; what: Named } {
    const state = { settled: false, what };
    this.running.set(token, state);
    return state;
  }

  private end(token: number, state: { settled: boolean }): boolean {
    if (this.running.get(token) === state) this.running.delete(token);
    return state.settled;
  }

  private arm(peer: string, type: number, reply: AwaitedReply, marked: () => void): void {
    this.armed = { peer, type, reply, marked };
    // Routed, the request leaves through another peer and is not marked: forget it after this run.
    queueMicrotask(() => (this.armed = undefined));
  }

  /**
   * The page settled call, publish or discovery `token` from an answer it hands on: which, or
   * undefined when no such call runs here (it ended first).
   */
  settled(token: number): Named | undefined {
    const state = this.running.get(token);
    if (state === undefined) return undefined;
    state.settled = true;
    return state.what;
  }
}

function copy(failed: readonly FailedAttempt[]): FailedAttempt[] {
  return failed.map(({ nodeId, code, message }) => ({ nodeId, code, message }));
}
