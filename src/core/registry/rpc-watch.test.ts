import { describe, expect, it } from 'vitest';
import { seededRandom, systemClock } from '../environment.js';
import { ErrorCode, MeshError } from '../errors.js';
import type { Message } from '../wire/messages.js';
import { Rpc, type CallWatch, type FailedAttempt, type RpcHost } from './rpc.js';
import type { ProviderInfo } from './service-registry.js';

/**
 * A call tells its watcher (the page, in a browser) of each CALL before it leaves, with the
 * attempts that failed before; once the watcher says it settled the call, no further
 * provider is asked.
 */

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

function rpcWith(answers: Record<string, (rid: number) => Promise<Message>>) {
  let nextRid = 100;
  const asked: string[] = [];
  const counts: Record<string, number> = {};
  const host = {
    self: new Uint8Array(32),
    selfHex: 'f'.repeat(64),
    k: 20,
    alpha: 3,
    hopTimeoutMs: 1_000,
    clock: systemClock,
    random: seededRandom(1),
    verify: () => true,
    count: (name: string, by = 1) => void (counts[name] = (counts[name] ?? 0) + by),
    messenger: {
      newId: () => nextRid++,
      queryPeer: async (peer: string, _type: string, body: { rid: number }) => {
        asked.push(peer);
        return { reply: await answers[peer]!(body.rid), info: { hops: 0, from: new Uint8Array(32), path: [] } };
      },
      reply: () => undefined,
      sendFrame: () => true,
    },
  } as unknown as RpcHost;
  const providers = [A, B, C].map((nodeId) => ({ nodeId }) as ProviderInfo);
  const rpc = new Rpc(
    host,
    { discover: async () => providers, forgetProvider: () => undefined },
    {
      has: () => false,
      invoke: () => Promise.reject(new Error('none')),
    },
  );
  return { rpc, asked, counts };
}

const busy = (rid: number): Promise<Message> =>
  Promise.resolve({ type: 'REPLY', body: { rid, ok: false, code: ErrorCode.BUSY, message: 'full' } });
const answer = (rid: number): Promise<Message> =>
  Promise.resolve({ type: 'REPLY', body: { rid, ok: true, result: rid } });

describe('a watched call', () => {
  it('tells the watcher of each CALL with the attempts that failed before it', async () => {
    const { rpc } = rpcWith({ [A]: busy, [B]: busy, [C]: answer });
    const seen: Array<{ rid: number; provider: string; failed: FailedAttempt[]; timeoutMs: number }> = [];
    const watch: CallWatch = {
      sending: (rid, provider, failed, timeoutMs) => seen.push({ rid, provider, failed: [...failed], timeoutMs }),
      answered: () => false,
    };
    const outcome = await rpc.callDetailed('svc', null, { policy: 'first', timeoutMs: 700 }, watch);
    expect(outcome).toMatchObject({ provider: C, attempts: 3, result: 102 });
    expect(seen.map((s) => [s.rid, s.provider, s.failed.map((f) => f.nodeId), s.timeoutMs])).toEqual([
      [100, A, [], 700],
      [101, B, [A], 700],
      [102, C, [A, B], 700],
    ]);
    expect(seen[2]!.failed[0]).toEqual({ nodeId: A, code: ErrorCode.BUSY, message: 'full' });
  });

  it('asks no further provider once the watcher settled the call', async () => {
    let settled = false;
    const { rpc, asked } = rpcWith({
      [A]: () => {
        // The page took A's REPLY; the worker's copy was lost (its request timed out first).
        settled = true;
        return Promise.reject(new MeshError(ErrorCode.TIMEOUT, 'late'));
      },
      [B]: answer,
      [C]: answer,
    });
    const call = rpc.call('svc', null, { policy: 'first' }, { sending: () => undefined, answered: () => settled });
    await expect(call).rejects.toMatchObject({ code: ErrorCode.CLOSED });
    expect(asked).toEqual([A]);
  });

  it('is told of nothing for a call to this node itself', async () => {
    const { rpc } = rpcWith({});
    const seen: number[] = [];
    const watch: CallWatch = { sending: (rid) => seen.push(rid), answered: () => false };
    await expect(rpc.callTo('f'.repeat(64), 'svc', null, {}, watch)).rejects.toThrow();
    expect(seen).toEqual([]);
  });
});
