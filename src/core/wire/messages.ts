import type { Frame } from '../held-frame.js';

/**
 * The whole wire vocabulary: every message type, its id and its fields. Type ids follow
 * macula where it has them; ids marked "new" are this protocol's own (docs/ARCHITECTURE.md, Wire).
 *
 * | id   | type             | fields                                                    |
 * |------|------------------|-----------------------------------------------------------|
 * | 0x01 | CONNECT          | reserved (macula's hello); never sent: a channel is opened  |
 *                                with signed signaling, so it already knows who is there     |
 * | 0x03 | PING             | rid, kind? (what the sender runs in: PeerKind)            |
 * | 0x04 | PONG             | rid, kind? (likewise)                                     |
 * | 0x05 | LEAVE      (new) | — (straight to each neighbour as a peer closes: it is gone) |
 * | 0x10 | PUBLISH          | rid, mid, topic, payload (MessagePack bytes), publicKey,  |
 *                                at, signature: signed by the publisher (acked by REPLY)     |
 * | 0x13 | PUBSUB_ROUTE     | (PUBLISH carried inside RPC_ROUTE)                        |
 * | 0x20 | CALL             | rid, service, args                                        |
 * | 0x21 | REPLY            | rid, ok, result | code + message                          |
 * | 0x23 | RPC_ROUTE        | routed envelope: dest, src, hops, max, exact, path, hid, body |
 * | 0x24 | ROUTE_ACK  (new) | hid — the next hop took the envelope                     |
 * | 0x40 | FIND_NODE        | rid, target                                               |
 * | 0x41 | FIND_NODE_REPLY  | rid, target, nodes, linked?                               |
 * | 0x42 | STORE            | rid, record, remainingMs?                                 |
 * | 0x43 | FIND_VALUE       | rid, key, kind                                            |
 * | 0x44 | FIND_VALUE_REPLY | rid, key, kind, records, nodes, linked?                   |
 * | 0x45 | STORE_REPLY (new)| rid, key, ok, code?                                       |
 * | 0x46 | REMOVE     (new) | rid, removal (signed by the record's owner)               |
 * | 0x50 | SIGNAL     (new) | payload — WebRTC signaling routed through the overlay     |
 *
 * Request ids (`rid`) are random per request and echoed by the reply; a reply is matched
 * to its request by id alone (macula matched the first pending query; docs/ARCHITECTURE.md, Semantics).
 */

export const MessageType = {
  CONNECT: 0x01,
  PING: 0x03,
  PONG: 0x04,
  LEAVE: 0x05,
  PUBLISH: 0x10,
  PUBSUB_ROUTE: 0x13,
  CALL: 0x20,
  REPLY: 0x21,
  RPC_ROUTE: 0x23,
  ROUTE_ACK: 0x24,
  FIND_NODE: 0x40,
  FIND_NODE_REPLY: 0x41,
  STORE: 0x42,
  FIND_VALUE: 0x43,
  FIND_VALUE_REPLY: 0x44,
  STORE_REPLY: 0x45,
  REMOVE: 0x46,
  SIGNAL: 0x50,
} as const;

export type MessageType = (typeof MessageType)[keyof typeof MessageType];
export type MessageName = keyof typeof MessageType;

export const messageNames: ReadonlyMap<number, MessageName> = new Map(
  Object.entries(MessageType).map(([name, id]) => [id, name as MessageName]),
);

export type RecordKindWire = 'provider' | 'subscriber';

export interface ConnectMsg {
  publicKey: Uint8Array;
  realm: string;
}
export interface PingMsg {
  rid: number;
  kind?: PeerKind;
}
/**
 * What a peer says it runs in, in the PINGs and PONGs it sends over a channel: 'node' for a Node peer
 * (src/node, a relay's own peer among them). A browser tab, and a peer from before this field,
 * send none. It is the peer's own word, for display (the demo marks it), never for trust; a
 * kind this build does not know is dropped as the PONG is decoded.
 */
export const PEER_KINDS = ['node'] as const;
export type PeerKind = (typeof PEER_KINDS)[number];

export interface PongMsg {
  rid: number;
  kind?: PeerKind;
}
/** No fields: who leaves is the neighbour whose channel it came over (only direct ones count). */
export type LeaveMsg = Record<string, never>;
/**
 * A published message, signed by its publisher over mid, topic, SHA-256 of `payload`,
 * `publicKey` and `at` (registry/publication.ts); the publisher's node id is SHA-256 of
 * `publicKey`. Only `rid` is per delivery: the rest is the same for every subscriber.
 */
export interface PublishMsg {
  rid: number;
  mid: Uint8Array;
  topic: string;
  /** The message, MessagePack-encoded by the publisher: verified as sent, then decoded. */
  payload: Uint8Array;
  publicKey: Uint8Array;
  /** When it was published (ms since the epoch, the publisher's clock). */
  at: number;
  signature: Uint8Array;
}
export interface CallMsg {
  rid: number;
  service: string;
  args: unknown;
}
export interface ReplyMsg {
  rid: number;
  ok: boolean;
  result?: unknown;
  code?: string;
  message?: string;
}
export interface RouteMsg {
  /** Target node id (exact) or key (deliver to the closest node). */
  dest: Uint8Array;
  src: Uint8Array;
  hops: number;
  max: number;
  exact: boolean;
  /** Nodes the envelope has visited, source first: loop avoidance and the way back. */
  path: Uint8Array[];
  /** Hop id, acknowledged by the next hop with ROUTE_ACK. */
  hid: number;
  /** When set, the envelope follows these ids first (a reply retracing its request's path). */
  via?: Uint8Array[];
  /** An inner frame (held when the envelope is: core/held-frame.ts). */
  body: Frame;
}
export interface RouteAckMsg {
  hid: number;
}
export interface FindNodeMsg {
  rid: number;
  target: Uint8Array;
}
/**
 * `linked`: indices into `nodes` of those the answering node holds an open channel to. A
 * query for one of them, routed to the answering node, is handed over in one more hop.
 */
export interface FindNodeReplyMsg {
  rid: number;
  target: Uint8Array;
  nodes: Uint8Array[];
  linked?: number[];
}
export interface StoreMsg {
  rid: number;
  record: unknown;
  remainingMs?: number;
}
export interface FindValueMsg {
  rid: number;
  key: Uint8Array;
  kind: RecordKindWire;
}
export interface FindValueReplyMsg {
  rid: number;
  key: Uint8Array;
  kind: RecordKindWire;
  records: unknown[];
  nodes: Uint8Array[];
  linked?: number[];
}
export interface StoreReplyMsg {
  rid: number;
  key: Uint8Array;
  ok: boolean;
  code?: string;
}
export interface RemoveMsg {
  rid: number;
  removal: unknown;
}
export interface SignalMsg {
  payload: Uint8Array;
}

export interface MessageBodies {
  CONNECT: ConnectMsg;
  PING: PingMsg;
  PONG: PongMsg;
  LEAVE: LeaveMsg;
  PUBLISH: PublishMsg;
  PUBSUB_ROUTE: PublishMsg;
  CALL: CallMsg;
  REPLY: ReplyMsg;
  RPC_ROUTE: RouteMsg;
  ROUTE_ACK: RouteAckMsg;
  FIND_NODE: FindNodeMsg;
  FIND_NODE_REPLY: FindNodeReplyMsg;
  STORE: StoreMsg;
  FIND_VALUE: FindValueMsg;
  FIND_VALUE_REPLY: FindValueReplyMsg;
  STORE_REPLY: StoreReplyMsg;
  REMOVE: RemoveMsg;
  SIGNAL: SignalMsg;
}

/** A decoded message: its name and its validated body. */
export type Message = { [N in MessageName]: { type: N; body: MessageBodies[N] } }[MessageName];
