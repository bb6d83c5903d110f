import { describe, expect, it } from 'vitest';
import { ErrorCode, MeshError } from '../../core/errors.js';
import { AppCallbacks } from './app-callbacks.js';
import { createPeerHandle } from './peer-handle.js';
import { PageReplies } from './page-replies.js';
import { systemClock } from '../../core/environment.js';
import type { WorkerClient } from './worker-client.js';

/** A peer handle over a worker whose API answers as `api` says (only what a test needs). */
function handleOver(api: Record<string, (...a: unknown[]) => Promise<unknown>>) {
  const app = new AppCallbacks();
  const closedWith: Array<number | undefined> = [];
  const client = { api } as unknown as WorkerClient;
  const peer = createPeerHandle('a'.repeat(64), client, app, new PageReplies(systemClock), {
    stats: () => ({}),
    relayStatus: () => ({ up: false, url: 'ws://127.0.0.1:1/relay' }),
    relays: () => ({
      current: 'ws://a/relay',
      connected: true,
      entered: 'ws://a/relay',
      bootstrap: ['ws://a/relay'],
      learned: [],
    }),
    close: async (graceMs) => void closedWith.push(graceMs),
  });
  return { peer, app, closedWith };
}

const refuse = (code: string) => async () => {
  throw new MeshError(code as ErrorCode, 'refused');
};

describe('advertise on the main thread', () => {
  it('registers no handler when the worker refuses the advertisement', async () => {
    for (const code of [ErrorCode.INVALID_ARGUMENT, ErrorCode.TOO_LARGE]) {
      const { peer, app } = handleOver({ advertise: refuse(code) });
      await expect(peer.advertise('bad.svc', () => 1, { ttl: 0 })).rejects.toMatchObject({ code });
      expect(app.handlers.has('bad.svc')).toBe(false);
      const answer = await app.bridge.invoke('bad.svc', null, 'b'.repeat(64));
      expect(answer).toMatchObject({ ok: false, code: ErrorCode.UNKNOWN_SERVICE });
    }
  });

  it('puts back the handler an earlier advertise registered', async () => {
    let refuseNext = false;
    const { peer, app } = handleOver({
      advertise: async () => {
        if (refuseNext) throw new MeshError(ErrorCode.INVALID_ARGUMENT, 'ttl: refused');
      },
    });
    const first = (): string => 'first';
    await peer.advertise('svc', first);
    refuseNext = true;
    await expect(peer.advertise('svc', () => 'second', { ttl: 0 })).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
    });
    expect(app.handlers.get('svc')).toBe(first);
  });

  it('keeps the handler when the worker failed after taking the advertisement', async () => {
    const { peer, app } = handleOver({ advertise: refuse(ErrorCode.TIMEOUT) });
    await expect(peer.advertise('slow.svc', () => 1)).rejects.toMatchObject({ code: ErrorCode.TIMEOUT });
    expect(app.handlers.has('slow.svc')).toBe(true);
  });
});

describe('close on the main thread', () => {
  it('takes timeoutMs in [0, 10000] for leaving gracefully; a wrong one is refused and the peer stays open', async () => {
    for (const timeoutMs of [-1, 10_001, Number.NaN, '500' as unknown as number]) {
      const { peer, closedWith } = handleOver({ listLocalServices: async () => [] });
      await expect(peer.close({ timeoutMs })).rejects.toMatchObject({
        code: ErrorCode.INVALID_ARGUMENT,
        details: { argument: 'timeoutMs' },
      });
      expect(closedWith).toEqual([]);
      await expect(peer.listLocalServices()).resolves.toEqual([]);
    }
    const { peer, closedWith } = handleOver({});
    await peer.close({ timeoutMs: 0 });
    await peer.close({ timeoutMs: 2_000 });
    expect(closedWith).toEqual([0]);
    await expect(peer.listLocalServices()).rejects.toMatchObject({ code: ErrorCode.CLOSED });
    const other = handleOver({});
    await other.peer.close();
    expect(other.closedWith).toEqual([undefined]);
  });
});
