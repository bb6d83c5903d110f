import { describe, expect, it } from 'vitest';
import { seededRandom, systemClock } from '../environment.js';
import { ErrorCode } from '../errors.js';
import type { Message } from '../wire/messages.js';
import { Rpc, type RpcHost } from './rpc.js';
import type { ProviderInfo } from './service-registry.js';

/**
 * A call whose first provider the page drew (main/page-calls.ts): that provider is asked
 * first and the others after, in the policy's order; when the page sent its CALL already
 * (sentByPage), the call waits for that CALL's REPLY instead of sending another, and the CALL
 * is counted and accounted for as the node's own.
 */

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const D = 'd'.repeat(64);

type Answer = (rid: number) => Promise<Message>;
const busy: Answer = (rid) =>
  Promise.resolve({ type: 'REPLY', body: { rid, ok: false, code: ErrorCode.BUSY, message: 'full' } });
const answer: Answer = (rid) => Promise.resolve({ type: 'REPLY', body: { rid, ok: true, result: rid } });
const info = { hops: 0, from: new Uint8Array(32), path: [] };

function rpcWith(answers: Record<string, Answer>, opts: { neighbours?: string[]; providers?: string[] } = {}) {
  let nextRid = 100;
  const asked: string[] = [];
  const framed: Array<[string, number]> = [];
  const waited: Array<{ rid: number; timeoutMs: number; peer: string | undefined }> = [];
  const counts: Record<string, number> = {};
  const neighbours = new Set(opts.neighbours ?? [A, B, C]);
  const host = {
    self: new Uint8Array(32),
    selfHex: 'f'.repeat(64),
    k: 20,
    alpha: 3,
    hopTimeoutMs: 1_000,
    clock: systemClock,
    random: seededRandom(7),
    verify: () => true,
    count: (name: string) => void (counts[name] = (counts[name] ?? 0) + 1),
    neighbours,
    messenger: {
      newId: () => nextRid++,
      queryPeer: async (peer: string, _type: string, body: { rid: number }) => {
        asked.push(peer);
        return { reply: await answers[peer]!(body.rid), info };
      },
      wait: async (rid: number, timeoutMs: number, peer?: string) => {
        waited.push({ rid, timeoutMs, peer });
        return { reply: await answers[peer!]!(rid), info };
      },
      reply: () => undefined,
      sendFrame: (peer: string, head: Uint8Array) => framed.push([peer, head[1]!]) > 0,
    },
  } as unknown as RpcHost;
  const providers = (opts.providers ?? [A, B, C]).map((nodeId) => ({ nodeId }) as ProviderInfo);
  const rpc = new Rpc(
    host,
    { discover: async () => providers, forgetProvider: () => undefined },
    { has: () => false, invoke: () => Promise.reject(new Error('none')) },
  );
  return { rpc, asked, framed, waited, counts };
}

const CALL_HEAD = new Uint8Array([1, 0x20, 0, 0, 0, 0, 0, 9]);

describe('a call led by the page', () => {
  it('asks the provider the page drew first, then the rest in the policy order', async () => {
    const { rpc, asked } = rpcWith({ [A]: busy, [B]: busy, [C]: answer });
    const outcome = await rpc.callDetailed('svc', null, { policy: 'first', maxAttempts: 3 }, undefined, {
      provider: B,
    });
    expect(asked).toEqual([B, A, C]);
    expect(outcome).toMatchObject({ provider: C, attempts: 3 });
    expect(outcome.failed.map((f) => f.nodeId)).toEqual([B, A]);
  });

  it('ignores a drawn provider the cache no longer holds when its CALL is not out', async () => {
    const { rpc, asked } = rpcWith({ [A]: answer, [D]: answer });
    await rpc.call('svc', null, { policy: 'first' }, undefined, { provider: D });
    expect(asked).toEqual([A]);
  });

  it('waits for the REPLY to a CALL the page sent, counted and accounted for, and sends it no second CALL', async () => {
    const { rpc, asked, framed, waited, counts } = rpcWith({ [B]: answer });
    const at = Date.now() - 300;
    const sent = rpc.sentByPage(B, 4242, CALL_HEAD, at, 1_000);
    const outcome = await rpc.callDetailed('svc', null, { timeoutMs: 1_000 }, undefined, { provider: B, sent });
    expect(outcome).toEqual({ result: 4242, provider: B, attempts: 1, failed: [] });
    expect(asked).toEqual([]);
    expect(framed).toEqual([[B, 0x20]]);
    expect(counts).toMatchObject({ 'rpc.calls': 1, 'rpc.sentOnPage': 1 });
    // What is left of the attempt's timeout since the page sent it, not the whole of it again.
    expect(waited[0]!.rid).toBe(4242);
    expect(waited[0]!.timeoutMs).toBeLessThanOrEqual(700);
    expect(waited[0]!.timeoutMs).toBeGreaterThan(500);
  });

  it('fails over from a CALL the page sent as from its own', async () => {
    const { rpc, asked } = rpcWith({ [A]: answer, [B]: busy, [C]: answer });
    const sent = rpc.sentByPage(B, 7, CALL_HEAD, Date.now(), 1_000);
    const outcome = await rpc.callDetailed('svc', null, { policy: 'first' }, undefined, { provider: B, sent });
    expect(asked).toEqual([A]);
    expect(outcome).toMatchObject({ provider: A, attempts: 2, failed: [{ nodeId: B, code: ErrorCode.BUSY }] });
  });

  it('takes a CALL sent to a provider that is no longer a neighbour as NOT_CONNECTED, and moves on', async () => {
    const { rpc, asked, framed } = rpcWith({ [A]: answer }, { neighbours: [A] });
    const sent = rpc.sentByPage(B, 7, CALL_HEAD, Date.now(), 1_000);
    const outcome = await rpc.callDetailed('svc', null, { policy: 'first' }, undefined, { provider: B, sent });
    expect(framed).toEqual([]);
    expect(outcome).toMatchObject({ provider: A, failed: [{ nodeId: B, code: ErrorCode.NOT_CONNECTED }] });
    expect(asked).toEqual([A]);
  });

  it('runs a sent CALL whose provider discovery no longer returns, with no one else to ask', async () => {
    const { rpc } = rpcWith({ [B]: answer }, { providers: [] });
    const sent = rpc.sentByPage(B, 9, CALL_HEAD, Date.now(), 1_000);
    expect(await rpc.call('svc', null, {}, undefined, { provider: B, sent })).toBe(9);
  });

  it('answers callTo from the CALL the page sent', async () => {
    const { rpc, asked } = rpcWith({ [C]: answer });
    const sent = rpc.sentByPage(C, 11, CALL_HEAD, Date.now(), 1_000);
    expect(await rpc.callTo(C, 'svc', null, {}, undefined, sent)).toBe(11);
    expect(asked).toEqual([]);
  });
});
