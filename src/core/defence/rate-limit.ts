import { frameTypeId, type Frame } from '../wire/codec.js';
import { ExpiringIds } from '../expiring-ids.js';
import { FloodRows, type RowHolder } from './flood-rows.js';
import { MessageType } from '../wire/messages.js';

/**
 * Flood protection per neighbour (issue #7). Every frame a neighbour sends is charged to a
 * token bucket of its message class; a frame without a token is dropped unread
 * ("limited"), and a neighbour that keeps being limited runs out of a second, slower
 * bucket of strikes and is disconnected and banned.
 *
 * Classes follow the frame header alone, so a frame is judged before it is decoded: a
 * flood of large frames costs a byte compare each, not a MessagePack parse. A routed
 * envelope is charged twice: to the route class when it arrives (an honest node forwards
 * other people's requests at that rate), and, if it ends here, to the class of what it
 * carries, against the neighbour that handed it over (`admitDelivered`). Otherwise a STORE
 * or SIGNAL wrapped in an envelope would cost an Ed25519 verification at the route rate
 * (2,000/s) instead of its own (100/s). Only that neighbour is known for sure: the
 * envelope's source is whatever it says.
 *
 * The same limits, scaled down (OUTBOUND_SHARE), shape what this node sends to each
 * neighbour. An honest node that forwards a flood it admitted from several neighbours
 * towards one next hop therefore never exceeds that hop's admission limits: the flood is
 * shed where it converges, and honest forwarders are never the ones disconnected. For an
 * envelope that may end at the neighbour it goes to, the sender charges the inner class as
 * well (`allowHandOver`), so that second charge never catches an honest forwarder either.
 */
export type FloodClass = 'route' | 'lookup' | 'store' | 'signal' | 'call' | 'publish' | 'reply' | 'control' | 'other';
export const FLOOD_CLASSES: readonly FloodClass[] = [
  'route',
  'lookup',
  'store',
  'signal',
  'call',
  'publish',
  'reply',
  'control',
  'other',
];

export interface BucketLimit {
  /** Sustained frames per second. */
  perSecond: number;
  /** Frames accepted at once after a quiet spell. */
  burst: number;
}

export interface FloodLimits {
  classes: Record<FloodClass, BucketLimit>;
  /** Limited frames a neighbour may accumulate (refilling at `perSecond`) before it is disconnected. */
  strikes: BucketLimit;
  /** How long a disconnected flooder is neither dialled nor accepted. */
  banMs: number;
}

/**
 * Per neighbour, per class. Chosen against the busiest per-neighbour rates honest
 * simulations produce: routed envelopes peak at 24-33 a second on one link while 200 to
 * 2,000 nodes join in batches of up to 500, and at 121 (a burst of 78 above 400/s) when
 * 1,000 nodes look up one key within the same second; direct lookups, stores and replies
 * at 1-2. The outbound share of each limit (below) stays above those peaks, and
 * src/sim/hostile.sim.test.ts checks that an honest mesh never hits them.
 */
export const DEFAULT_FLOOD_LIMITS: FloodLimits = {
  classes: {
    // Calls (routed ones too) are the app's own traffic: a tab calling one provider in a
    // loop reaches ~800 a second over a loopback channel (BENCHMARKS.md, Browser), so the
    // call path leaves room for that; a flood (thousands a second) still runs out of strikes.
    route: { perSecond: 2_000, burst: 4_000 },
    lookup: { perSecond: 100, burst: 200 },
    store: { perSecond: 100, burst: 200 },
    // Each signal costs the main thread an Ed25519 verification, as a STORE costs the worker
    // one. An honest connection attempt takes an offer or answer and a few candidates, and at
    // most 16 inbound negotiations run at once (inbound-gate.ts): well inside the burst.
    signal: { perSecond: 100, burst: 200 },
    call: { perSecond: 2_000, burst: 4_000 },
    // A published message costs its receiver an Ed25519 verification (it is signed by its
    // publisher), so publishes are bounded near stores and signals rather than with calls:
    // one neighbour cannot make a tab verify thousands a second. An app publishing one
    // message at a time and waiting for its acknowledgement stays well inside.
    publish: { perSecond: 200, burst: 400 },
    reply: { perSecond: 4_000, burst: 8_000 },
    // Hop acknowledgements answer routed envelopes one for one, plus pings.
    control: { perSecond: 4_000, burst: 8_000 },
    // Unknown types and runts: a few, then the junk counter closes the channel anyway.
    other: { perSecond: 20, burst: 40 },
  },
  strikes: { perSecond: 5, burst: 100 },
  banMs: 60 * 60_000,
};

/** Share of a neighbour's admission limits this node allows itself when sending to it. */
export const OUTBOUND_SHARE = 0.8;
/** Banned ids remembered at most; beyond that the ban closest to its end is forgotten. */
export const MAX_BANS = 1_024;

const classByType = new Map<number, FloodClass>([
  [MessageType.RPC_ROUTE, 'route'],
  [MessageType.FIND_NODE, 'lookup'],
  [MessageType.FIND_VALUE, 'lookup'],
  [MessageType.STORE, 'store'],
  [MessageType.REMOVE, 'store'],
  [MessageType.CALL, 'call'],
  [MessageType.PUBLISH, 'publish'],
  [MessageType.PUBSUB_ROUTE, 'call'],
  [MessageType.FIND_NODE_REPLY, 'reply'],
  [MessageType.FIND_VALUE_REPLY, 'reply'],
  [MessageType.STORE_REPLY, 'reply'],
  [MessageType.REPLY, 'reply'],
  [MessageType.PING, 'control'],
  [MessageType.PONG, 'control'],
  [MessageType.LEAVE, 'control'],
  [MessageType.ROUTE_ACK, 'control'],
  [MessageType.CONNECT, 'control'],
  [MessageType.SIGNAL, 'signal'],
]);

/** The class of a frame, from its header only. */
export const floodClassOf = (frame: Frame): FloodClass => classByType.get(frameTypeId(frame)) ?? 'other';

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly limit: BucketLimit,
    now: number,
  ) {
    this.tokens = limit.burst;
    this.updatedAt = now;
  }

  /** Take one token if there is one. */
  take(now: number): boolean {
    if (now > this.updatedAt) {
      this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.updatedAt) * this.limit.perSecond) / 1000);
      this.updatedAt = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export type Admission = { ok: true } | { ok: false; class: FloodClass; disconnect: boolean };

/**
 * Per neighbour, the token buckets of every class, inbound then outbound, then the strikes,
 * each as TOKENS then UPDATED_AT, in rows of two tables shared by all neighbours
 * (flood-rows.ts): the buckets every neighbour's traffic charges (an honest mesh charges
 * only routed envelopes, lookups, replies and control frames, both ways), and the others,
 * given a row only once one of them is charged. A bucket not used yet holds NaN and starts
 * full when first charged, as a TokenBucket made at that moment would (a full bucket stays
 * full until charged, so that is also what one made at the neighbour's first frame would
 * hold). Ten thousand simulated nodes keep some 30 neighbours each: two Maps of bucket
 * objects per neighbour were a good part of a node's memory and of the cost of every frame,
 * and a row of every bucket still 300 bytes a neighbour (BENCHMARKS.md, Simulator memory).
 */
const CLASS_COUNT = FLOOD_CLASSES.length;
/** Bucket index of the strikes, after the inbound and the outbound classes. */
const STRIKES = 2 * CLASS_COUNT;
const COMMON_CLASSES: ReadonlySet<FloodClass> = new Set<FloodClass>(['route', 'lookup', 'reply', 'control']);
/** Per bucket index: in the common table (0) or the other (1), and where in its row. */
const TIER = new Uint8Array(STRIKES + 1);
const OFFSET = new Uint8Array(STRIKES + 1);
let commonWidth = 0;
let rareWidth = 0;
for (let b = 0; b <= STRIKES; b++) {
  const cls = b < STRIKES ? FLOOD_CLASSES[b % CLASS_COUNT]! : undefined;
  if (cls !== undefined && COMMON_CLASSES.has(cls)) {
    OFFSET[b] = commonWidth;
    commonWidth += 2;
  } else {
    TIER[b] = 1;
    OFFSET[b] = rareWidth;
    rareWidth += 2;
  }
}

/** Class index by header type byte; unknown types are 'other'. */
const OTHER = FLOOD_CLASSES.indexOf('other');
const classIndexByType = new Uint8Array(256).fill(OTHER);
for (const [type, cls] of classByType) classIndexByType[type] = FLOOD_CLASSES.indexOf(cls);
const classIndexOf = (frame: Frame): number => {
  const type = frameTypeId(frame);
  return type < 0 ? OTHER : classIndexByType[type]!;
};

/** TokenBucket.take on the bucket at `at` of `buckets` (see PeerBuckets). */
function takeToken(buckets: Float64Array, at: number, limit: BucketLimit, now: number): boolean {
  let tokens = buckets[at]!;
  let updatedAt = buckets[at + 1]!;
  if (Number.isNaN(tokens)) {
    tokens = limit.burst;
    updatedAt = now;
  }
  if (now > updatedAt) {
    tokens = Math.min(limit.burst, tokens + ((now - updatedAt) * limit.perSecond) / 1000);
    updatedAt = now;
  }
  buckets[at + 1] = updatedAt;
  if (tokens < 1) {
    buckets[at] = tokens;
    return false;
  }
  buckets[at] = tokens - 1;
  return true;
}

const ADMITTED: Admission = { ok: true };

/** Each set of limits' table, made once: every node of a simulator shares the defaults' (0.8 KB a node otherwise). */
const limitTables = new WeakMap<FloodLimits, BucketLimit[]>();

function limitsByIndex(limits: FloodLimits): BucketLimit[] {
  let table = limitTables.get(limits);
  if (table === undefined) {
    const outbound = FLOOD_CLASSES.map((c) => {
      const l = limits.classes[c];
      return { perSecond: l.perSecond * OUTBOUND_SHARE, burst: Math.max(1, Math.floor(l.burst * OUTBOUND_SHARE)) };
    });
    table = [...FLOOD_CLASSES.map((c) => limits.classes[c]), ...outbound];
    limitTables.set(limits, table);
  }
  return table;
}

export class FloodGuard {
  /** Every neighbour that sent or was sent a frame has a row here (see CLASS_COUNT above). */
  private readonly common: FloodRows;
  /** Rows only once a rarely charged bucket is: kept in a Map of its own (flood-rows.ts). */
  private readonly rare = new FloodRows(rareWidth);
  /** Every ban lasts banMs, so the oldest ban, dropped first past MAX_BANS, is also the nearest to its end. */
  private readonly bans: ExpiringIds;
  /** Inbound limits by class index, then outbound ones (scaled by OUTBOUND_SHARE). */
  private readonly limitsByIndex: BucketLimit[];

  /** `neighbours`: the node's open channels, whose records keep their common row's place (flood-rows.ts). */
  constructor(
    readonly limits: FloodLimits = DEFAULT_FLOOD_LIMITS,
    neighbours?: ReadonlyMap<string, RowHolder>,
  ) {
    this.common = new FloodRows(commonWidth, neighbours);
    this.bans = new ExpiringIds(limits.banMs, MAX_BANS);
    this.limitsByIndex = limitsByIndex(limits);
  }

  /** Charge a frame from `peer`; a refusal says whether the peer has now used up its strikes. */
  admit(peer: string, frame: Frame, now: number): Admission {
    const cls = classIndexOf(frame);
    if (this.take(peer, cls, this.limitsByIndex[cls]!, now)) return ADMITTED;
    return { ok: false, class: FLOOD_CLASSES[cls]!, disconnect: !this.take(peer, STRIKES, this.limits.strikes, now) };
  }

  /**
   * Charge an envelope that ended here to the class of what it carries (`inner`, its body
   * frame), against the neighbour that handed it over: what a direct frame of that class
   * would cost, strikes and ban included.
   */
  admitDelivered(peer: string, inner: Frame, now: number): Admission {
    return this.admit(peer, inner, now);
  }

  /**
   * May this node hand `peer` an envelope carrying `inner` that may end there? Charged on
   * top of the envelope's own route-class send (allowSend), against the inner class.
   */
  allowHandOver(peer: string, inner: Frame, now: number): boolean {
    return this.allowSend(peer, inner, now);
  }

  /** May this node send `frame` to `peer` without exceeding what the peer admits? */
  allowSend(peer: string, frame: Frame, now: number): boolean {
    const i = CLASS_COUNT + classIndexOf(frame);
    return this.take(peer, i, this.limitsByIndex[i]!, now);
  }

  /**
   * The channel closed: its buckets go (a reopened channel starts with full ones, as a new
   * neighbour would). `neighbour`: its record, already gone from the open channels.
   */
  forget(peer: string, neighbour?: RowHolder): void {
    this.common.forget(peer, neighbour);
    this.rare.forget(peer);
  }

  ban(peer: string, now: number): void {
    this.forget(peer);
    this.bans.add(peer, now);
  }

  isBanned(peer: string, now: number): boolean {
    return this.bans.has(peer, now);
  }

  /** How much longer `peer`'s ban lasts: 0 when it is not banned. */
  bannedForMs(peer: string, now: number): number {
    return this.bans.remainingMs(peer, now);
  }

  /** Neighbours with buckets, and bans remembered (both bounded: see MAX_BANS). */
  get sizes(): { peers: number; bans: number } {
    return { peers: this.common.size, bans: this.bans.size };
  }

  /** TokenBucket.take on `peer`'s bucket `b` (see CLASS_COUNT above); every peer charged has a common row. */
  private take(peer: string, b: number, limit: BucketLimit, now: number): boolean {
    const common = this.common.row(peer);
    if (TIER[b] === 0) return takeToken(this.common.data, common + OFFSET[b]!, limit, now);
    const row = this.rare.row(peer);
    return takeToken(this.rare.data, row + OFFSET[b]!, limit, now);
  }
}
