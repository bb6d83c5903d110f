/**
 * How often a peer without any channel asks the relay for introductions. Normally at
 * every isolation check; but when its attempts keep failing (TURN unreachable, a wrong
 * secret, a network that blocks UDP), each new round would spend more of the tab's
 * connection budget (Chrome refuses the 501st RTCPeerConnection) for nothing. So after a
 * failure the wait doubles, up to MAX_WAIT_MS, until a channel opens: a tab left failing
 * for an hour spends tens of connections, not hundreds, and still recovers on its own
 * once the network does.
 */
export const MAX_WAIT_MS = 120_000;

export class IntroductionPacer {
  private wait: number;
  private nextAt = -Infinity;
  private failing = false;

  constructor(private readonly baseMs: number) {
    this.wait = baseMs;
  }

  /** A connection attempt failed while the peer had no channel. */
  failed(): void {
    this.failing = true;
  }

  /** A channel opened: back to the normal pace. */
  opened(): void {
    this.failing = false;
    this.wait = this.baseMs;
    this.nextAt = -Infinity;
  }

  /** Whether to ask now; each yes while failing doubles the wait before the next. */
  due(now: number): boolean {
    if (!this.failing) return true;
    if (now < this.nextAt) return false;
    this.nextAt = now + this.wait;
    this.wait = Math.min(this.wait * 2, MAX_WAIT_MS);
    return true;
  }
}
