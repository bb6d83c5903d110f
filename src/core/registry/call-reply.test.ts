import { describe, expect, it } from 'vitest';
import { ErrorCode, MeshError } from '../errors.js';
import { decodeFrame, encodeFrame } from '../wire/codec.js';
import { MAX_PAYLOAD_BYTES, replyBody, replyFrame, type HandlerOutcome } from './call-reply.js';

/**
 * The REPLY a provider sends is built by the worker (replyBody, encoded by the router) or,
 * for a CALL straight from a neighbour, by the page (replyFrame): both must say the same.
 */
const outcomes: Array<[string, HandlerOutcome]> = [
  ['a result', { ok: true, result: { sum: 3, names: ['a', 'b'] } }],
  ['no result', { ok: true, result: undefined }],
  ['a handler error', { ok: false, error: new Error('boom') }],
  ['a thrown string', { ok: false, error: 'plain' }],
  ['UNKNOWN_SERVICE', { ok: false, error: new MeshError(ErrorCode.UNKNOWN_SERVICE, 'gone') }],
  [
    'another MeshError (the app’s, reported as its handler’s)',
    { ok: false, error: new MeshError(ErrorCode.BUSY, 'x') },
  ],
  ['a result MessagePack cannot encode', { ok: true, result: 10n }],
  ['a result over 1 MiB', { ok: true, result: new Uint8Array(MAX_PAYLOAD_BYTES) }],
  ['a result of exactly 1 MiB encoded', { ok: true, result: new Uint8Array(MAX_PAYLOAD_BYTES - 5) }],
];

describe('the REPLY to a CALL', () => {
  it.each(outcomes)('for %s, the frame the page builds is the frame the worker sends', (_, outcome) => {
    const page = Buffer.from(replyFrame('svc.x', 42, outcome));
    const worker = Buffer.from(encodeFrame('REPLY', replyBody('svc.x', 42, outcome)));
    // Compared as buffers: element by element, a 1 MiB array takes the matcher seconds.
    expect(page.equals(worker)).toBe(true);
  });

  it('says why a result cannot travel, and keeps UNKNOWN_SERVICE so that callers fail over', () => {
    const decoded = (outcome: HandlerOutcome) => {
      const d = decodeFrame(replyFrame('svc.x', 7, outcome));
      if (!d.ok || d.message.type !== 'REPLY') throw new Error('not a REPLY');
      return d.message.body;
    };
    expect(decoded({ ok: true, result: 10n })).toMatchObject({ rid: 7, ok: false, code: 'NOT_ENCODABLE' });
    expect(decoded({ ok: true, result: new Uint8Array(MAX_PAYLOAD_BYTES) })).toMatchObject({
      ok: false,
      code: 'TOO_LARGE',
      message: `the result of svc.x is ${MAX_PAYLOAD_BYTES + 5} bytes encoded, more than the 1 MiB limit`,
    });
    expect(decoded({ ok: true, result: new Uint8Array(MAX_PAYLOAD_BYTES - 5) })).toMatchObject({ ok: true });
    expect(decoded({ ok: false, error: new MeshError(ErrorCode.UNKNOWN_SERVICE, 'gone') })).toEqual({
      rid: 7,
      ok: false,
      code: 'UNKNOWN_SERVICE',
      message: 'gone',
    });
    expect(decoded({ ok: false, error: new Error('boom') })).toEqual({
      rid: 7,
      ok: false,
      code: 'HANDLER_ERROR',
      message: 'boom',
    });
  });
});
