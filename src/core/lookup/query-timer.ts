/**
 * How long a routed lookup query should be given before the lookup stops counting on it.
 *
 * The hard timeout of a query (HOP_TIMEOUT_MS, seconds) must cover a slow tab, a paused
 * one and a route that loses a hop and is rerouted. But a lookup that waits that long on
 * every query it sends into a colluder (which acknowledges the hop and drops the envelope)
 * spends its whole deadline on a handful of attempts. So the lookup also keeps a soft
 * timeout, learned from the replies this node actually gets (RFC 6298's smoothed round
 * trip plus four deviations): past it, the next attempt or the next candidate starts, while
 * the first attempt may still answer until its hard timeout.
 */
export const MIN_SOFT_TIMEOUT_MS = 750;
/** Weights of RFC 6298 (1/8 for the mean, 1/4 for the deviation). */
const MEAN_GAIN = 0.125;
const DEVIATION_GAIN = 0.25;

export class QueryTimer {
  private smoothed: number | undefined;
  private deviation = 0;

  /** `hardMs`: the longest a query may take; also the soft timeout until a reply was timed. */
  constructor(private readonly hardMs: number) {}

  /** A routed query was answered `ms` after it was sent. */
  observe(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    if (this.smoothed === undefined) {
      this.smoothed = ms;
      this.deviation = ms / 2;
      return;
    }
    this.deviation += DEVIATION_GAIN * (Math.abs(this.smoothed - ms) - this.deviation);
    this.smoothed += MEAN_GAIN * (ms - this.smoothed);
  }

  /** When to stop counting on an unanswered query, ms. */
  get softMs(): number {
    if (this.smoothed === undefined) return this.hardMs;
    return Math.min(this.hardMs, Math.max(MIN_SOFT_TIMEOUT_MS, this.smoothed + 4 * this.deviation));
  }
}
