import type { Clock } from '../../core/environment.js';
import type { StampedSignal } from '../../signaling/protocol.js';

/**
 * The "busy" answer to an offer that gets no connection because this tab holds its cap of
 * channels (or as many inbound negotiations as it allows at once). Without it the dialling
 * tab hears nothing: it waits out its 15 s open timeout, counts a failure, and its node marks
 * a live contact dead; with k = 2 a bucket holds two contacts, so a few of those empty it.
 * With it the dialler gives the attempt up at once and its node keeps the contact (it is
 * alive, just full) and dials another for a while (NeighbourSet.busy).
 *
 * On the wire it is an ordinary signal, stamped in the offer's session and signed like every
 * other, whose data is `{ type: 'busy' }`: relays and forwarding peers carry it unchanged. A
 * peer from before it hands it to WebRTC, which refuses it and ends the attempt early,
 * counted as a failure, which is no worse than the timeout it had. Anything else that
 * claims to be busy (a busy in another session, to an answer, on an open channel) is dropped.
 *
 * Each reply costs a signature and a message through the relay or the overlay, and offers
 * cost their sender little, so replies are paced: at most one per sender per
 * `perSenderMs`, and a shared bucket of `burst` refilled at `perSecond`. An offer past
 * that gets the silence it got before.
 */

export const BUSY_DATA = { type: 'busy' } as const;

export const isBusy = (data: unknown): boolean =>
  typeof data === 'object' && data !== null && (data as { type?: unknown }).type === 'busy';

/** The busy answer to an offer of `session`: our first and only signal in it. */
export const busySignal = (session: string, now: number): StampedSignal => ({
  data: { ...BUSY_DATA },
  ts: now,
  session,
  seq: 0,
});

export interface BusyReplyLimits {
  burst: number;
  perSecond: number;
  perSenderMs: number;
}

export const DEFAULT_BUSY_REPLY_LIMITS: BusyReplyLimits = { burst: 16, perSecond: 2, perSenderMs: 5_000 };

/** Senders remembered for the per-sender spacing; past this the oldest goes first. */
const MAX_REMEMBERED = 1_024;

export class BusyReplies {
  private tokens: number;
  private tokensAt: number;
  private readonly lastTo = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly limits: BusyReplyLimits = DEFAULT_BUSY_REPLY_LIMITS,
  ) {
    this.tokens = limits.burst;
    this.tokensAt = clock.now();
  }

  /** May `peer` be answered busy now? Takes a token when it may. */
  take(peer: string): boolean {
    const now = this.clock.now();
    const { burst, perSecond, perSenderMs } = this.limits;
    this.tokens = Math.min(burst, this.tokens + ((now - this.tokensAt) * perSecond) / 1_000);
    this.tokensAt = now;
    if (this.tokens < 1 || now - (this.lastTo.get(peer) ?? -Infinity) < perSenderMs) return false;
    this.tokens--;
    this.lastTo.delete(peer);
    this.lastTo.set(peer, now);
    if (this.lastTo.size > MAX_REMEMBERED) this.lastTo.delete(this.lastTo.keys().next().value!);
    return true;
  }
}
