import * as Comlink from 'comlink';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../core/environment.js';
import { ErrorCode, isMeshError } from '../../core/errors.js';
import type { Result } from '../api-result.js';
import { WorkerClient } from './worker-client.js';
import { WORKER_WATCH, watchWorker } from './worker-watch.js';
import {
  DISCOVERY_ALLOWANCE_MS,
  WORKER_CALL_TIMEOUT_MS,
  WORKER_MARGIN_MS,
  workerCallDeadlineMs,
} from './worker-deadline.js';

/**
 * A stand-in for the DHT worker: the far end of a MessageChannel with a Comlink-exposed
 * API whose calls settle when the test says so.
 */
function fakeWorker(api: Record<string, (...a: unknown[]) => Promise<Result<unknown>>>): {
  worker: Worker;
  close: () => void;
} {
  const { port1, port2 } = new MessageChannel();
  Comlink.expose(api, port2);
  const worker = Object.assign(port1, { terminate: () => port1.close() }) as unknown as Worker;
  return { worker, close: () => (port1.close(), port2.close()) };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isMeshError(e)) return e.code;
    throw e;
  }
  return 'resolved';
}

let cleanup: () => void = () => undefined;
afterEach(() => {
  vi.useRealTimers();
  cleanup();
});

describe('the worker-call timeout', () => {
  it('follows callTo’s own timeoutMs: a 35 s call is not cut at 30 s', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let answer: (r: Result<unknown>) => void = () => undefined;
    let arrived: () => void = () => undefined;
    const received = new Promise<void>((r) => (arrived = r));
    const { worker, close } = fakeWorker({
      callTo: () =>
        new Promise((r) => {
          answer = r;
          arrived();
        }),
    });
    cleanup = close;
    const client = new WorkerClient(worker);
    let settled: string | undefined;
    const call = client.api.callTo('a'.repeat(64), 'slow.svc', null, { timeoutMs: 35_000 });
    void codeOf(call).then((c) => (settled = c));
    await received;
    await vi.advanceTimersByTimeAsync(WORKER_CALL_TIMEOUT_MS + 1);
    expect(settled).toBeUndefined();
    answer({ ok: true, value: 'done' });
    expect(await call).toBe('done');
  });

  it('still ends a call the worker never answers, once its deadline and the margin are past', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { worker, close } = fakeWorker({ callTo: () => new Promise(() => undefined) });
    cleanup = close;
    const client = new WorkerClient(worker);
    const code = codeOf(client.api.callTo('a'.repeat(64), 'slow.svc', null, { timeoutMs: 35_000 }));
    await vi.advanceTimersByTimeAsync(35_000 + WORKER_MARGIN_MS + 1);
    expect(await code).toBe(ErrorCode.TIMEOUT);
  });

  it('gives call() its discovery plus every attempt', () => {
    expect(workerCallDeadlineMs('call', ['s', null, { timeoutMs: 40_000, maxAttempts: 4 }])).toBe(
      DISCOVERY_ALLOWANCE_MS + 160_000 + WORKER_MARGIN_MS,
    );
    expect(workerCallDeadlineMs('callDetailed', ['s', null, {}])).toBe(
      DISCOVERY_ALLOWANCE_MS + 3 * 5_000 + WORKER_MARGIN_MS,
    );
    expect(workerCallDeadlineMs('callTo', ['n', 's', null, { timeoutMs: 600_000 }])).toBe(600_000 + WORKER_MARGIN_MS);
    // Invalid options are the worker's to refuse; the backstop takes their defaults.
    expect(workerCallDeadlineMs('callTo', ['n', 's', null, { timeoutMs: 'x' }])).toBe(WORKER_CALL_TIMEOUT_MS);
    expect(workerCallDeadlineMs('stats', [])).toBe(WORKER_CALL_TIMEOUT_MS);
  });
});

describe('arguments the worker cannot be sent', () => {
  it('a function among call arguments is INVALID_ARGUMENT, sent nowhere, and the worker stays usable', async () => {
    let calls = 0;
    const { worker, close } = fakeWorker({
      call: async () => (calls++, { ok: true, value: 'ok' }),
    });
    cleanup = close;
    const client = new WorkerClient(worker);
    const refused = client.api.call('svc', { onDone: () => 1 }, {});
    await expect(refused).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
      message: expect.stringMatching(/^call: an argument cannot be copied to the worker/),
    });
    expect(calls).toBe(0);
    expect(await client.api.call('svc', { n: 1 }, {})).toBe('ok');
  });
});

describe('a worker that throws or stops', () => {
  const uncaught = (worker: Worker, message: string): void => {
    worker.dispatchEvent(Object.assign(new Event('error', { cancelable: true }), { message }));
  };

  it('an uncaught error after start is counted and reported, and the worker keeps serving', async () => {
    let answer: (r: Result<unknown>) => void = () => undefined;
    const { worker, close } = fakeWorker({
      callTo: () => new Promise((r) => (answer = r)),
      stats: async () => ({ ok: true, value: { 'messages.in': 1 } }),
    });
    cleanup = close;
    const client = new WorkerClient(worker);
    client.started();
    const heard: string[] = [];
    client.onUncaught = (m) => heard.push(m);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const pending = client.api.callTo('a'.repeat(64), 'svc', null, {});
    uncaught(worker, 'a timer threw');
    expect(client.errors).toBe(1);
    expect(heard).toEqual(['a timer threw']);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('a timer threw'));
    warn.mockRestore();
    await new Promise((r) => setTimeout(r, 10));
    answer({ ok: true, value: 'still here' });
    expect(await pending).toBe('still here');
    expect(await client.api.stats()).toEqual({ 'messages.in': 1 });
    expect(client.failure).toBeUndefined();
  });

  it('an error while the worker starts is fatal: pending and later calls reject with WORKER_CRASHED', async () => {
    const { worker, close } = fakeWorker({ init: () => new Promise(() => undefined) });
    cleanup = close;
    const client = new WorkerClient(worker);
    const init = codeOf(client.api.init({} as never, {} as never, {} as never));
    uncaught(worker, 'SyntaxError in the worker script');
    expect(await init).toBe(ErrorCode.WORKER_CRASHED);
    expect(await codeOf(client.api.stats())).toBe(ErrorCode.WORKER_CRASHED);
  });

  it('a worker that stops answering the heartbeat fails every pending and later call at once with WORKER_CRASHED', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { worker, close } = fakeWorker({ callTo: () => new Promise(() => undefined) });
    cleanup = close;
    const client = new WorkerClient(worker);
    // The worker's half of the bridge is gone: pings go nowhere.
    const pump = { ping: () => undefined, onPong: () => undefined };
    watchWorker(client, pump, systemClock, (reason) => client.terminate(reason));
    const pending = codeOf(client.api.callTo('a'.repeat(64), 'svc', null, { timeoutMs: 600_000 }));
    await vi.advanceTimersByTimeAsync(WORKER_WATCH.timeoutMs + WORKER_WATCH.intervalMs);
    // Long before the call's own deadline (600 s + margin).
    expect(await pending).toBe(ErrorCode.WORKER_CRASHED);
    const later = client.api.stats();
    await expect(later).rejects.toMatchObject({
      code: ErrorCode.WORKER_CRASHED,
      message: expect.stringMatching(/stopped answering/),
    });
  });
});
