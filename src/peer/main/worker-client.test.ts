import * as Comlink from 'comlink';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, isMeshError } from '../../core/errors.js';
import type { Result } from '../api-result.js';
import { WorkerClient } from './worker-client.js';
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
