import type { Clock } from '../../core/environment.js';
import { ErrorCode, MeshError } from '../../core/errors.js';

/**
 * Notices a DHT worker that stopped running. A worker that calls `self.close()`, is killed
 * by the browser or dies of an error while it has nothing queued gives the page no signal
 * at all: without this, every call into it would wait for its own deadline (30 s and more)
 * and fail with TIMEOUT, one after the other, for as long as the tab lives.
 *
 * So the page pings the worker on the bytes port (bridge-protocol.ts) every beat, and the
 * worker's half of the bridge answers at once. A ping unanswered for `timeoutMs` and over
 * `missedBeats` beats means the worker is gone. Both conditions, because a hidden tab's
 * timers may fire a minute late, and a frozen page runs its overdue timer before the
 * worker's answer, both of which must not look like a dead worker: only beats that ran
 * while the worker had time to answer count.
 *
 * After an uncaught error the page probes at once (`probe`), so a worker that died of it
 * is found within one timeout, while one that survived it keeps serving.
 */

export interface WatchTiming {
  intervalMs: number;
  timeoutMs: number;
  missedBeats: number;
}

/** ~15–20 s from a worker's death to WORKER_CRASHED: far above any pause a working worker makes (a restore of 10,000 records takes < 0.5 s). */
export const WORKER_WATCH: Readonly<WatchTiming> = { intervalMs: 5_000, timeoutMs: 15_000, missedBeats: 3 };

export class WorkerWatch {
  private outstanding: { n: number; sentAt: number; beats: number } | undefined;
  private nextPing = 0;
  private cancel: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    /** Post ping number `n` to the worker. */
    private readonly ping: (n: number) => void,
    /** The worker stopped answering `silentMs` ago; the watch has stopped. */
    private readonly dead: (silentMs: number) => void,
    private readonly timing: Readonly<WatchTiming> = WORKER_WATCH,
  ) {}

  start(): void {
    this.beat();
  }

  /** The worker answered ping `n`. */
  pong(n: number): void {
    if (this.outstanding?.n === n) this.outstanding = undefined;
  }

  /** Ask now whether the worker still runs (it threw an uncaught error). */
  probe(): void {
    if (!this.stopped && this.outstanding === undefined) this.send();
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
  }

  private beat(): void {
    if (this.stopped) return;
    const waiting = this.outstanding;
    if (waiting === undefined) this.send();
    else {
      waiting.beats++;
      const silentMs = this.clock.now() - waiting.sentAt;
      if (waiting.beats >= this.timing.missedBeats && silentMs >= this.timing.timeoutMs) {
        this.stop();
        this.dead(silentMs);
        return;
      }
    }
    this.cancel = this.clock.setTimer(this.timing.intervalMs, () => this.beat());
  }

  private send(): void {
    const n = ++this.nextPing;
    this.outstanding = { n, sentAt: this.clock.now(), beats: 0 };
    this.ping(n);
  }
}

/**
 * Watch a started worker through the bytes bridge: `client` says when it threw (probe at
 * once), `pump` carries pings and pongs, and `dead` is told with the WORKER_CRASHED the
 * peer fails with from then on.
 */
export function watchWorker(
  client: { started(): void; onUncaught: (message: string) => void },
  pump: { ping(n: number): void; onPong(listener: (n: number) => void): void },
  clock: Clock,
  dead: (reason: MeshError) => void,
): WorkerWatch {
  const watch = new WorkerWatch(
    clock,
    (n) => pump.ping(n),
    (silentMs) =>
      dead(
        new MeshError(
          ErrorCode.WORKER_CRASHED,
          `the DHT worker stopped answering (silent for ${Math.round(silentMs / 1000)} s): this peer is closed; create a new one`,
        ),
      ),
  );
  pump.onPong((n) => watch.pong(n));
  client.onUncaught = () => watch.probe();
  client.started();
  watch.start();
  return watch;
}
