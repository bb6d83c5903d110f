import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../errors.js';
import { decodeFrame, encodeFrame } from '../wire/codec.js';
import { MessageType } from '../wire/messages.js';
import { failsOver, isReplyFrame, readReply, replyError } from './call-answer.js';

/**
 * The page reads a REPLY with MessagePack's decoder alone (readReply); the worker reads it
 * with the codec. Whatever the bytes, both must take the same body or both refuse it.
 */

/** A frame with the REPLY header around any MessagePack value. */
function replyOf(value: unknown): Uint8Array {
  const payload = encode(value);
  const frame = new Uint8Array(8 + payload.length);
  frame[0] = 1;
  frame[1] = MessageType.REPLY;
  new DataView(frame.buffer).setUint32(4, payload.length);
  frame.set(payload, 8);
  return frame;
}

const codecReads = (frame: Uint8Array): unknown => {
  const d = decodeFrame(frame);
  return d.ok && d.message.type === 'REPLY' ? d.message.body : null;
};

const bodies: Array<[string, unknown]> = [
  ['a result', { rid: 7, ok: true, result: { sum: 3, list: [1, 'a'], bin: new Uint8Array([1, 2]) } }],
  ['no result', { rid: 0, ok: true }],
  ['an error', { rid: 0xffffffff, ok: false, code: 'HANDLER_ERROR', message: 'boom' }],
  ['an error without a message', { rid: 9, ok: false, code: 'BUSY' }],
  ['an error with a long message', { rid: 9, ok: false, code: 'X', message: 'm'.repeat(5000) }],
  ['an error with a code over 64 characters', { rid: 9, ok: false, code: 'C'.repeat(65), message: '' }],
  ['an error with no code', { rid: 9, ok: false, message: 'x' }],
  ['a negative rid', { rid: -1, ok: true, result: 1 }],
  ['a rid over 32 bits', { rid: 2 ** 32, ok: true, result: 1 }],
  ['a fractional rid', { rid: 1.5, ok: true, result: 1 }],
  ['ok not a boolean', { rid: 1, ok: 1, result: 1 }],
  ['an array', [1, true]],
  ['a number', 12],
  ['bytes', new Uint8Array(4)],
  ['null', null],
];

describe('reading a REPLY on the page', () => {
  it.each(bodies)('for %s, takes what the codec takes', (_, body) => {
    const frame = replyOf(body);
    expect(readReply(frame)).toEqual(codecReads(frame));
  });

  it('reads the frames the codec writes', () => {
    const frame = encodeFrame('REPLY', { rid: 5, ok: true, result: ['x'] });
    expect(readReply(frame)).toEqual({ rid: 5, ok: true, result: ['x'] });
  });

  it('refuses what is not a whole REPLY frame, as the codec does', () => {
    const good = replyOf({ rid: 1, ok: true, result: 1 });
    const cases: Uint8Array[] = [
      new Uint8Array(0),
      good.subarray(0, 7),
      good.subarray(0, good.length - 1),
      Uint8Array.from([2, ...good.subarray(1)]),
      Uint8Array.from([good[0]!, MessageType.CALL, ...good.subarray(2)]),
      Uint8Array.from([...good, 0]),
      Uint8Array.from([1, MessageType.REPLY, 0, 0, 0, 0, 0, 1, 0xc1]), // 0xc1: never used in MessagePack
    ];
    for (const frame of cases) {
      expect(readReply(frame)).toBeNull();
      expect(codecReads(frame)).toBeNull();
    }
    expect(isReplyFrame(good)).toBe(true);
    expect(isReplyFrame(encodeFrame('CALL', { rid: 1, service: 's', args: null }))).toBe(false);
  });

  it('means the errors rpc.ts throws, and fails over on the same codes', () => {
    const e = replyError({ rid: 1, ok: false, code: 'HANDLER_ERROR', message: '' }, 'p'.repeat(64));
    expect([e.code, e.message, e.details]).toEqual([
      ErrorCode.HANDLER_ERROR,
      'HANDLER_ERROR',
      { provider: 'p'.repeat(64) },
    ]);
    expect(replyError({ rid: 1, ok: false, code: 'NOT_A_CODE', message: 'm' }, 'p').code).toBe(ErrorCode.HANDLER_ERROR);
    expect([ErrorCode.BUSY, ErrorCode.UNKNOWN_SERVICE, ErrorCode.TIMEOUT].every(failsOver)).toBe(true);
    expect([ErrorCode.HANDLER_ERROR, ErrorCode.TOO_LARGE, ErrorCode.NOT_ENCODABLE].some(failsOver)).toBe(false);
  });
});
