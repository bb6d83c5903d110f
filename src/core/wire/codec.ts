import { Decoder, Encoder } from '@msgpack/msgpack';
import { ID_BYTES, MAX_FRAME_BYTES, MAX_HOPS, MAX_SERVICE_NAME_CHARS } from '../constants.js';
import { encodedSize, exactRouteSize } from './encoded-size.js';
import { HeldFrame, type Frame } from '../held-frame.js';
import {
  MessageType,
  messageNames,
  PEER_KINDS,
  type Message,
  type MessageBodies,
  type MessageName,
  type PeerKind,
  type RouteMsg,
} from './messages.js';

export { HeldFrame, type Frame } from '../held-frame.js';

/**
 * Frames: an 8-byte header — version, type id, flags, reserved, payload length (uint32 BE) —
 * then one MessagePack map (docs/ARCHITECTURE.md, Wire). Decoding never throws: untrusted bytes come
 * back as a `DecodeError` value naming what was wrong.
 */

export const PROTOCOL_VERSION = 1;
export const HEADER_BYTES = 8;

export type DecodeResult = { ok: true; message: Message } | { ok: false; error: DecodeError };
export type DecodeError = 'short' | 'version' | 'type' | 'length' | 'msgpack' | 'schema';

// One encoder and decoder for the process: creating them per frame dominated the simulator's garbage.
const encoder = new Encoder({ ignoreUndefined: true });
const decoder = new Decoder({ maxStrLength: MAX_FRAME_BYTES, maxBinLength: MAX_FRAME_BYTES });

export function encodeFrame<N extends MessageName>(type: N, body: MessageBodies[N]): Uint8Array {
  // An envelope made in memory may carry a held frame (core/held-frame.ts): on the wire it is bytes.
  if (type === 'RPC_ROUTE' && (body as RouteMsg).body instanceof HeldFrame)
    return encodeFrame(type, { ...(body as RouteMsg), body: frameBytes((body as RouteMsg).body) } as MessageBodies[N]);
  // A view into the encoder's buffer, copied once into the frame below.
  const payload = encoder.encodeSharedRef(body);
  const frame = new Uint8Array(HEADER_BYTES + payload.length);
  frame[0] = PROTOCOL_VERSION;
  frame[1] = MessageType[type];
  // Big-endian by hand: a DataView per frame was garbage on the hottest path.
  const length = payload.length;
  frame[4] = length >>> 24;
  frame[5] = (length >>> 16) & 0xff;
  frame[6] = (length >>> 8) & 0xff;
  frame[7] = length & 0xff;
  frame.set(payload, HEADER_BYTES);
  return frame;
}

/**
 * The frame of a message for a transport that carries held frames (core/held-frame.ts): held,
 * with its exact encoded length, unless it holds a value that would not read back the same
 * (encoded-size.ts); then bytes, as for any other transport.
 */
export function holdFrame<N extends MessageName>(type: N, body: MessageBodies[N]): Frame {
  // Envelopes are most frames, one new body per hop: their size is taken knowing their fields.
  if (type === 'RPC_ROUTE') {
    const exact = exactRouteSize(body);
    if (exact >= 0) return new HeldFrame(MessageType.RPC_ROUTE, body, HEADER_BYTES + exact, true);
  }
  const size = encodedSize(body);
  return size < 0 ? encodeFrame(type, body) : new HeldFrame(MessageType[type], body, HEADER_BYTES + size);
}

/** A frame as bytes, whichever way it was made. */
export const frameBytes = (frame: Frame): Uint8Array =>
  frame instanceof HeldFrame ? encodeFrame(messageNames.get(frame.typeId)!, frame.body as never) : frame;

/** The header's type byte, or -1 for a runt (flood classes and counters read only this). */
export const frameTypeId = (frame: Frame): number =>
  frame instanceof HeldFrame ? frame.typeId : frame.length >= HEADER_BYTES ? frame[1]! : -1;

/** The type of a frame without decoding its body (for counters and fast dispatch). */
export const peekType = (frame: Frame): MessageName | undefined => messageNames.get(frameTypeId(frame));

export function decodeFrame(frame: Frame): DecodeResult {
  if (frame instanceof HeldFrame) return (frame.read ??= readHeld(frame)) as DecodeResult;
  if (!(frame instanceof Uint8Array) || frame.length < HEADER_BYTES) return fail('short');
  if (frame[0] !== PROTOCOL_VERSION) return fail('version');
  const name = messageNames.get(frame[1]!);
  if (name === undefined) return fail('type');
  const length = ((frame[4]! << 24) | (frame[5]! << 16) | (frame[6]! << 8) | frame[7]!) >>> 0;
  if (length !== frame.length - HEADER_BYTES || frame.length > MAX_FRAME_BYTES) return fail('length');
  let raw: unknown;
  try {
    raw = decoder.decode(frame.subarray(HEADER_BYTES));
  } catch {
    return fail('msgpack');
  }
  const body = validators[name](raw);
  if (body === null) return fail('schema');
  return { ok: true, message: { type: name, body } as Message };
}

const fail = (error: DecodeError): DecodeResult => ({ ok: false, error });

/** What the bytes would have met: the type, the size limit and the schema check (a fresh body of known fields). */
function readHeld(frame: HeldFrame): DecodeResult {
  const type = messageNames.get(frame.typeId);
  if (type === undefined) return fail('type');
  if (frame.length > MAX_FRAME_BYTES) return fail('length');
  // An envelope of exactly its schema's fields (HeldFrame.exactShape) is read as it is, its
  // values checked as a copy's would be: a copy per hop was garbage that waited on the network
  // until the next hop's acknowledgement (BENCHMARKS.md, Simulator garbage).
  const body =
    frame.exactShape && type === 'RPC_ROUTE'
      ? routeChecked(frame.body as Obj)
        ? (frame.body as MessageBodies['RPC_ROUTE'])
        : null
      : validators[type](frame.body);
  return body === null ? fail('schema') : { ok: true, message: { type, body } as Message };
}

/** One MessagePack value carried as bytes inside a body (a publication's payload); never throws. */
export function decodeValue(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: decoder.decode(bytes) };
  } catch {
    return { ok: false };
  }
}

/** A value as MessagePack bytes of its own (a copy: the encoder's buffer is shared); throws on what cannot be encoded. */
export const encodeValue = (value: unknown): Uint8Array => encoder.encode(value);

// ---- schema checks: each returns the typed body or null ----

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
const isId = (v: unknown): v is Uint8Array => v instanceof Uint8Array && v.length === ID_BYTES;
const isRid = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
/** A kind this build knows; any other value (a newer peer's, junk) reads as no kind at all. */
const isPeerKind = (v: unknown): v is PeerKind => (PEER_KINDS as readonly unknown[]).includes(v);
/** Written as a loop, not `every(isId)`: every envelope's path and every lookup answer's ids pass through here. */
function isIdList(v: unknown, max: number): v is Uint8Array[] {
  if (!Array.isArray(v) || v.length > max) return false;
  for (let i = 0; i < v.length; i++) if (!isId(v[i])) return false;
  return true;
}
/** An envelope's body: bytes, or a held frame where the envelope itself came held (never from bytes). */
const isFrame = (v: unknown): v is Frame => v instanceof Uint8Array || v instanceof HeldFrame;
const isKind = (v: unknown): v is 'provider' | 'subscriber' => v === 'provider' || v === 'subscriber';
const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_SERVICE_NAME_CHARS;
const MAX_NODES_IN_REPLY = 64;
/** Indices into a reply's `nodes`, each at most once, in increasing order. */
function isLinked(v: unknown, nodes: number): v is number[] {
  if (!Array.isArray(v) || v.length > nodes) return false;
  let last = -1;
  for (let at = 0; at < v.length; at++) {
    const i: unknown = v[at];
    if (!Number.isInteger(i) || (i as number) <= last || (i as number) >= nodes) return false;
    last = i as number;
  }
  return true;
}
/**
 * A reply's optional `linked` field, added to its checked `body`: absent, valid, or the whole
 * reply is malformed (null). Set on the body rather than spread into a copy of it (a lookup's
 * every answer is read here).
 */
const withLinked = <T extends object>(
  body: T & { linked?: number[] },
  m: Record<string, unknown>,
  nodes: number,
): (T & { linked?: number[] }) | null => {
  if (m.linked === undefined) return body;
  if (!isLinked(m.linked, nodes)) return null;
  body.linked = m.linked;
  return body;
};
const MAX_RECORDS_IN_REPLY = 256;

/** An envelope's values, each as its schema says (the RPC_ROUTE check, without the copy). */
function routeChecked(m: Obj): boolean {
  if (!isId(m.dest) || !isId(m.src) || typeof m.exact !== 'boolean' || !isRid(m.hid)) return false;
  if (!Number.isInteger(m.hops) || !Number.isInteger(m.max)) return false;
  const hops = m.hops as number;
  const max = m.max as number;
  if (hops < 0 || max < 1 || max > MAX_HOPS || hops > max) return false;
  // An honest envelope has one path entry per hop taken; more could not be forwarded.
  if (!isIdList(m.path, MAX_HOPS + 1) || m.path.length > hops || !isFrame(m.body)) return false;
  return m.via === undefined || isIdList(m.via, MAX_HOPS + 1);
}

const validators: { [N in MessageName]: (raw: unknown) => MessageBodies[N] | null } = {
  CONNECT: (m) =>
    isObj(m) &&
    m.publicKey instanceof Uint8Array &&
    m.publicKey.length === 32 &&
    typeof m.realm === 'string' &&
    m.realm.length <= 64
      ? { publicKey: m.publicKey, realm: m.realm }
      : null,
  PING: (m) => (isObj(m) && isRid(m.rid) ? (isPeerKind(m.kind) ? { rid: m.rid, kind: m.kind } : { rid: m.rid }) : null),
  PONG: (m) => (isObj(m) && isRid(m.rid) ? (isPeerKind(m.kind) ? { rid: m.rid, kind: m.kind } : { rid: m.rid }) : null),
  LEAVE: (m) => (isObj(m) ? {} : null),
  PUBLISH: publish,
  PUBSUB_ROUTE: publish,
  CALL: (m) =>
    isObj(m) && isRid(m.rid) && isName(m.service) ? { rid: m.rid, service: m.service, args: m.args } : null,
  REPLY: (m) => {
    if (!isObj(m) || !isRid(m.rid) || typeof m.ok !== 'boolean') return null;
    if (m.ok) return { rid: m.rid, ok: true, result: m.result };
    if (typeof m.code !== 'string' || m.code.length > 64) return null;
    const message = typeof m.message === 'string' ? m.message.slice(0, 1024) : '';
    return { rid: m.rid, ok: false, code: m.code, message };
  },
  RPC_ROUTE: (m) => {
    if (!isObj(m) || !routeChecked(m)) return null;
    const body: MessageBodies['RPC_ROUTE'] = {
      dest: m.dest as Uint8Array,
      src: m.src as Uint8Array,
      hops: m.hops as number,
      max: m.max as number,
      exact: m.exact as boolean,
      path: m.path as Uint8Array[],
      hid: m.hid as number,
      body: m.body as Frame,
    };
    if (m.via !== undefined) body.via = m.via as Uint8Array[];
    return body;
  },
  ROUTE_ACK: (m) => (isObj(m) && isRid(m.hid) ? { hid: m.hid } : null),
  FIND_NODE: (m) => (isObj(m) && isRid(m.rid) && isId(m.target) ? { rid: m.rid, target: m.target } : null),
  FIND_NODE_REPLY: (m) =>
    isObj(m) && isRid(m.rid) && isId(m.target) && isIdList(m.nodes, MAX_NODES_IN_REPLY)
      ? withLinked({ rid: m.rid, target: m.target, nodes: m.nodes }, m, m.nodes.length)
      : null,
  STORE: (m) => {
    if (!isObj(m) || !isRid(m.rid) || !isObj(m.record)) return null;
    if (m.remainingMs !== undefined && !(typeof m.remainingMs === 'number' && m.remainingMs >= 0)) return null;
    return m.remainingMs === undefined
      ? { rid: m.rid, record: m.record }
      : { rid: m.rid, record: m.record, remainingMs: m.remainingMs };
  },
  FIND_VALUE: (m) =>
    isObj(m) && isRid(m.rid) && isId(m.key) && isKind(m.kind) ? { rid: m.rid, key: m.key, kind: m.kind } : null,
  FIND_VALUE_REPLY: (m) =>
    isObj(m) &&
    isRid(m.rid) &&
    isId(m.key) &&
    isKind(m.kind) &&
    Array.isArray(m.records) &&
    m.records.length <= MAX_RECORDS_IN_REPLY &&
    isIdList(m.nodes, MAX_NODES_IN_REPLY)
      ? withLinked({ rid: m.rid, key: m.key, kind: m.kind, records: m.records, nodes: m.nodes }, m, m.nodes.length)
      : null,
  STORE_REPLY: (m) => {
    if (!isObj(m) || !isRid(m.rid) || !isId(m.key) || typeof m.ok !== 'boolean') return null;
    if (m.code !== undefined && (typeof m.code !== 'string' || m.code.length > 64)) return null;
    return m.code === undefined
      ? { rid: m.rid, key: m.key, ok: m.ok }
      : { rid: m.rid, key: m.key, ok: m.ok, code: m.code };
  },
  REMOVE: (m) => (isObj(m) && isRid(m.rid) && isObj(m.removal) ? { rid: m.rid, removal: m.removal } : null),
  SIGNAL: (m) => (isObj(m) && m.payload instanceof Uint8Array ? { payload: m.payload } : null),
};

function publish(m: unknown): MessageBodies['PUBLISH'] | null {
  if (
    !isObj(m) ||
    !isRid(m.rid) ||
    !(m.mid instanceof Uint8Array) ||
    m.mid.length !== 16 ||
    !isName(m.topic) ||
    !(m.payload instanceof Uint8Array) ||
    !(m.publicKey instanceof Uint8Array) ||
    m.publicKey.length !== 32 ||
    typeof m.at !== 'number' ||
    !Number.isFinite(m.at) ||
    !(m.signature instanceof Uint8Array) ||
    m.signature.length !== 64
  )
    return null;
  return {
    rid: m.rid,
    mid: m.mid,
    topic: m.topic,
    payload: m.payload,
    publicKey: m.publicKey,
    at: m.at,
    signature: m.signature,
  };
}
