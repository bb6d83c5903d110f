import { describe, expect, it } from 'vitest';
import { seededRandom, systemClock } from '../environment.js';
import { ErrorCode, isMeshError } from '../errors.js';
import { encodeFrame } from '../wire/codec.js';
import { MAX_PAYLOAD_BYTES } from './call-reply.js';
import { callFrame, pageDeadline, pageLeads, pageLeadsTo } from './call-request.js';
import { Rpc, type RpcHost } from './rpc.js';
import type { ProviderInfo } from './service-registry.js';

/**
 * The page sends a call's first CALL itself only when the worker would have sent the same
 * frame (written without the codec) for options the worker accepts; everything the worker
 * would refuse is left to it, to refuse with its own error.
 */

const A = 'a'.repeat(64);

describe('the CALL the page sends', () => {
  it.each([
    ['plain data', { n: 1, list: ['x', 'y'], nested: { ok: true } }],
    ['nothing', undefined],
    ['bytes', new Uint8Array([1, 2, 3])],
    ['exactly 1 MiB of arguments', new Uint8Array(MAX_PAYLOAD_BYTES - 5)],
  ])('is the frame the worker sends, for %s', (_, args) => {
    const page = Buffer.from(callFrame(77, 'svc.x', args)!);
    expect(page.equals(Buffer.from(encodeFrame('CALL', { rid: 77, service: 'svc.x', args })))).toBe(true);
  });

  it('is not sent for arguments that cannot travel: the worker refuses those', () => {
    expect(callFrame(1, 'svc', 10n)).toBeNull();
    expect(callFrame(1, 'svc', () => 1)).toBeNull();
    expect(callFrame(1, 'svc', new Uint8Array(MAX_PAYLOAD_BYTES))).toBeNull();
  });

  it('is settled by the page only until a margin before the worker gives up on it', () => {
    expect(pageDeadline(1_000, 5_000)).toBe(5_950);
    expect(pageDeadline(1_000, 100)).toBe(1_090);
  });
});

describe('options the page leads with', () => {
  const host = {
    self: new Uint8Array(32),
    selfHex: 'f'.repeat(64),
    clock: systemClock,
    random: seededRandom(3),
    count: () => undefined,
    neighbours: new Set<string>(),
    messenger: {
      newId: () => 1,
      queryPeer: async () => ({ reply: { type: 'REPLY', body: { rid: 1, ok: true, result: 0 } }, info: {} }),
    },
  } as unknown as RpcHost;
  const rpc = new Rpc(
    host,
    { discover: async () => [{ nodeId: A } as ProviderInfo], forgetProvider: () => undefined },
    { has: () => false, invoke: async () => 0 },
  );
  const refusedByWorker = async (opts: unknown): Promise<boolean> => {
    try {
      await rpc.call('svc', null, opts as object);
      return false;
    } catch (e) {
      return isMeshError(e) && e.code === ErrorCode.INVALID_ARGUMENT;
    }
  };

  it.each([
    {},
    { timeoutMs: 1 },
    { timeoutMs: 600_000 },
    { maxAttempts: 20, policy: 'first' },
    { policy: 'random' },
    { timeoutMs: 0 },
    { timeoutMs: -5 },
    { timeoutMs: 600_001 },
    { timeoutMs: Number.NaN },
    { timeoutMs: '100' },
    { maxAttempts: 0 },
    { maxAttempts: 1.5 },
    { maxAttempts: 21 },
    { policy: 'nearest' },
  ])('leads only with options the worker accepts: %o', async (opts) => {
    const leads = pageLeads(opts);
    if (leads) expect(await refusedByWorker(opts)).toBe(false);
    else expect(await refusedByWorker(opts)).toBe(true);
  });

  it("leaves the policies whose draw is the worker's to it", async () => {
    expect(pageLeads({ policy: 'roundrobin' })).toBe(false);
    expect(pageLeads({ policy: 'local-first' })).toBe(false);
    expect(await refusedByWorker({ policy: 'roundrobin' })).toBe(false);
    expect(pageLeads(null)).toBe(false);
    expect(pageLeadsTo({ timeoutMs: 10 })).toBe(true);
    expect(pageLeadsTo({ timeoutMs: 0 })).toBe(false);
  });
});
