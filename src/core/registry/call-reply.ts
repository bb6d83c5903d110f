import { encode } from '@msgpack/msgpack';
import { ErrorCode, isMeshError } from '../errors.js';
import type { MessageBodies } from '../wire/messages.js';
import { encodeFrame } from '../wire/codec.js';

/**
 * What a provider answers to a CALL, built in one place for both threads that may send it:
 * the worker (a routed call, and the simulator) and, for a call that came straight over a
 * channel, the page, which runs the app's handler and puts this REPLY on the channel itself
 * (docs/ARCHITECTURE.md, Threads), so the answer does not go back through the worker first.
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

/** Infinity when MessagePack cannot encode the value at all. */
export function encodedSize(value: unknown): number {
  try {
    return encode(value, { ignoreUndefined: true }).length;
  } catch {
    return Infinity;
  }
}

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
  if (!outcome.ok) return encodeFrame('REPLY', failed(rid, outcome.error));
  let frame: Uint8Array;
  try {
    frame = encodeFrame('REPLY', { rid, ok: true, result: outcome.result });
  } catch {
    return encodeFrame('REPLY', unsendable(serviceId, rid, Infinity));
  }
  const size = frame.length - (encodeFrame('REPLY', { rid, ok: true, result: null }).length - 1);
  return size > MAX_PAYLOAD_BYTES ? encodeFrame('REPLY', unsendable(serviceId, rid, size)) : frame;
}
