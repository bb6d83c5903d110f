import type { IdHex } from '../../core/id.js';
import { MAX_SIGNAL_SEQ, type SignalStamp } from '../../signaling/protocol.js';

/**
 * Whether a verified signal is new: signed recently, and not had before. A signature
 * proves who wrote a signal, not when it was sent; without this, a peer that once
 * forwarded A's offer to us could route the same bytes again later, and the offer would
 * cost a connection or tear down our live channel to A (README, Security model).
 *
 * A signal is stale when its stamp's time is further from our clock than `skewMs` either
 * way (honest clocks disagree by seconds, rarely by minutes), and a duplicate when the
 * same sender's (session, seq) was had already. Within the skew window each sender's
 * sessions are remembered with a bit per sequence number; past it the time check alone
 * refuses a copy, so a session is forgotten once its newest signal turns stale.
 *
 * Memory is bounded: `maxSessionsPerSender` per sender (its oldest goes first, so one
 * sender's flood of fresh sessions only pushes out its own) and `maxSenders` senders (the
 * one heard from longest ago goes first). Only a flood of signed signals from more than
 * `maxSenders` identities can make it forget a sender early; the connection manager's own
 * checks (an offer never replaces a live channel with an older one) do not depend on it.
 */

export type SignalVerdict = 'fresh' | 'stale' | 'duplicate';

export interface FreshnessLimits {
  skewMs: number;
  maxSenders: number;
  maxSessionsPerSender: number;
}

/** Records elsewhere allow 30 min of skew; a signal is only useful for seconds, so 10 min is ample. */
export const DEFAULT_FRESHNESS: FreshnessLimits = { skewMs: 10 * 60_000, maxSenders: 1_024, maxSessionsPerSender: 8 };

const WORDS = Math.ceil((MAX_SIGNAL_SEQ + 1) / 32);

interface SessionSeen {
  /** After this (our clock), every signal of the session had so far is stale anyway. */
  until: number;
  /** One bit per sequence number had. */
  seqs: Uint32Array;
}

export class SignalFreshness {
  /** In order of last activity: the first sender is the one heard from longest ago. */
  private readonly senders = new Map<IdHex, Map<string, SessionSeen>>();

  constructor(private readonly limits: FreshnessLimits = DEFAULT_FRESHNESS) {}

  /** Judge a verified signal from `from` at `now`, and remember it when it is fresh. */
  check(from: IdHex, stamp: SignalStamp, now: number): SignalVerdict {
    const { skewMs, maxSenders, maxSessionsPerSender } = this.limits;
    if (!(Math.abs(now - stamp.ts) <= skewMs)) return 'stale';
    let sessions = this.senders.get(from);
    if (sessions === undefined) {
      sessions = new Map();
    } else {
      this.senders.delete(from);
      for (const [session, seen] of sessions) if (seen.until < now) sessions.delete(session);
    }
    this.senders.set(from, sessions);
    if (this.senders.size > maxSenders) this.senders.delete(this.senders.keys().next().value!);

    let seen = sessions.get(stamp.session);
    if (seen === undefined) {
      seen = { until: 0, seqs: new Uint32Array(WORDS) };
      sessions.set(stamp.session, seen);
      if (sessions.size > maxSessionsPerSender) sessions.delete(sessions.keys().next().value!);
    }
    const word = stamp.seq >>> 5;
    const bit = 1 << (stamp.seq & 31);
    if ((seen.seqs[word]! & bit) !== 0) return 'duplicate';
    seen.seqs[word] = seen.seqs[word]! | bit;
    seen.until = Math.max(seen.until, stamp.ts + skewMs);
    return 'fresh';
  }

  /** Sessions remembered, over all senders. */
  get size(): number {
    let n = 0;
    for (const sessions of this.senders.values()) n += sessions.size;
    return n;
  }
}
