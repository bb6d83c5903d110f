import { ErrorCode } from './errors.js';
import type { Outcome } from './defence/neighbour-trust.js';
import { FLOOD_CLASSES, type FloodClass } from './defence/rate-limit.js';
import type { DecodeError } from './wire/codec.js';
import { MessageType, type MessageName } from './wire/messages.js';

/**
 * Every counter a node (and the worker around it) increments, as one typed list: `count()`
 * takes a `CounterName` only, so a misspelt or new name fails the typecheck instead of
 * appearing in stats() as a stranger, and stats() reports every one of them from the start
 * (zero until first counted), so an app can read a counter without guessing whether it
 * exists yet. What each means is in the README (stats() table); a unit test keeps the two
 * in step.
 *
 * Frames add up: every frame this node's transport accepted is in `messages.out` (and one
 * `messages.out.<TYPE>`), every frame that reached it is in `messages.in` (decoded, with
 * one `messages.in.<TYPE>`) or in `frames.dropped` (unread: from a stranger, over its flood
 * budget, undecodable, or after close). Over a whole network, out = in + dropped + what
 * the wire lost or still carries.
 */

/** The names with no family: each is one counter. */
export const FIXED_COUNTERS = [
  'messages.in',
  'messages.out',
  'messages.routedIn',
  'messages.unhandled',
  'replies.unmatched',
  'frames.dropped',
  'frames.fromStranger',
  'frames.malformed',
  'frames.afterClose',
  'bridge.malformed',
  'signatures.preverified',
  'signatures.preverifyRefused',
  'flood.limited',
  'flood.disconnected',
  'flood.shed',
  'flood.fromBanned',
  'flood.refusedBanned',
  'channels.opened',
  'channels.closed',
  'rejoins',
  'connections.created',
  'connections.created.required',
  'connections.created.optional',
  'connections.failed',
  'connections.busy',
  'connections.dropped',
  'connections.budgetExhausted',
  'neighbours.dead',
  'neighbours.droppedLiar',
  'neighbours.droppedUnreliable',
  'neighbours.junkDisconnect',
  'neighbours.refills',
  'neighbours.refusedUnreliable',
  'neighbours.left',
  'introductions.island',
  'introductions.surrounded',
  'contacts.convicted',
  'contacts.lost',
  'contacts.lostUnanswered',
  'contacts.probed',
  'contacts.probeUnanswered',
  'contacts.revived',
  'contacts.checked',
  'contacts.checkUnanswered',
  'contacts.lostUnchecked',
  'contacts.refusedLiar',
  'liveness.pingTimeout',
  'liveness.bucketChallenge',
  'liveness.evicted',
  'trust.tests',
  'trust.nothingToTest',
  'siblings.asked',
  'siblings.found',
  'siblings.implausible',
  'siblings.selfLookup',
  'route.forwarded',
  'route.ackTimeout',
  'route.detour',
  'route.detourLimit',
  'route.loop',
  'route.malformed',
  'route.maxHops',
  'route.sendFailed',
  'route.tooLarge',
  'route.unreachable',
  'signals.retraced',
  'signals.introduced',
  'lookups.node',
  'lookups.value',
  'lookups.valueDeepened',
  'lookups.failed',
  'lookups.candidateSilent',
  'lookups.pathLate',
  'lookups.queryHedged',
  'lookups.queryLate',
  'lookups.queryLinked',
  'lookups.recordRejected',
  'lookups.settledOnPage',
  'lookups.nearFirst',
  'dht.stored',
  'dht.storeRefused',
  'dht.valueServed',
  'dht.answeredOnPage',
  'dht.answeredOnPageDiffered',
  'dht.removeForwarded',
  'dht.removeForwardUnanswered',
  'records.expired',
  'replication.handedOn',
  'publish.stored',
  'publish.removed',
  'publish.removeRetried',
  'publish.routeRetried',
  'leave.removed',
  'leave.removeFailed',
  'advertise.republishFailed',
  'rpc.calls',
  'rpc.local',
  'rpc.served',
  'rpc.busy',
  'rpc.failover',
  'rpc.answeredOnPage',
  'rpc.sentOnPage',
  'rpc.admittedOnPage',
  'pubsub.published',
  'pubsub.deliveries',
  'pubsub.received',
  'pubsub.duplicates',
  'pubsub.refused',
  'pubsub.countedOnPage',
  'pubsub.takenOnPage',
  'pubsub.sentOnPage',
  'persistence.failed',
  'persistence.restoreFailed',
] as const;

const MESSAGE_NAMES = Object.keys(MessageType) as MessageName[];
const ERROR_CODES = Object.values(ErrorCode);
// Written as records so that a new decode error or outcome is a type error here until listed.
const DECODE_ERRORS = Object.keys({
  short: 1,
  version: 1,
  type: 1,
  length: 1,
  msgpack: 1,
  schema: 1,
} satisfies Record<DecodeError, 1>) as DecodeError[];
const OUTCOMES = Object.keys({ through: 1, lost: 1, 'test-failed': 1 } satisfies Record<Outcome, 1>) as Outcome[];

/** The families: a prefix and the finite set of what may follow it. */
export type CounterName =
  | (typeof FIXED_COUNTERS)[number]
  | `messages.in.${MessageName}`
  | `messages.out.${MessageName}`
  | `messages.routedIn.${MessageName}`
  | `frames.malformed.${DecodeError}`
  | `flood.limited.${FloodClass}`
  | `trust.${Outcome}`
  | `dht.storeRefused.${ErrorCode}`
  | `dht.removeRefused.${ErrorCode}`
  | `pubsub.undelivered.${ErrorCode | 'ERROR'}`
  | `pubsub.refused.${ErrorCode}`;

const family = <P extends string, S extends string>(prefix: P, suffixes: readonly S[]): Array<`${P}.${S}`> =>
  suffixes.map((s) => `${prefix}.${s}` as const);

/** Every counter, in a stable order (the fixed ones, then each family). */
export const COUNTER_NAMES: readonly CounterName[] = [
  ...FIXED_COUNTERS,
  ...family('messages.in', MESSAGE_NAMES),
  ...family('messages.out', MESSAGE_NAMES),
  ...family('messages.routedIn', MESSAGE_NAMES),
  ...family('frames.malformed', DECODE_ERRORS),
  ...family('flood.limited', FLOOD_CLASSES),
  ...family('trust', OUTCOMES),
  ...family('dht.storeRefused', ERROR_CODES),
  ...family('dht.removeRefused', ERROR_CODES),
  ...family('pubsub.undelivered', [...ERROR_CODES, 'ERROR' as const]),
  ...family('pubsub.refused', ERROR_CODES),
];

/** The families' prefixes, as the README's stats() table names them (`messages.in.<TYPE>`). */
export const COUNTER_FAMILIES = [
  'messages.in',
  'messages.out',
  'messages.routedIn',
  'frames.malformed',
  'flood.limited',
  'trust',
  'dht.storeRefused',
  'dht.removeRefused',
  'pubsub.undelivered',
  'pubsub.refused',
] as const;

/** Per-type counter names, looked up instead of built as a string per frame (this runs for every frame). */
const inByType = new Map<MessageName, CounterName>(MESSAGE_NAMES.map((t) => [t, `messages.in.${t}`]));
const outByType = new Map<MessageName, CounterName>(MESSAGE_NAMES.map((t) => [t, `messages.out.${t}`]));
const routedInByType = new Map<MessageName, CounterName>(MESSAGE_NAMES.map((t) => [t, `messages.routedIn.${t}`]));

export const messageCounter = (direction: 'in' | 'out' | 'routedIn', type: MessageName): CounterName =>
  (direction === 'in' ? inByType : direction === 'out' ? outByType : routedInByType).get(type)!;

/**
 * Each counter's place in COUNTER_NAMES. A node keeps its counts in one array in that order
 * (dht-node.ts): a count is an array write, where a map of names grew and rehashed per node.
 */
export const COUNTER_INDEX: ReadonlyMap<CounterName, number> = new Map(COUNTER_NAMES.map((name, i) => [name, i]));
