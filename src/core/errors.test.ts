import { describe, expect, it } from 'vitest';
import { EventQueue } from '../sim/event-queue.js';
import { seededRandom } from './environment.js';
import { ErrorCode, isErrorCode, isMeshError, MeshError } from './errors.js';
import { createIdentity } from './identity.js';
import { DhtNode } from './node/dht-node.js';
import { requireStored } from './node/store-at-closest.js';
import { Rpc } from './registry/rpc.js';
import { decodeFrame, encodeFrame } from './wire/codec.js';

/** What a remote node may send back as an error code: Object.prototype's names are not codes (review L6). */
const NOT_CODES = [
  'constructor',
  'toString',
  '__proto__',
  'hasOwnProperty',
  'valueOf',
  'isPrototypeOf',
  'toLocaleString',
  'propertyIsEnumerable',
  '',
  'timeout',
];

describe('error codes', () => {
  it('isErrorCode holds for each stable code and for nothing else', () => {
    for (const code of Object.values(ErrorCode)) expect(isErrorCode(code)).toBe(true);
    for (const code of [...NOT_CODES, undefined, null, 1, {}])
      expect({ code, is: isErrorCode(code) }).toEqual({ code, is: false });
    expect(isMeshError(new MeshError(ErrorCode.TIMEOUT, 't'))).toBe(true);
    for (const code of NOT_CODES) expect(isMeshError({ code, message: 'm' })).toBe(false);
  });

  it("a provider's REPLY with a code outside the stable set becomes HANDLER_ERROR", async () => {
    const clock = new EventQueue();
    const sent: Array<{ peer: string; frame: Uint8Array }> = [];
    const random = seededRandom(41);
    const node = new DhtNode({
      identity: createIdentity(random.bytes),
      clock,
      random,
      transport: {
        send: (peer, frame) => {
          sent.push({ peer, frame });
          return true;
        },
        connect: () => undefined,
        disconnect: () => undefined,
      },
    });
    const provider = createIdentity(seededRandom(42).bytes).nodeIdHex;
    node.onChannelOpen(provider);
    const rpc = new Rpc(
      node,
      { discover: async () => [], forgetProvider: () => undefined },
      { has: () => false, invoke: async () => undefined },
    );
    for (const code of NOT_CODES.filter((c) => c !== '')) {
      sent.length = 0;
      const call = rpc.callTo(provider, 'svc', {});
      const frame = sent.map((s) => decodeFrame(s.frame)).find((d) => d.ok && d.message.type === 'CALL');
      if (!frame?.ok || frame.message.type !== 'CALL') throw new Error('no CALL sent');
      node.onFrame(provider, encodeFrame('REPLY', { rid: frame.message.body.rid, ok: false, code, message: 'm' }));
      await expect(call).rejects.toMatchObject({ code: ErrorCode.HANDLER_ERROR });
    }
    node.close();
  });

  it("storing nodes' refusals outside the stable set make requireStored throw UNREACHABLE", () => {
    for (const code of NOT_CODES) {
      const outcome = {
        stored: 0,
        attempted: 2,
        hops: 1,
        refused: [
          { node: 'a', code },
          { node: 'b', code },
        ],
      };
      expect(() => requireStored(outcome, 'publish')).toThrow(expect.objectContaining({ code: ErrorCode.UNREACHABLE }));
    }
    const stale = { stored: 0, attempted: 1, hops: 1, refused: [{ node: 'a', code: ErrorCode.STALE }] };
    expect(() => requireStored(stale, 'publish')).toThrow(expect.objectContaining({ code: ErrorCode.STALE }));
  });
});
