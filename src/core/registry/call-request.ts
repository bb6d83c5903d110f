import { MAX_SERVICE_NAME_CHARS, RPC_TIMEOUT_MS } from '../constants.js';
import { MessageType, type CallMsg } from '../wire/messages.js';
import { readMap } from './call-answer.js';
import { encodedSize, MAX_PAYLOAD_BYTES, messageFrame } from './call-reply.js';

/**
 * A CALL as the requester's page sends it itself, when the worker's copy says where it goes
 * (main/page-calls.ts; docs/ARCHITECTURE.md, Threads): its frame, written with MessagePack's
 * encoder alone (the page carries no codec), and the checks that decide whether the page may
 * send it at all. The page takes a call only when the worker (rpc.ts) would run it the same
 * way: options the worker accepts, a policy whose first choice the page can make, arguments
 * that travel. Anything else goes to the worker, which refuses it with its typed error.
 *
 * The provider's page reads a CALL straight from a neighbour here too (readCall), when it
 * admits it itself (main/page-admissions.ts): with the codec's check, without the codec.
 */

/** What a call's options may be for the page to send its first CALL: rpc.ts's checks, as a yes or no. */
export interface PageCallOptions {
  timeoutMs?: number;
  maxAttempts?: number;
  /** 'roundrobin' keeps its turn in the worker, 'local-first' asks this tab's own handler: the worker's. */
  policy?: 'random' | 'first';
}

const isTimeout = (t: unknown): boolean =>
  t === undefined || (typeof t === 'number' && Number.isFinite(t) && t > 0 && t <= 600_000);
const isAttempts = (n: unknown): boolean =>
  n === undefined || (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 20);

/** True when `opts` are call() options rpc.ts accepts with a policy the page can lead (see PageCallOptions). */
export function pageLeads(opts: unknown): opts is PageCallOptions {
  if (typeof opts !== 'object' || opts === null) return false;
  const o = opts as Record<string, unknown>;
  return (
    isTimeout(o.timeoutMs) &&
    isAttempts(o.maxAttempts) &&
    (o.policy === undefined || o.policy === 'random' || o.policy === 'first')
  );
}

/** True when callTo()'s options are ones rpc.ts accepts. */
export function pageLeadsTo(opts: unknown): opts is { timeoutMs?: number } {
  return typeof opts === 'object' && opts !== null && isTimeout((opts as Record<string, unknown>).timeoutMs);
}

/** A service id the worker accepts (service-registry.ts, checkServiceId). */
export const isServiceId = (s: unknown): s is string => typeof s === 'string' && s.length > 0 && s.length <= 256;

/** An attempt's timeout: the option or RPC_TIMEOUT_MS. */
export const attemptTimeoutMs = (opts: { timeoutMs?: number }): number => opts.timeoutMs ?? RPC_TIMEOUT_MS;

/**
 * The CALL frame (wire/codec.ts, encodeFrame, byte for byte), or null when `args` cannot
 * travel (not MessagePack, or over 1 MiB encoded: rpc.ts, checkPayload): the worker then
 * refuses the call with its own error. Arguments are measured as the worker measures them.
 */
export function callFrame(rid: number, service: string, args: unknown): Uint8Array | null {
  const size = encodedSize(args);
  if (size > MAX_PAYLOAD_BYTES) return null;
  try {
    return messageFrame(MessageType.CALL, { rid, service, args });
  } catch {
    return null;
  }
}

/**
 * The page takes a REPLY only up to this long before the worker's own deadline, so that the
 * worker, which may move on to the next provider at its deadline, has seen the REPLY first.
 */
const PAGE_DEADLINE_MARGIN_MS = 50;

/** Until when (wall clock) the page may settle a call from the REPLY to a CALL sent at `sentAt`. */
export const pageDeadline = (sentAt: number, timeoutMs: number): number =>
  sentAt + timeoutMs - Math.min(PAGE_DEADLINE_MARGIN_MS, timeoutMs / 10);

/** True when `frame`'s header says CALL (nothing decoded): the page looks no further into other frames. */
export const isCallFrame = (frame: Uint8Array): boolean =>
  frame.length >= 8 && frame[0] === 1 && frame[1] === MessageType.CALL;

const isRid = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

/**
 * The body of a CALL frame, checked as the codec checks it (wire/codec.ts: its header, its
 * limits, then a rid and a service name of 1 to 256 characters; the arguments are whatever
 * MessagePack read); null for anything else or anything malformed. call-request.test.ts holds
 * the two side by side.
 */
export function readCall(frame: Uint8Array): CallMsg | null {
  const body = readMap(frame, MessageType.CALL);
  if (body === null || !isRid(body.rid)) return null;
  const { service } = body;
  if (typeof service !== 'string' || service.length === 0 || service.length > MAX_SERVICE_NAME_CHARS) return null;
  return { rid: body.rid, service, args: body.args };
}
