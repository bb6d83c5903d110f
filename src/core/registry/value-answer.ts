import { ID_BYTES, MAX_FRAME_BYTES, MAX_HOPS } from '../constants.js';
import { toHex, type NodeId } from '../id.js';
import { readMap } from './call-answer.js';
import { messageFrame } from './call-reply.js';
import { MessageType } from '../wire/messages.js';

/**
 * A FIND_VALUE that came straight from the neighbour that started it, and the answer to it,
 * read and written in one place for the threads that may handle them without the node: the
 * pages of browser peers (docs/ARCHITECTURE.md, Threads: "An answering tab's page answers a
 * FIND_VALUE" and "A forced discovery is settled by the requester's page"). The node (its
 * router and gateway, with the codec) stays what decides; this file only reproduces, byte
 * for byte, what it would put on the channel, and reads its answer as it would:
 *
 * - the request: an RPC_ROUTE envelope, not exact, one hop taken (its path is its source,
 *   which is the neighbour that handed it over, and it names no further hops), carrying a
 *   FIND_VALUE. Read with MessagePack's decoder alone and the codec's limits and checks
 *   (wire/codec.ts, RPC_ROUTE and FIND_VALUE): anything else is null and goes the node's way.
 * - the answer: what the node's router sends for the gateway's FIND_VALUE_REPLY (router.ts,
 *   originate then forward, retracing the request's one hop): an exact envelope to the
 *   source, one hop, its path this node, no acknowledgement asked (the source was just
 *   heard from), around the reply's frame. The requester's page reads it back
 *   (`straightValueReply`) as the codec and the router would: an envelope for this node
 *   from the neighbour that handed it over, one hop, carrying a FIND_VALUE_REPLY; and it
 *   notes any other answer to a request it awaits (`readValueReply`), routed ones included.
 *
 * value-answer.test.ts holds both side by side with the codec and the router.
 */

/** What of a FIND_VALUE the answer needs. */
export interface StraightFindValue {
  /** The neighbour that started it (the envelope's source, the one hop of its path). */
  src: NodeId;
  rid: number;
  key: NodeId;
  /** `key` as hex: the answers are held by it. */
  keyHex: string;
  kind: 'provider' | 'subscriber';
}

/** The node's answer for a key (gateway.ts, valueAnswer), less the request id. */
export interface ValueAnswer {
  records: unknown[];
  nodes: NodeId[];
  linked?: number[];
}

const isId = (v: unknown): v is Uint8Array => v instanceof Uint8Array && v.length === ID_BYTES;
const isRid = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

function sameId(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < ID_BYTES; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A FIND_VALUE_REPLY as the requester reads it, from the node that answered straight over its own channel. */
export interface StraightValueReply {
  /** The answering node: the envelope's source, its one hop, and the neighbour that handed it over. */
  from: NodeId;
  rid: number;
  key: NodeId;
  kind: 'provider' | 'subscriber';
  /** Unchecked: each is a record for checkRecord (records.ts), as the lookup checks them. */
  records: unknown[];
  nodes: NodeId[];
}

/** The codec's bounds on a FIND_VALUE_REPLY (wire/codec.ts; value-answer.test.ts holds them side by side). */
const MAX_RECORDS_IN_REPLY = 256;
const MAX_NODES_IN_REPLY = 64;

const isIds = (v: unknown, max: number): v is NodeId[] => Array.isArray(v) && v.length <= max && v.every(isId);

/** The codec's `linked`: ascending indexes into `nodes`, each once. */
function isLinked(v: unknown, nodes: number): boolean {
  if (!Array.isArray(v) || v.length > nodes) return false;
  let last = -1;
  for (const i of v as unknown[]) {
    if (!Number.isInteger(i) || (i as number) <= last || (i as number) >= nodes) return false;
    last = i as number;
  }
  return true;
}

/** A FIND_VALUE_REPLY found in a frame, in an envelope or bare: read loosely, enough to know which request it answers. */
export interface ValueReplyIn {
  rid: number;
  /** The envelope's fields as they came (absent for a bare frame). */
  envelope?: Record<string, unknown>;
  body: Record<string, unknown>;
}

/**
 * The FIND_VALUE_REPLY `frame` carries, whatever the envelope around it (or none): null when
 * it carries none. Looser than the router and the codec on purpose: whoever waits for an
 * answer learns from it that one came, even one the node would refuse.
 */
export function readValueReply(frame: Uint8Array): ValueReplyIn | null {
  if (frame.length >= 8 && frame[1] === MessageType.FIND_VALUE_REPLY) {
    const body = readMap(frame, MessageType.FIND_VALUE_REPLY);
    return body !== null && isRid(body.rid) ? { rid: body.rid, body } : null;
  }
  const envelope = readMap(frame, MessageType.RPC_ROUTE);
  if (envelope === null || !(envelope.body instanceof Uint8Array)) return null;
  const body = readMap(envelope.body, MessageType.FIND_VALUE_REPLY);
  return body !== null && isRid(body.rid) ? { rid: body.rid, envelope, body } : null;
}

/**
 * The answer `read` holds when it is the envelope `peer` answered with itself, to `self`,
 * straight over its channel (what valueAnswerFrame writes, and the router would take as a
 * reply from `peer` that took one hop), checked as the codec checks it; null for anything else.
 */
export function straightValueReply(read: ValueReplyIn, peer: string, self: NodeId): StraightValueReply | null {
  const m = read.envelope;
  if (m === undefined || !isId(m.dest) || !isId(m.src) || m.exact !== true || !isRid(m.hid)) return null;
  if (m.hops !== 1 || !Number.isInteger(m.max) || (m.max as number) < 1 || (m.max as number) > MAX_HOPS) return null;
  const { path } = m;
  if (!Array.isArray(path) || path.length !== 1 || !isId(path[0]) || !sameId(path[0], m.src)) return null;
  if (m.via !== undefined || !sameId(m.dest, self) || toHex(m.src) !== peer) return null;
  const b = read.body;
  if (!isId(b.key) || (b.kind !== 'provider' && b.kind !== 'subscriber')) return null;
  if (!Array.isArray(b.records) || b.records.length > MAX_RECORDS_IN_REPLY) return null;
  if (!isIds(b.nodes, MAX_NODES_IN_REPLY)) return null;
  if (b.linked !== undefined && !isLinked(b.linked, b.nodes.length)) return null;
  return { from: m.src, rid: read.rid, key: b.key, kind: b.kind, records: b.records, nodes: b.nodes };
}

/** readValueReply, then straightValueReply. */
export function readStraightValueReply(frame: Uint8Array, peer: string, self: NodeId): StraightValueReply | null {
  const read = readValueReply(frame);
  return read === null ? null : straightValueReply(read, peer, self);
}

/** True when `frame`'s header says RPC_ROUTE (nothing decoded): the page looks no further into other frames. */
export const isRouteFrame = (frame: Uint8Array): boolean =>
  frame.length >= 8 && frame[0] === 1 && frame[1] === MessageType.RPC_ROUTE;

/**
 * The FIND_VALUE in `frame` when it is an envelope that `peer` started and handed over
 * itself, read as the codec and the router would read it; null for anything else.
 */
export function readStraightFindValue(frame: Uint8Array, peer: string): StraightFindValue | null {
  const m = readMap(frame, MessageType.RPC_ROUTE);
  if (m === null || !isId(m.dest) || !isId(m.src) || m.exact !== false || !isRid(m.hid)) return null;
  // One hop taken, by its source: what the router checks of any envelope (hops <= max <= MAX_HOPS) holds with it.
  if (m.hops !== 1 || !Number.isInteger(m.max) || (m.max as number) < 1 || (m.max as number) > MAX_HOPS) return null;
  const { path } = m;
  if (!Array.isArray(path) || path.length !== 1 || !isId(path[0]) || !sameId(path[0], m.src)) return null;
  if (m.via !== undefined || !(m.body instanceof Uint8Array) || toHex(m.src) !== peer) return null;
  const inner = readMap(m.body, MessageType.FIND_VALUE);
  if (inner === null || !isRid(inner.rid) || !isId(inner.key)) return null;
  const { kind } = inner;
  if (kind !== 'provider' && kind !== 'subscriber') return null;
  return { src: m.src, rid: inner.rid, key: inner.key, keyHex: toHex(inner.key), kind };
}

/**
 * The envelope `self` sends back for `request` with `answer`, as the node's router would
 * build it; null when it would be too large to send (the router drops it: route.tooLarge).
 */
export function valueAnswerFrame(self: NodeId, request: StraightFindValue, answer: ValueAnswer): Uint8Array | null {
  // Fields in the gateway's order (gateway.ts, valueAnswer), `linked` only when there is one.
  const body: Record<string, unknown> = {
    rid: request.rid,
    key: request.key,
    kind: request.kind,
    records: answer.records,
    nodes: answer.nodes,
  };
  if (answer.linked !== undefined) body.linked = answer.linked;
  // And the envelope's as router.ts forwards it: the retraced hop leaves no `via`.
  const frame = messageFrame(MessageType.RPC_ROUTE, {
    dest: request.src,
    src: self,
    hops: 1,
    max: MAX_HOPS,
    exact: true,
    path: [self],
    hid: 0,
    body: messageFrame(MessageType.FIND_VALUE_REPLY, body),
  });
  return frame.length > MAX_FRAME_BYTES ? null : frame;
}
