import type { CounterName } from './counters.js';
import type { Clock, Random } from './environment.js';
import type { MeshError } from './errors.js';
import type { NodeId } from './id.js';
import type { Verifier } from './identity.js';
import type { LookupOptions, LookupProgress, LookupResult } from './lookup/lookup-result.js';
import type { ReplyInfo } from './routing/requests.js';
import type { RouteOptions } from './routing/router.js';
import type { Message, MessageBodies, MessageName, PeerKind, RouteMsg } from './wire/messages.js';

/**
 * The capabilities a DhtNode hands its parts, in the style of RouterHost (routing/router.ts):
 * each part (gateway, liveness, lookups, neighbour vetting, ...) declares the slice it uses
 * as a host interface of its own, built from these, and never sees the node itself. So a
 * test fake typed against a host needs no cast, and no part imports node/dht-node.ts: the
 * node imports its parts, never the other way round.
 */

/** What every part may use: who we are, the settings, the clock, randomness and the counters. */
export interface NodeBasics {
  readonly self: NodeId;
  readonly selfHex: string;
  readonly k: number;
  readonly alpha: number;
  readonly hopTimeoutMs: number;
  readonly clock: Clock;
  readonly random: Random;
  readonly verify: Verifier;
  /** What this node says it runs in, in its channel PINGs and PONGs (wire/messages.ts, PeerKind); none for a tab. */
  readonly kind?: PeerKind | undefined;
  count(name: CounterName, by?: number): void;
}

/**
 * An open channel, and what the node's parts keep about it while it is open: one record per
 * neighbour (node/neighbour-record.ts makes it) rather than a Map keyed by neighbour in each
 * part. A new channel to the same peer gets a new record, so its state starts afresh.
 */
export interface Neighbour {
  readonly id: NodeId;
  readonly idHex: string;
  openedAt: number;
  lastHeard: number;
  rttMs?: number;
  /** What it says it runs in (its PINGs and PONGs); absent for a browser tab or a peer that does not say. */
  kind?: PeerKind;
  // liveness.ts
  /** Unanswered hops or pings in a row. */
  failures: number;
  /** Frames from it we could not decode. */
  junk: number;
  /** Our liveness ping waiting for its PONG. */
  ping: { rid: number; sentAt: number } | undefined;
  // neighbour-vetting.ts
  /** When it may be tested next; Infinity while a test is in flight. */
  nextTestAt: number;
  /** When its last test started; undefined before its first. */
  testedAt: number | undefined;
  /** Tests since something routed through it last came back. */
  testsWithoutAnswer: number;
  // defence/neighbour-trust.ts (HopRecord)
  through: number;
  lostInARow: number;
  testsFailedInARow: number;
  // defence/flood-rows.ts
  /** Where its row of the flood guard's token buckets starts; -1 before its first frame. */
  floodRow: number;
}

/** The open channels by hex id: the neighbour set keeps them (neighbour-set.ts), parts read them. */
export type Neighbours = ReadonlyMap<string, Neighbour>;

/**
 * Where the answer to a request goes: straight back to the neighbour it came from, as an
 * envelope retracing the request's path, or into a local capture (handleQuery, and a
 * request a node sends itself).
 */
export type ReplyTo =
  | { kind: 'direct'; peer: string; id: NodeId }
  /** `from`: the neighbour that handed the envelope over (absent when this node started it). */
  | { kind: 'routed'; envelope: RouteMsg; from?: string }
  | { kind: 'local'; capture: (frame: Uint8Array) => void };

export type NodeEvent =
  | { type: 'neighbour:open'; peer: string }
  | { type: 'neighbour:close'; peer: string }
  /** A neighbour said it is leaving (LEAVE): dropped from the table, its channel closed. */
  | { type: 'neighbour:left'; peer: string }
  | { type: 'signal'; from: string; payload: Uint8Array }
  | { type: 'lookup'; progress: LookupProgress }
  | { type: 'records-changed'; key: string }
  /** This node answered a FIND_VALUE for (`key`, `kind`) with records. */
  | { type: 'value:served'; key: NodeId; kind: 'provider' | 'subscriber' };

/** The layers above the DHT (rpc.ts, pubsub.ts): they answer CALL, PUBLISH and PUBSUB_ROUTE. */
export type AppHandler = (message: Message, replyTo: ReplyTo) => void;

export type RequestName = 'FIND_NODE' | 'FIND_VALUE' | 'STORE' | 'REMOVE' | 'PING' | 'CALL' | 'PUBLISH';
export type ReplyName = 'FIND_NODE_REPLY' | 'FIND_VALUE_REPLY' | 'STORE_REPLY' | 'PONG' | 'REPLY';

/**
 * Every way of sending a request and settling its reply (node/messenger.ts). Requests are
 * matched to replies by a random request id (`rid`) alone.
 */
export interface Messaging {
  /** A fresh request id that nobody waits on. */
  newId(): number;
  /** Wait for the reply to `rid` (callback form, for hot paths); `peer`: the neighbour it went to directly. */
  expect(
    rid: number,
    timeoutMs: number,
    settle: (reply: Message, info: ReplyInfo) => void,
    fail: (e: MeshError) => void,
    peer?: string,
  ): void;
  /** Promise form of `expect`. */
  wait(rid: number, timeoutMs: number, peer?: string): Promise<{ reply: Message; info: ReplyInfo }>;
  /** Stop waiting for `rid` without settling it. */
  forget(rid: number): void;
  /** Over the channel to a neighbour; false when it is not open (or the frame was shed). */
  sendDirect<N extends MessageName>(peer: string, type: N, body: MessageBodies[N]): boolean;
  /** A frame already encoded, over the channel to a neighbour (the transport may know it is already there: LocalHandlers.answerDirect). */
  sendFrame(peer: string, frame: Uint8Array): boolean;
  /** Route an envelope to `dest`; returns the neighbour it left through. Its loss counts against nobody. */
  originate<N extends MessageName>(
    dest: NodeId,
    exact: boolean,
    type: N,
    body: MessageBodies[N],
    opts?: RouteOptions,
  ): string | undefined;
  /** Route a request to `dest`; whether it comes back counts for the neighbour it left through. */
  routeRequest<N extends MessageName>(
    dest: NodeId,
    type: N,
    body: MessageBodies[N] & { rid: number },
    opts?: RouteOptions,
  ): void;
  /** macula's query_peer: a request straight to a neighbour or routed to any node, resolved by its reply. */
  queryPeer<N extends RequestName>(
    peer: string,
    type: N,
    body: MessageBodies[N],
    timeoutMs?: number,
  ): Promise<{ reply: Message; info: ReplyInfo }>;
  /** macula's send_to_peer: fire and forget, straight or routed; false when nothing is open. */
  sendToPeer<N extends MessageName>(peer: string, type: N, body: MessageBodies[N]): boolean;
  /** Answer a request the way it came. */
  reply<N extends ReplyName>(replyTo: ReplyTo, type: N, body: MessageBodies[N]): void;
  /** A reply arrived: hand it to whoever waits for its id. */
  settle(message: Message, replyTo: ReplyTo): void;
}

/** Taking in what we hear of other nodes (node/contacts.ts). */
export interface Contacts {
  /** `heard`: it answered us or opened a channel; otherwise someone named it. */
  learn(id: NodeId, heard: boolean, rttMs?: number): void;
  /** It named an id that does not exist (defence/liars.ts). */
  convict(peer: string): void;
}

/** What parts may ask of the neighbour set (node/neighbour-set.ts). */
export interface NeighbourActions {
  /** It stopped answering: close its channel and forget it as a contact. */
  declareDead(peer: string): void;
  /** Close our channel to it (it stays a contact unless the caller says otherwise). */
  hangUp(peer: string): void;
  /** Do not dial it before `until`. */
  coolDown(peer: string, until: number): void;
  /** A contact we had lost answered: it may be dialled again at once. */
  revived(peer: string): void;
  /** Ask the relay for introductions at its next check. */
  wantIntroductions(): void;
}

/** Running lookups (lookup/lookup.ts). */
export interface Lookups {
  findNode(target: NodeId, opts?: LookupOptions): Promise<LookupResult>;
  findValue(
    key: NodeId,
    kind: 'provider' | 'subscriber',
    onProgress?: (p: LookupProgress) => void,
  ): Promise<LookupResult>;
}
