import type { CallWatch, FailedAttempt } from '../../core/registry/rpc.js';
import { MessageType } from '../../core/wire/messages.js';
import type { AwaitedReply } from '../bridge-protocol.js';

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
 * A CALL that is routed (no channel to the provider) is not marked: its REPLY comes back in
 * an envelope, which the page does not open, and the worker settles the call as before.
 */

/**
 * The page takes a REPLY only up to this long before the worker's own deadline, so that the
 * worker, which may move on to the next provider at its deadline, has seen the REPLY first.
 */
const PAGE_DEADLINE_MARGIN_MS = 50;

export class PageAnswers {
  /** Calls the page named and that are still running here, with whether the page settled them. */
  private readonly running = new Map<number, { settled: boolean }>();
  /** The CALL about to leave, until the transport sees it go (the same synchronous run). */
  private armed: { peer: string; reply: AwaitedReply } | undefined;

  constructor(private readonly now: () => number) {}

  /** Watch the call the page named `token` while it runs here (rpc.ts, CallWatch); `end` when it is done. */
  watch(token: number): { watch: CallWatch; end: () => boolean } {
    const state = { settled: false };
    this.running.set(token, state);
    const watch: CallWatch = {
      sending: (rid, provider, failed, timeoutMs) => {
        const margin = Math.min(PAGE_DEADLINE_MARGIN_MS, timeoutMs / 10);
        this.armed = {
          peer: provider,
          reply: { token, rid, until: this.now() + timeoutMs - margin, failed: copy(failed) },
        };
        // Routed, the CALL leaves through another peer and is not marked: forget it after this run.
        queueMicrotask(() => (this.armed = undefined));
      },
      answered: () => state.settled,
    };
    return {
      watch,
      end: () => {
        this.running.delete(token);
        return state.settled;
      },
    };
  }

  /** What to tell the page with `frame`, on its way to `peer`: the REPLY to await, when it is the armed CALL. */
  awaited(peer: string, frame: Uint8Array): AwaitedReply | undefined {
    const armed = this.armed;
    if (armed === undefined || armed.peer !== peer || frame[1] !== MessageType.CALL) return undefined;
    this.armed = undefined;
    return armed.reply;
  }

  /** The page settled call `token` from a REPLY it hands on; false when no such call runs here (it ended first). */
  settled(token: number): boolean {
    const state = this.running.get(token);
    if (state === undefined) return false;
    state.settled = true;
    return true;
  }
}

function copy(failed: readonly FailedAttempt[]): FailedAttempt[] {
  return failed.map(({ nodeId, code, message }) => ({ nodeId, code, message }));
}
