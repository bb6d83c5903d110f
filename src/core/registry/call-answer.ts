import { Decoder } from '@msgpack/msgpack';
import { MAX_FRAME_BYTES } from '../constants.js';
import { ErrorCode, isErrorCode, MeshError } from '../errors.js';
import { MessageType, type MessageBodies } from '../wire/messages.js';

/**
 * What the REPLY to a CALL (or the acknowledgement of a PUBLISH) means to the sender, read in one place for both
 * threads that may read it: the worker (rpc.ts, with the codec) and the page, which settles
 * the app's call itself when the REPLY comes back over the channel it sent the CALL on
 * (docs/ARCHITECTURE.md, Threads), so the answer does not wait for the worker to wake.
 *
 * The page has no other use for the codec (wire/codec.ts, every message's schema), so
 * `readReply` reads a REPLY frame with MessagePack's decoder alone, with the codec's limits
 * and its REPLY check, field for field (call-answer.test.ts holds the two side by side).
 */

type ReplyBody = MessageBodies['REPLY'];

/** Errors after which a call tries the next provider (rpc.ts, callDetailed). */
const FAILOVER_CODES: ReadonlySet<string> = new Set([
  ErrorCode.TIMEOUT,
  ErrorCode.NOT_CONNECTED,
  ErrorCode.UNKNOWN_SERVICE,
  ErrorCode.BUSY,
  ErrorCode.UNREACHABLE,
  ErrorCode.CLOSED,
]);

/** Whether a call moves on to the next provider after an error of this code. */
export const failsOver = (code: string): boolean => FAILOVER_CODES.has(code);

/** The error a REPLY with `ok: false` from `provider` stands for, as the app gets it. */
export function replyError(body: ReplyBody, provider: string): MeshError {
  const code = isErrorCode(body.code) ? body.code : ErrorCode.HANDLER_ERROR;
  return new MeshError(code, body.message || code, { provider });
}

/** A subscriber's REPLY to a PUBLISH says it took the message: at least one of its subscriptions matched. */
export const acknowledged = (body: ReplyBody): boolean => body.ok && typeof body.result === 'number' && body.result > 0;

/** wire/codec.ts's PROTOCOL_VERSION and HEADER_BYTES (imported from there, the page would carry the whole codec). */
const PROTOCOL_VERSION = 1;
const HEADER_BYTES = 8;

// The codec's limits: no string or bytes longer than a frame. Pure: the worker, which reads REPLYs with the codec, drops it.
const decoder = /* @__PURE__ */ new Decoder({ maxStrLength: MAX_FRAME_BYTES, maxBinLength: MAX_FRAME_BYTES });

const isRid = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

/** True when `frame`'s header says REPLY (nothing decoded): the page looks no further into other frames. */
export const isReplyFrame = (frame: Uint8Array): boolean =>
  frame.length >= HEADER_BYTES && frame[0] === PROTOCOL_VERSION && frame[1] === MessageType.REPLY;

/**
 * The body of a frame of `type` as a map, read as the codec reads it (its header, its size
 * limit, MessagePack); null for a frame of another type or anything malformed. The schema is
 * the caller's (readReply here, publication-read.ts for a PUBLISH).
 */
export function readMap(frame: Uint8Array, type: number): Record<string, unknown> | null {
  if (frame.length < HEADER_BYTES || frame[0] !== PROTOCOL_VERSION || frame[1] !== type) return null;
  if (frame.length > MAX_FRAME_BYTES) return null;
  const length = ((frame[4]! << 24) | (frame[5]! << 16) | (frame[6]! << 8) | frame[7]!) >>> 0;
  if (length !== frame.length - HEADER_BYTES) return null;
  const m = readValue(frame.subarray(HEADER_BYTES))?.value;
  return typeof m !== 'object' || m === null || Array.isArray(m) || m instanceof Uint8Array
    ? null
    : (m as Record<string, unknown>);
}

/** One MessagePack value with the codec's limits, as the codec's decodeValue reads it; undefined when it does not decode. */
export function readValue(bytes: Uint8Array): { value: unknown } | undefined {
  try {
    return { value: decoder.decode(bytes) };
  } catch {
    return undefined;
  }
}

/** The body of a REPLY frame, checked as the codec checks it; null for anything else or anything malformed. */
export function readReply(frame: Uint8Array): ReplyBody | null {
  const body = readMap(frame, MessageType.REPLY);
  if (body === null) return null;
  if (!isRid(body.rid) || typeof body.ok !== 'boolean') return null;
  if (body.ok) return { rid: body.rid, ok: true, result: body.result };
  if (typeof body.code !== 'string' || body.code.length > 64) return null;
  const message = typeof body.message === 'string' ? body.message.slice(0, 1024) : '';
  return { rid: body.rid, ok: false, code: body.code, message };
}
