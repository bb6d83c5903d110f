/**
 * What one relay socket may cost. The relay is the only shared, public piece of the
 * system, so every resource a stranger can make it spend has a bound here.
 */
import { invalidArgument } from '../core/errors.js';
import { MAX_RELAY_MESSAGE_BYTES } from '../signaling/protocol.js';

export interface RelayLimits {
  /** Largest accepted text frame, in bytes; larger ones get TOO_LARGE. */
  maxPayloadBytes: number;
  /** Sustained messages per second per socket (token-bucket refill rate). */
  messagesPerSecond: number;
  /** Messages a socket may send in a burst before the sustained rate applies. */
  burstMessages: number;
  /** Open sockets per remote address; raise it for benchmarks that run many clients on one host. */
  socketsPerAddress: number;
  /** Ping interval; a socket that has not answered the previous ping is terminated. */
  heartbeatMs: number;
  /** Time a new socket has to answer the challenge. */
  helloTimeoutMs: number;
  /** Node ids handed out in a welcome or a peers reply. */
  peersInWelcome: number;
  /** Malformed, oversize or unauthenticated messages tolerated before the socket is closed. */
  junkBeforeClose: number;
  /**
   * A target whose outgoing buffer holds more than this is treated as unreachable, not queued for; a socket
   * whose own replies pile up past it (it asks and never reads) is closed.
   */
  maxBufferedBytes: number;
}

export const DEFAULT_RELAY_LIMITS: Readonly<RelayLimits> = {
  maxPayloadBytes: MAX_RELAY_MESSAGE_BYTES,
  messagesPerSecond: 100,
  burstMessages: 200,
  socketsPerAddress: 64,
  heartbeatMs: 30_000,
  helloTimeoutMs: 10_000,
  peersInWelcome: 8,
  junkBeforeClose: 5,
  maxBufferedBytes: 1024 * 1024,
};

/** Defaults merged with overrides; each override is checked and named when wrong. */
export function resolveLimits(overrides: Partial<RelayLimits> = {}): RelayLimits {
  const limits = { ...DEFAULT_RELAY_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
      throw invalidArgument(`limits.${name}`, 'a positive finite number', value);
    }
  }
  return limits;
}

/**
 * A token bucket: `capacity` tokens, refilled at `ratePerSecond`. Time is passed in so the
 * bucket holds no clock of its own and tests can drive it directly.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.last = now;
  }

  /** Spend one token; false when the bucket is empty. */
  take(now: number): boolean {
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
