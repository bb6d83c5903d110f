import { describe, expect, it } from 'vitest';
import { ErrorCode, type MeshError } from '../../core/errors.js';
import { WORKER_WATCH, WorkerWatch, watchWorker } from './worker-watch.js';
import { manualClock } from '../../core/manual-clock.js';

/** The shared test clock, with its methods loose for destructuring; `runDue` runs what is due now. */
const watchClock = () => {
  const clock = manualClock();
  return {
    clock,
    advance: (ms: number) => clock.advance(ms),
    skip: (ms: number) => clock.skip(ms),
    runDue: () => clock.advance(0),
  };
};

describe('the worker heartbeat', () => {
  it('a worker that answers every ping is never declared dead', () => {
    const { clock, advance } = watchClock();
    let dead = false;
    const pings: number[] = [];
    const answering = new WorkerWatch(
      clock,
      (n) => {
        pings.push(n);
        answering.pong(n);
      },
      () => (dead = true),
    );
    answering.start();
    advance(10 * 60_000);
    expect(dead).toBe(false);
    expect(pings.length).toBe((10 * 60_000) / WORKER_WATCH.intervalMs + 1);
  });

  it('a silent worker is declared dead once, after the timeout and the missed beats, and pinging stops', () => {
    const { clock, advance } = watchClock();
    const deaths: number[] = [];
    const pings: number[] = [];
    const watch = new WorkerWatch(
      clock,
      (n) => pings.push(n),
      (silentMs) => deaths.push(silentMs),
    );
    watch.start();
    advance(WORKER_WATCH.timeoutMs - 1);
    expect(deaths).toEqual([]);
    advance(WORKER_WATCH.intervalMs);
    expect(deaths).toEqual([WORKER_WATCH.timeoutMs]);
    advance(60_000);
    expect(deaths.length).toBe(1);
    expect(pings).toEqual([1]);
  });

  it('a page whose timers ran late (hidden, frozen) does not take the worker for dead when it answers', () => {
    const { clock, skip, runDue, advance } = watchClock();
    let dead = false;
    let frozen = true;
    let unanswered: number | undefined;
    const watch: WorkerWatch = new WorkerWatch(
      clock,
      (n) => (frozen ? (unanswered = n) : watch.pong(n)),
      () => (dead = true),
    );
    watch.start();
    // The page freezes for an hour right after a ping; on resume its overdue timer runs first.
    skip(3_600_000);
    runDue();
    expect(dead).toBe(false);
    // Then the worker's answer, which was waiting behind it.
    frozen = false;
    watch.pong(unanswered!);
    advance(WORKER_WATCH.intervalMs * 10);
    expect(dead).toBe(false);
  });

  it('after an uncaught error it pings at once, and finds a worker that died of it', () => {
    const { clock, advance } = watchClock();
    const pings: number[] = [];
    let dead: MeshError | undefined;
    const client = { started: () => undefined, onUncaught: (_m: string) => undefined };
    const pump = { ping: (n: number) => pings.push(n), onPong: () => undefined };
    watchWorker(client, pump, clock, (e) => (dead = e));
    expect(pings).toEqual([1]);
    advance(WORKER_WATCH.intervalMs / 2);
    // Ping 1 is not answered yet: a probe waits for it instead of piling up pings.
    client.onUncaught('boom');
    expect(pings).toEqual([1]);
    advance(WORKER_WATCH.timeoutMs + WORKER_WATCH.intervalMs);
    expect(dead?.code).toBe(ErrorCode.WORKER_CRASHED);
    expect(dead?.message).toMatch(/stopped answering/);
  });

  it('a probe after an error the worker survived is answered, and the watch goes on', () => {
    const { clock, advance } = watchClock();
    let dead = false;
    let listener: (n: number) => void = () => undefined;
    const pings: number[] = [];
    const client = { started: () => undefined, onUncaught: (_m: string) => undefined };
    const pump = {
      ping: (n: number) => {
        pings.push(n);
        listener(n);
      },
      onPong: (l: (n: number) => void) => (listener = l),
    };
    watchWorker(client, pump, clock, () => (dead = true));
    advance(WORKER_WATCH.intervalMs / 2);
    client.onUncaught('a timer threw');
    expect(pings).toEqual([1, 2]);
    advance(5 * 60_000);
    expect(dead).toBe(false);
  });
});
