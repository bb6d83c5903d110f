import { describe, expect, it } from 'vitest';
import { ErrorCode, MeshError } from '../../core/errors.js';
import { AppCallbacks } from './app-callbacks.js';
import { createPeerHandle } from './peer-handle.js';
import type { WorkerClient } from './worker-client.js';

/** A peer handle over a worker whose API answers as `api` says (only what a test needs). */
function handleOver(api: Record<string, (...a: unknown[]) => Promise<unknown>>) {
  const app = new AppCallbacks();
  const client = { api } as unknown as WorkerClient;
  const peer = createPeerHandle('a'.repeat(64), client, app, {
    stats: () => ({}),
    relays: () => ({
      current: 'ws://a/relay',
      connected: true,
      entered: 'ws://a/relay',
      bootstrap: ['ws://a/relay'],
      learned: [],
    }),
    close: async () => undefined,
  });
  return { peer, app };
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
