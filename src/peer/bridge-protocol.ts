import { parseSeekBrief, type SeekBrief } from './seek-brief.js';

/**
 * The bytes bridge between the main thread (which owns the WebRTC channels) and the
 * worker (which owns the DHT). It runs over a dedicated MessagePort, apart from the
 * Comlink API calls, so frames never queue behind a slow API call, and it carries
 * everything that belongs to the channels: their life events, their frames, and the
 * WebRTC signals that travel through the overlay, in both directions. Frames the worker
 * sends are transferred, not copied.
 *
 * Halves: main/frame-pump.ts and worker/frame-port.ts.
 */

/** A provider a call tried before (core/registry/rpc.ts, FailedAttempt: the same shape). */
export interface FailedAttempt {
  nodeId: string;
  code: string;
  message: string;
}

/** FIND_VALUEs a page may answer one neighbour beyond those its node has accounted for (main/page-finds.ts). */
export const PAGE_FIND_CREDIT = 32;
/** The node gives that credit back this many at a time (worker/page-finds.ts). */
export const PAGE_FIND_CREDIT_BATCH = 16;

/**
 * The node's answer to a FIND_VALUE for a key, less the request id (core/registry/value-answer.ts,
 * ValueAnswer: the same shape): its records, the closest nodes it knows, which of those are linked.
 */
export interface ValueAnswer {
  records: unknown[];
  nodes: Uint8Array[];
  linked?: number[];
}

/**
 * With a CALL frame the worker sends: the page settles the app's call `token` itself from
 * the REPLY to `rid` that comes back on the same channel before `until` (wall clock, ms);
 * `failed`: the providers tried before this one (main/page-replies.ts, worker/page-answers.ts).
 * `seek`: the frame is one of a forced discovery's first FIND_VALUEs, whose first answer the
 * page may settle the discovery from (main/page-discoveries.ts).
 */
export interface AwaitedReply {
  token: number;
  rid: number;
  until: number;
  failed: FailedAttempt[];
  seek?: SeekBrief;
}

/** A call the page sent the first CALL of itself (main/page-calls.ts): what the app asked for. */
export type CalledShape = 'call' | 'detailed' | 'to';

/** The call options the page passes on with such a call (checked by the worker as ever). */
export interface CalledOptions {
  timeoutMs?: number;
  maxAttempts?: number;
  policy?: string;
}

/**
 * A publish whose PUBLISHes the page signed and sent itself (main/page-publishes.ts): the
 * publication's fields (the public key is the worker's own), each PUBLISH on a channel with
 * its request id and header, and what the page left to the worker.
 */
export interface PublishedByPage {
  token: number;
  mid: Uint8Array;
  topic: string;
  payload: Uint8Array;
  at: number;
  signature: Uint8Array;
  sent: Array<{ peer: string; rid: number; head: Uint8Array }>;
  /** Subscribers the page did not send to (this tab itself when the page did not deliver here). */
  rest: string[];
  /** The page delivered it to this tab's own subscriptions. */
  here: boolean;
}

export type { SeekBrief } from './seek-brief.js';

/** Main thread → worker. */
export type ToWorker =
  | { t: 'open'; peer: string }
  | { t: 'close'; peer: string }
  /** A dial ended without a channel because one side held its cap (connection-manager.ts): the peer is alive. */
  | { t: 'busy'; peer: string }
  /**
   * `settled`: the page settled its call of that token from this frame (a REPLY; worker/page-answers.ts).
   * `taken`: the frame is a PUBLISH the page verified, delivered and acknowledged itself, with this REPLY's
   * header (main/page-publications.ts); an empty one when the channel had closed before the acknowledgement.
   * `admitted`: the frame is a CALL the page admitted under its grant for `peer` and answered itself, with this
   * REPLY's header (main/page-admissions.ts); an empty one when the channel had closed before the REPLY.
   * `found`: the frame is a FIND_VALUE the page answered itself from the worker's copy, with the answer it sent
   * (main/page-finds.ts): the worker accounts for it when its own answer is the same, byte for byte.
   */
  | {
      t: 'frame';
      peer: string;
      frame: Uint8Array;
      settled?: number;
      taken?: Uint8Array;
      admitted?: Uint8Array;
      found?: Uint8Array;
    }
  /** The page holds nothing under grant `grant` for `peer` any more, after the worker revoked it: its slots are free. */
  | { t: 'returned'; peer: string; grant: number }
  /** A sealed signal (signal-envelope.ts) for the node to route to `to`; answered by `signal-routed` with the same id. */
  | { t: 'signal-out'; id: number; to: string; payload: Uint8Array }
  /** Connections the page has created so far (inbound ones too): what the node counts against its budget. */
  | { t: 'budget'; created: number }
  /** The page's heartbeat (main/worker-watch.ts): answered by `pong` with the same number, at once. */
  | { t: 'ping'; n: number }
  /** Call `id` (an `invoke`) is answered: its REPLY went out on the channel, whose header is `head`; none when it had closed. */
  | { t: 'invoked'; id: number; head?: Uint8Array }
  /**
   * The page put `frame` (a CALL, with one of the request ids the worker reserved for it) on
   * `peer`'s channel at `at` (wall clock) for the app's call `token`: the worker runs the call
   * from there (worker/page-calls.ts) and answers `called(token)` over Comlink.
   */
  | {
      t: 'called';
      token: number;
      shape: CalledShape;
      peer: string;
      frame: Uint8Array;
      at: number;
      opts: CalledOptions;
    }
  /**
   * The page put the PUBLISHes of the app's publish `token` on its neighbours' channels itself
   * (sent at `at`, wall clock): the worker accounts for them and runs the rest of the publish
   * (worker/page-publishes.ts), answering `called(token)` over Comlink.
   */
  | ({ t: 'published' } & PublishedByPage);

/** Worker → main thread. */
export type FromWorker =
  /** `awaits`: the frame is a CALL whose REPLY the page is to settle the app's call with. */
  | { t: 'send'; peer: string; frame: Uint8Array; awaits?: AwaitedReply }
  | { t: 'connect'; peer: string }
  | { t: 'disconnect'; peer: string }
  /** A signal that arrived through the overlay (still to be verified by the main thread). */
  | { t: 'signal-in'; from: string; payload: Uint8Array }
  /** Whether the node routed `signal-out` number `id` (false: it has no channel to route it through). */
  | { t: 'signal-routed'; id: number; routed: boolean }
  /** The node refuses `peer` (flood-banned, convicted, distrusted) for `forMs` more: no connection with it, either way. */
  | { t: 'refuse'; peer: string; forMs: number }
  | { t: 'pong'; n: number }
  /**
   * Every PUBLISH of publish `token` went straight to its subscriber, each sent with its
   * `awaits`: `delivered` were taken here already, `sent` acknowledgements are to come.
   */
  | { t: 'publishing'; token: number; delivered: number; sent: number }
  /**
   * Run the app's handler of `service` for a CALL (request id `rid`) that neighbour `peer`
   * sent straight over its channel, and put the REPLY on that channel; answered by `invoked`.
   */
  | { t: 'invoke'; id: number; service: string; args: unknown; caller: string; peer: string; rid: number }
  /** The providers a call of `service` draws from now, served the same until `until` (wall clock): the page's copy. */
  | { t: 'providers'; service: string; ids: string[]; until: number }
  /** `peer` is no provider of `service` any more, or, without one, of any service. */
  | { t: 'forget'; peer: string; service?: string }
  /** The node holds `peer` as an open neighbour now (or no longer): a CALL sent it straight is answered straight. */
  | { t: 'neighbour'; peer: string; open: boolean }
  /** Request ids the worker reserved for CALLs the page sends (nothing of the worker's will use them). */
  | { t: 'rids'; rids: number[] }
  /**
   * The page may admit CALLs straight from `peer` itself (worker/page-admissions.ts): up to `slots` running at
   * once, reserved for it in the worker's bounds, and `credit` more of them. A new `grant` replaces any before it;
   * the same one again adds credit.
   */
  | { t: 'allow'; peer: string; grant: number; slots: number; credit: number }
  /** The page admits no more CALLs under `grant`; it says `returned` once those it runs have ended. */
  | { t: 'revoke'; peer: string; grant: number }
  /** The services this tab provides now, as the worker holds them: the page admits CALLs of these only. */
  | { t: 'serving'; services: string[] }
  /**
   * What the node answers a FIND_VALUE for (`key` in hex, `kind`) with until `until` (wall clock), or, without
   * `answer`, that the page is to answer it no more (worker/page-finds.ts).
   */
  | { t: 'holds'; key: string; kind: 'provider' | 'subscriber'; answer?: ValueAnswer; until?: number }
  /** `credit` more FIND_VALUEs from `peer` the page may answer itself: the worker accounted for as many. */
  | { t: 'finds'; peer: string; credit: number }
  /** The subscribers a publish to `topic` sends to now, served the same until `until` (wall clock): the page's copy. */
  | { t: 'subscribers'; topic: string; ids: string[]; until: number };

const isString = (v: unknown): v is string => typeof v === 'string' && v.length <= 128;
const isId = (v: unknown): v is number => Number.isSafeInteger(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isDuration = (v: unknown): v is number => typeof v === 'number' && v > 0 && Number.isFinite(v);
/** Service ids are 1 to 256 characters (README, Limits). */
const isService = (v: unknown): v is string => typeof v === 'string' && v.length <= 256;

/** Messages on the port come from our own code, but are still checked: a bug must not crash the loop. */
export function parseToWorker(data: unknown): ToWorker | null {
  if (typeof data !== 'object' || data === null) return null;
  const m = data as Record<string, unknown>;
  switch (m.t) {
    case 'open':
    case 'close':
    case 'busy':
      return isString(m.peer) ? { t: m.t, peer: m.peer } : null;
    case 'frame':
      if (!isString(m.peer) || !(m.frame instanceof Uint8Array)) return null;
      if (m.found !== undefined)
        return m.found instanceof Uint8Array &&
          m.settled === undefined &&
          m.taken === undefined &&
          m.admitted === undefined
          ? { t: 'frame', peer: m.peer, frame: m.frame, found: m.found }
          : null;
      if (m.admitted !== undefined)
        return m.admitted instanceof Uint8Array && m.settled === undefined && m.taken === undefined
          ? { t: 'frame', peer: m.peer, frame: m.frame, admitted: m.admitted }
          : null;
      if (m.taken !== undefined)
        return m.taken instanceof Uint8Array && m.settled === undefined
          ? { t: 'frame', peer: m.peer, frame: m.frame, taken: m.taken }
          : null;
      if (m.settled === undefined) return { t: 'frame', peer: m.peer, frame: m.frame };
      return isId(m.settled) ? { t: 'frame', peer: m.peer, frame: m.frame, settled: m.settled } : null;
    case 'signal-out':
      return isId(m.id) && isString(m.to) && m.payload instanceof Uint8Array
        ? { t: 'signal-out', id: m.id, to: m.to, payload: m.payload }
        : null;
    case 'budget':
      return isCount(m.created) ? { t: 'budget', created: m.created } : null;
    case 'ping':
      return isId(m.n) ? { t: 'ping', n: m.n } : null;
    case 'returned':
      return isString(m.peer) && isId(m.grant) ? { t: 'returned', peer: m.peer, grant: m.grant } : null;
    case 'invoked':
      if (!isId(m.id)) return null;
      if (m.head === undefined) return { t: 'invoked', id: m.id };
      return m.head instanceof Uint8Array ? { t: 'invoked', id: m.id, head: m.head } : null;
    case 'called': {
      if (!isId(m.token) || !isString(m.peer) || !(m.frame instanceof Uint8Array)) return null;
      if (m.shape !== 'call' && m.shape !== 'detailed' && m.shape !== 'to') return null;
      if (typeof m.at !== 'number' || !Number.isFinite(m.at) || typeof m.opts !== 'object' || m.opts === null)
        return null;
      const o = m.opts as Record<string, unknown>;
      const opts: CalledOptions = {};
      if (o.timeoutMs !== undefined) opts.timeoutMs = o.timeoutMs as number;
      if (o.maxAttempts !== undefined) opts.maxAttempts = o.maxAttempts as number;
      if (o.policy !== undefined) opts.policy = o.policy as string;
      return { t: 'called', token: m.token, shape: m.shape, peer: m.peer, frame: m.frame, at: m.at, opts };
    }
    case 'published':
      return parsePublished(m);
    default:
      return null;
  }
}

/** A publish's subscribers at most (a larger one goes the worker's way: main/page-publishes.ts). */
export const MAX_PAGE_PUBLISH = 64;

function parsePublished(m: Record<string, unknown>): ToWorker | null {
  const bytes = (v: unknown, n?: number): v is Uint8Array =>
    v instanceof Uint8Array && (n === undefined || v.length === n);
  if (!isId(m.token) || !bytes(m.mid, 16) || !isService(m.topic) || !bytes(m.payload) || !bytes(m.signature, 64))
    return null;
  if (typeof m.at !== 'number' || !Number.isFinite(m.at) || typeof m.here !== 'boolean') return null;
  if (!Array.isArray(m.sent) || m.sent.length > MAX_PAGE_PUBLISH) return null;
  if (!Array.isArray(m.rest) || m.rest.length > MAX_PAGE_PUBLISH || !m.rest.every(isString)) return null;
  const sent: PublishedByPage['sent'] = [];
  for (const s of m.sent as unknown[]) {
    const x = (typeof s === 'object' && s !== null ? s : {}) as Record<string, unknown>;
    if (!isString(x.peer) || !isCount(x.rid) || !bytes(x.head, 8)) return null;
    sent.push({ peer: x.peer, rid: x.rid, head: x.head });
  }
  return {
    t: 'published',
    token: m.token,
    mid: m.mid,
    topic: m.topic,
    payload: m.payload,
    at: m.at,
    signature: m.signature,
    sent,
    rest: m.rest as string[],
    here: m.here,
  };
}

export function parseFromWorker(data: unknown): FromWorker | null {
  if (typeof data !== 'object' || data === null) return null;
  const m = data as Record<string, unknown>;
  switch (m.t) {
    case 'send': {
      if (!isString(m.peer) || !(m.frame instanceof Uint8Array)) return null;
      if (m.awaits === undefined) return { t: 'send', peer: m.peer, frame: m.frame };
      const awaits = parseAwaited(m.awaits);
      return awaits === null ? null : { t: 'send', peer: m.peer, frame: m.frame, awaits };
    }
    case 'connect':
    case 'disconnect':
      return isString(m.peer) ? { t: m.t, peer: m.peer } : null;
    case 'signal-in':
      return isString(m.from) && m.payload instanceof Uint8Array
        ? { t: 'signal-in', from: m.from, payload: m.payload }
        : null;
    case 'signal-routed':
      return isId(m.id) && typeof m.routed === 'boolean' ? { t: 'signal-routed', id: m.id, routed: m.routed } : null;
    case 'refuse':
      return isString(m.peer) && isDuration(m.forMs) ? { t: 'refuse', peer: m.peer, forMs: m.forMs } : null;
    case 'pong':
      return isId(m.n) ? { t: 'pong', n: m.n } : null;
    case 'publishing':
      return isId(m.token) && isCount(m.delivered) && isCount(m.sent)
        ? { t: 'publishing', token: m.token, delivered: m.delivered, sent: m.sent }
        : null;
    case 'invoke':
      return isId(m.id) && isService(m.service) && isString(m.caller) && isString(m.peer) && isId(m.rid)
        ? { t: 'invoke', id: m.id, service: m.service, args: m.args, caller: m.caller, peer: m.peer, rid: m.rid }
        : null;
    case 'providers':
      return isService(m.service) && isStrings(m.ids) && typeof m.until === 'number'
        ? { t: 'providers', service: m.service, ids: m.ids, until: m.until }
        : null;
    case 'forget':
      if (!isString(m.peer)) return null;
      if (m.service === undefined) return { t: 'forget', peer: m.peer };
      return isService(m.service) ? { t: 'forget', peer: m.peer, service: m.service } : null;
    case 'neighbour':
      return isString(m.peer) && typeof m.open === 'boolean' ? { t: 'neighbour', peer: m.peer, open: m.open } : null;
    case 'rids':
      return Array.isArray(m.rids) && m.rids.length <= MAX_RIDS && m.rids.every(isCount)
        ? { t: 'rids', rids: m.rids as number[] }
        : null;
    case 'allow':
      return isString(m.peer) && isId(m.grant) && isCount(m.slots) && isCount(m.credit)
        ? { t: 'allow', peer: m.peer, grant: m.grant, slots: m.slots, credit: m.credit }
        : null;
    case 'revoke':
      return isString(m.peer) && isId(m.grant) ? { t: 'revoke', peer: m.peer, grant: m.grant } : null;
    case 'subscribers':
      return isService(m.topic) && isStrings(m.ids) && typeof m.until === 'number'
        ? { t: 'subscribers', topic: m.topic, ids: m.ids, until: m.until }
        : null;
    case 'serving':
      return Array.isArray(m.services) && m.services.length <= MAX_PROVIDERS && m.services.every(isService)
        ? { t: 'serving', services: m.services as string[] }
        : null;
    case 'holds': {
      if (!isString(m.key) || (m.kind !== 'provider' && m.kind !== 'subscriber')) return null;
      if (m.answer === undefined) return { t: 'holds', key: m.key, kind: m.kind };
      const answer = parseAnswer(m.answer);
      return answer !== null && typeof m.until === 'number' && Number.isFinite(m.until)
        ? { t: 'holds', key: m.key, kind: m.kind, answer, until: m.until }
        : null;
    }
    case 'finds':
      return isString(m.peer) && isCount(m.credit) ? { t: 'finds', peer: m.peer, credit: m.credit } : null;
    default:
      return null;
  }
}

/** Request ids the worker hands the page at once (worker/page-calls.ts). */
const MAX_RIDS = 64;
/** The providers of one service in a copy: well above the 64 a node holds per key (a larger copy is not sent). */
const MAX_PROVIDERS = 1_024;
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.length <= MAX_PROVIDERS && v.every(isString);

/** The codec's bounds on a FIND_VALUE_REPLY (wire/codec.ts). */
const MAX_RECORDS_IN_ANSWER = 256;
const MAX_NODES_IN_ANSWER = 64;

function parseAnswer(v: unknown): ValueAnswer | null {
  if (typeof v !== 'object' || v === null) return null;
  const a = v as Record<string, unknown>;
  if (!Array.isArray(a.records) || a.records.length === 0 || a.records.length > MAX_RECORDS_IN_ANSWER) return null;
  if (!Array.isArray(a.nodes) || a.nodes.length > MAX_NODES_IN_ANSWER) return null;
  if (!a.nodes.every((n) => n instanceof Uint8Array && n.length === 32)) return null;
  const answer: ValueAnswer = { records: a.records as unknown[], nodes: a.nodes as Uint8Array[] };
  if (a.linked === undefined) return answer;
  if (!Array.isArray(a.linked) || !a.linked.every((i) => isCount(i) && i < (a.nodes as unknown[]).length)) return null;
  answer.linked = a.linked as number[];
  return answer;
}

/** A call tries at most 20 providers (rpc.ts). */
const MAX_FAILED = 20;

function parseAwaited(v: unknown): AwaitedReply | null {
  if (typeof v !== 'object' || v === null) return null;
  const a = v as Record<string, unknown>;
  if (!isId(a.token) || !isCount(a.rid) || typeof a.until !== 'number' || !Number.isFinite(a.until)) return null;
  if (!Array.isArray(a.failed) || a.failed.length > MAX_FAILED) return null;
  const failed: FailedAttempt[] = [];
  for (const f of a.failed as unknown[]) {
    const x = (typeof f === 'object' && f !== null ? f : {}) as Record<string, unknown>;
    if (!isString(x.nodeId) || typeof x.code !== 'string' || typeof x.message !== 'string') return null;
    failed.push({ nodeId: x.nodeId, code: x.code, message: x.message });
  }
  if (a.seek === undefined) return { token: a.token, rid: a.rid, until: a.until, failed };
  const seek = parseSeekBrief(a.seek);
  return seek === null ? null : { token: a.token, rid: a.rid, until: a.until, failed, seek };
}
