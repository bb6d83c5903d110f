import type { Clock } from '../../core/environment.js';
import type { IdHex } from '../../core/id.js';

/**
 * Which inbound offers may cost this tab an RTCPeerConnection. The browser allows a page
 * only so many in its lifetime (CONNECTION_BUDGET), and an offer costs one before anyone
 * knows whether it is genuine: any admitted identity can send signed junk, and key pairs
 * are free. So before the connection manager answers an offer with a new connection:
 * - senders the worker's node refuses (flood-banned, convicted of lying, distrusted as a
 *   neighbour that loses traffic) get none while the verdict lasts;
 * - a sender whose last inbound negotiation failed gets none for a cooldown that doubles
 *   with each failure in a row (1 min, 2 min, ... up to 4 h), so it costs the budget at
 *   most once per cooldown;
 * - inbound negotiations in progress are capped below the channel cap, so the node's own
 *   dials always find a slot;
 * - failed inbound negotiations from anyone draw on one token bucket (a burst, then one
 *   per few minutes), so throw-away ids cannot spend the budget faster than that either;
 * - and they never touch the last part of the budget, which only the node's own dials use.
 */

export interface InboundLimits {
  /** Inbound negotiations in progress at once (offers answered, channel not open yet). */
  maxPending: number;
  /** Cooldown after a sender's first failed inbound negotiation; doubled for each further one in a row. */
  failureCooldownMs: number;
  maxFailureCooldownMs: number;
  /** Failed inbound negotiations allowed in a burst, across all senders... */
  failureBurst: number;
  /** ...and then one per this many milliseconds. */
  failureRefillMs: number;
  /** Connections of the budget that inbound offers never get. */
  reserve: number;
}

export const DEFAULT_INBOUND_LIMITS: Omit<InboundLimits, 'reserve'> = {
  maxPending: 16,
  failureCooldownMs: 60_000,
  maxFailureCooldownMs: 4 * 3_600_000,
  failureBurst: 24,
  failureRefillMs: 5 * 60_000,
};

/** Why an offer got no connection. */
export type InboundRefusal = 'verdict' | 'cooling' | 'busy' | 'throttled' | 'reserved';

/** Senders remembered (verdicts, failure streaks); past this the oldest entry goes first. */
const MAX_REMEMBERED = 4_096;

export class InboundGate {
  private readonly refusedUntil = new Map<IdHex, number>();
  private readonly failures = new Map<IdHex, { inARow: number; until: number }>();
  private tokens: number;
  private tokensAt: number;

  constructor(
    private readonly clock: Clock,
    readonly limits: InboundLimits,
  ) {
    this.tokens = limits.failureBurst;
    this.tokensAt = clock.now();
  }

  /** The worker's node refuses `peer` for `forMs` more: no connection with it, either way. */
  refuse(peer: IdHex, forMs: number): void {
    remember(this.refusedUntil, peer, this.clock.now() + forMs);
  }

  isRefused(peer: IdHex): boolean {
    const until = this.refusedUntil.get(peer);
    if (until === undefined) return false;
    if (until > this.clock.now()) return true;
    this.refusedUntil.delete(peer);
    return false;
  }

  /**
   * May an offer from `peer` have a new connection? `pending` counts inbound negotiations
   * in progress, `budgetLeft` the connections the page may still create. An admitted offer
   * holds a failure token until it opens (opened) or fails (failed).
   */
  admit(peer: IdHex, pending: number, budgetLeft: number): InboundRefusal | 'ok' {
    if (this.isRefused(peer)) return 'verdict';
    const now = this.clock.now();
    if ((this.failures.get(peer)?.until ?? -Infinity) > now) return 'cooling';
    if (pending >= this.limits.maxPending) return 'busy';
    if (budgetLeft <= this.limits.reserve) return 'reserved';
    this.refill(now);
    if (this.tokens < 1) return 'throttled';
    this.tokens--;
    return 'ok';
  }

  /** The inbound channel opened: its token comes back and the sender's failure streak ends. */
  opened(peer: IdHex): void {
    this.release();
    this.failures.delete(peer);
  }

  /** An admitted offer got no connection after all (the channel cap): its token comes back. */
  release(): void {
    this.tokens = Math.min(this.limits.failureBurst, this.tokens + 1);
  }

  /** The inbound negotiation ended without a channel: its token stays spent and the sender cools down. */
  failed(peer: IdHex): void {
    const now = this.clock.now();
    const inARow = (this.failures.get(peer)?.inARow ?? 0) + 1;
    const cooldown = Math.min(this.limits.maxFailureCooldownMs, this.limits.failureCooldownMs * 2 ** (inARow - 1));
    remember(this.failures, peer, { inARow, until: now + cooldown });
  }

  /** One token per failureRefillMs since the bucket was last full. */
  private refill(now: number): void {
    const { failureBurst, failureRefillMs } = this.limits;
    if (this.tokens >= failureBurst) {
      this.tokensAt = now;
      return;
    }
    const earned = Math.floor((now - this.tokensAt) / failureRefillMs);
    if (earned <= 0) return;
    this.tokens = Math.min(failureBurst, this.tokens + earned);
    this.tokensAt = this.tokens >= failureBurst ? now : this.tokensAt + earned * failureRefillMs;
  }
}

/** Set `key` as the newest entry of a bounded map (insertion order is age order). */
function remember<V>(map: Map<IdHex, V>, key: IdHex, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value!);
}
