import type { Clock } from '../../core/environment.js';

/**
 * The worker's one periodic wake-up. Everything the node does on its own — liveness pings,
 * neighbour reviews and tests, expiry, bucket refreshes, replication, cache pruning,
 * batched saves — runs from this single tick; each part keeps its own due time and returns
 * at once when nothing is due, so one timer stands for all of them.
 *
 * A hidden tab ticks less often: nobody is looking, and a peer sits in background tabs all
 * day. Every part is driven by due times, not by counting ticks, so a slower tick only
 * makes them later by up to one interval; pings (every 30 s on a quiet channel) and hop
 * timeouts (5 s, their own timers) keep the mesh, and answering other peers never waits
 * for a tick. Showing the tab ticks at once and goes back to the short interval.
 */
export const VISIBLE_TICK_MS = 1_000;
export const HIDDEN_TICK_MS = 5_000;

export class Ticker {
  private cancel: (() => void) | undefined;
  private hidden = false;
  private closed = false;

  constructor(
    private readonly clock: Pick<Clock, 'setTimer'>,
    private readonly tick: () => void,
  ) {
    this.schedule();
  }

  get intervalMs(): number {
    return this.hidden ? HIDDEN_TICK_MS : VISIBLE_TICK_MS;
  }

  /** The page says whether it is hidden (document.visibilityState, forwarded by the main thread). */
  setHidden(hidden: boolean): void {
    if (this.closed || hidden === this.hidden) return;
    this.hidden = hidden;
    this.cancel?.();
    // Shown again: catch up now rather than up to a hidden interval late.
    if (!hidden) this.run();
    else this.schedule();
  }

  close(): void {
    this.closed = true;
    this.cancel?.();
    this.cancel = undefined;
  }

  private schedule(): void {
    if (this.closed) return;
    this.cancel = this.clock.setTimer(this.intervalMs, () => this.run());
  }

  private run(): void {
    if (this.closed) return;
    this.schedule();
    this.tick();
  }
}
