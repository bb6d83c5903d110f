import { encode } from '@msgpack/msgpack';
import { ErrorCode, isMeshError } from '../errors.js';
import { MessageType, type MessageBodies } from '../wire/messages.js';

/**
 * What a provider answers to a CALL, built in one place for both threads that may send it:
 * the worker (a routed call, and the simulator) and, for a call that came straight over a
 * channel, the page, which runs the app's handler and puts this REPLY on the channel itself
 * (docs/ARCHITECTURE.md, Threads), so the answer does not go back through the worker first.
 *
 * The page has no other use for the codec (wire/codec.ts, with its decoder and every
 * message's schema), so this file writes the REPLY's frame itself with MessagePack's
 * encoder: the same 8-byte header (version, type, flags, reserved, payload length) and
 * body, byte for byte, as call-reply.test.ts checks against encodeFrame.
 */

/** Arguments and results up to 1 MiB once encoded; they travel chunked. */
export const MAX_PAYLOAD_BYTES = 1 << 20;

/** How the app's handler ended: its result, or what it threw. */
export type HandlerOutcome = { ok: true; result: unknown } | { ok: false; error: unknown };

type ReplyBody = MessageBodies['REPLY'];

/** The error REPLY for a handler that threw: its own message, UNKNOWN_SERVICE kept, anything else HANDLER_ERROR. */
function failed(rid: number, error: unknown): ReplyBody {
  const code = isMeshError(error) && error.code === ErrorCode.UNKNOWN_SERVICE ? error.code : ErrorCode.HANDLER_ERROR;
  return { rid, ok: false, code, message: error instanceof Error ? error.message : String(error) };
}

/** The error REPLY for a result of `size` encoded bytes that cannot travel (Infinity: not encodable at all). */
function unsendable(serviceId: string, rid: number, size: number): ReplyBody {
  if (size === Infinity)
    return {
      rid,
      ok: false,
      code: ErrorCode.NOT_ENCODABLE,
      message: `the result of ${serviceId} cannot be encoded as MessagePack (plain data only: no BigInt, functions or symbols)`,
    };
  return {
    rid,
    ok: false,
    code: ErrorCode.TOO_LARGE,
    message: `the result of ${serviceId} is ${size} bytes encoded, more than the 1 MiB limit`,
  };
}

/** wire/codec.ts's PROTOCOL_VERSION and HEADER_BYTES (imported from there, the page would carry the whole codec). */
const PROTOCOL_VERSION = 1;
const HEADER_BYTES = 8;

/** The length of a REPLY's header: what the page hands the worker of a REPLY it sent (frame-pump.ts). */
export const REPLY_HEADER_BYTES = HEADER_BYTES;

/** A REPLY frame (wire/codec.ts, encodeFrame); throws when MessagePack cannot encode the body. */
const frameOf = (body: ReplyBody): Uint8Array => messageFrame(MessageType.REPLY, body);

/**
 * The frame of a message of `type` (wire/codec.ts, encodeFrame, byte for byte) written with
 * MessagePack's encoder alone: a REPLY here, a CALL in call-request.ts. Throws when
 * MessagePack cannot encode the body.
 */
export function messageFrame(type: number, body: unknown): Uint8Array {
  const payload = encode(body, { ignoreUndefined: true });
  const frame = new Uint8Array(HEADER_BYTES + payload.length);
  frame[0] = PROTOCOL_VERSION;
  frame[1] = type;
  new DataView(frame.buffer).setUint32(4, payload.length);
  frame.set(payload, HEADER_BYTES);
  return frame;
}

/** Infinity when MessagePack cannot encode the value at all. */
export function encodedSize(value: unknown): number {
  try {
    return encode(value, { ignoreUndefined: true }).length;
  } catch {
    return Infinity;
  }
}

/**
 * A subscriber's acknowledgement of PUBLISH `rid`: how many of its subscriptions matched
 * (pubsub.ts, handlePublish), for the page that took the publication itself (main/page-publications.ts).
 */
export const acknowledgementFrame = (rid: number, matched: number): Uint8Array =>
  frameOf({ rid, ok: true, result: matched });

/** The body of the REPLY to CALL `rid` of `serviceId` (the worker's way: the router encodes it). */
export function replyBody(serviceId: string, rid: number, outcome: HandlerOutcome): ReplyBody {
  if (!outcome.ok) return failed(rid, outcome.error);
  const size = encodedSize(outcome.result);
  return size > MAX_PAYLOAD_BYTES ? unsendable(serviceId, rid, size) : { rid, ok: true, result: outcome.result };
}

/**
 * The REPLY frame to CALL `rid` of `serviceId`, with the same outcomes as replyBody, the
 * result encoded once: a value inside the frame's map is encoded exactly as alone, so its
 * size is the frame's length less that of the same frame with a one-byte `null` result.
 */
export function replyFrame(serviceId: string, rid: number, outcome: HandlerOutcome): Uint8Array {
  if (!outcome.ok) return frameOf(failed(rid, outcome.error));
  let frame: Uint8Array;
  try {
    frame = frameOf({ rid, ok: true, result: outcome.result });
  } catch {
    return frameOf(unsendable(serviceId, rid, Infinity));
  }
  const size = frame.length - (frameOf({ rid, ok: true, result: null }).length - 1);
  return size > MAX_PAYLOAD_BYTES ? frameOf(unsendable(serviceId, rid, size)) : frame;
}
