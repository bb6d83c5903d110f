import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { seededRandom, systemClock } from '../environment.js';
import { ErrorCode, isMeshError } from '../errors.js';
import { decodeFrame, encodeFrame } from '../wire/codec.js';
import { MessageType } from '../wire/messages.js';
import { MAX_PAYLOAD_BYTES } from './call-reply.js';
import { callFrame, isCallFrame, pageDeadline, pageLeads, pageLeadsTo, readCall } from './call-request.js';
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

/** A frame with the CALL header around any MessagePack value. */
function callOf(value: unknown): Uint8Array {
  const payload = encode(value);
  const frame = new Uint8Array(8 + payload.length);
  frame[0] = 1;
  frame[1] = MessageType.CALL;
  new DataView(frame.buffer).setUint32(4, payload.length);
  frame.set(payload, 8);
  return frame;
}

const codecReads = (frame: Uint8Array): unknown => {
  const d = decodeFrame(frame);
  return d.ok && d.message.type === 'CALL' ? d.message.body : null;
};

describe('the CALL a provider’s page reads (it admits CALLs itself: main/page-admissions.ts)', () => {
  it.each([
    ['arguments', { rid: 7, service: 'svc.echo', args: { n: [1, 'a'], bin: new Uint8Array([1, 2]) } }],
    ['no arguments', { rid: 0, service: 's' }],
    ['the largest rid and a 256-character service', { rid: 0xffffffff, service: 's'.repeat(256), args: null }],
    ['a 257-character service', { rid: 1, service: 's'.repeat(257), args: 1 }],
    ['an empty service', { rid: 1, service: '', args: 1 }],
    ['a service that is not a string', { rid: 1, service: 5, args: 1 }],
    ['no service', { rid: 1, args: 1 }],
    ['a negative rid', { rid: -1, service: 's', args: 1 }],
    ['a rid over 32 bits', { rid: 2 ** 32, service: 's', args: 1 }],
    ['a fractional rid', { rid: 1.5, service: 's', args: 1 }],
    ['an array', [1, 's', 2]],
    ['bytes', new Uint8Array(4)],
    ['null', null],
  ])('for %s, takes what the codec takes', (_, body) => {
    const frame = callOf(body);
    expect(readCall(frame)).toEqual(codecReads(frame));
  });

  it('reads the frames the requester writes, and refuses what is not a whole CALL frame', () => {
    const good = callFrame(9, 'svc', { a: 1 })!;
    expect(readCall(good)).toEqual({ rid: 9, service: 'svc', args: { a: 1 } });
    expect(isCallFrame(good)).toBe(true);
    const cases: Uint8Array[] = [
      new Uint8Array(0),
      good.subarray(0, 7),
      good.subarray(0, good.length - 1),
      Uint8Array.from([2, ...good.subarray(1)]),
      Uint8Array.from([good[0]!, MessageType.REPLY, ...good.subarray(2)]),
      Uint8Array.from([...good, 0]),
      Uint8Array.from([1, MessageType.CALL, 0, 0, 0, 0, 0, 1, 0xc1]),
    ];
    for (const frame of cases) {
      expect(readCall(frame)).toBeNull();
      expect(codecReads(frame)).toBeNull();
    }
    expect(isCallFrame(encodeFrame('REPLY', { rid: 1, ok: true, result: null }))).toBe(false);
  });
});
