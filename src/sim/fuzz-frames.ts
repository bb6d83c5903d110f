import { encode } from '@msgpack/msgpack';
import { encodeFrame, HEADER_BYTES, PROTOCOL_VERSION, type DecodeError } from '../core/wire/codec.js';
import type { DhtNode } from '../core/node/dht-node.js';
import type { Random } from '../core/environment.js';
import { keyForName } from '../core/id.js';
import type { Identity } from '../core/identity.js';
import { MessageType, type MessageBodies, type MessageName } from '../core/wire/messages.js';
import type { SignedRecord } from '../core/records/records.js';

/**
 * Hostile frames for fuzzing (src/core/fuzz.test.ts, bench/fuzz.bench.ts): random bytes,
 * random MessagePack in valid headers, schema-valid frames of every type with random field
 * values, bit flips, truncations, extensions, length fields that lie, swapped type bytes,
 * fields of the wrong MessagePack type, routed envelopes around random bodies, and
 * well-formed STOREs and REMOVEs of genuine and forged records. Deterministic from the Random.
 */
export const NAMES = Object.keys(MessageType) as MessageName[];
const TYPE_IDS = Object.values(MessageType) as number[];
export const DECODE_ERRORS: ReadonlySet<string> = new Set<DecodeError>([
  'short',
  'version',
  'type',
  'length',
  'msgpack',
  'schema',
]);
const FIELD_NAMES = [
  'rid',
  'hid',
  'target',
  'key',
  'kind',
  'nodes',
  'records',
  'record',
  'removal',
  'dest',
  'src',
  'hops',
  'max',
  'exact',
  'path',
  'via',
  'body',
  'service',
  'args',
  'ok',
  'code',
  'message',
  'result',
  'mid',
  'topic',
  'payload',
  'at',
  'signature',
  'publicKey',
  'realm',
  'remainingMs',
];
const RECORD_FIELDS = [
  'kind',
  'key',
  'publicKey',
  'nodeId',
  'endpoint',
  'metadata',
  'advertisedAt',
  'ttl',
  'signature',
  'removedAt',
];

export type Category = 'bytes' | 'rawPayload' | 'msgpackJunk' | 'valid' | 'mutated' | 'confused' | 'route' | 'records';

const int = (r: Random, n: number): number => Math.floor(r.next() * n);
const pick = <T>(r: Random, xs: readonly T[]): T => xs[int(r, xs.length)]!;

export function junkValue(r: Random, depth = 0): unknown {
  switch (int(r, depth > 2 ? 8 : 11)) {
    case 0:
      return int(r, 2 ** 32) * (r.next() < 0.2 ? -1 : 1);
    case 1:
      return pick(r, [r.next() * 1e6, -0, 2 ** 53, -(2 ** 63), Number.NaN, Infinity]);
    case 2:
      return 'x'.repeat(int(r, 40));
    case 3:
      return String.fromCharCode(...Array.from({ length: int(r, 12) }, () => int(r, 0xd7ff)));
    case 4:
      return r.bytes(int(r, 70));
    case 5:
      return r.bytes(pick(r, [16, 31, 32, 33, 64]));
    case 6:
      return pick(r, [null, true, false, 'provider', 'subscriber']);
    case 7:
      return int(r, 100);
    case 8:
      return Array.from({ length: int(r, 5) }, () => junkValue(r, depth + 1));
    case 9:
      return junkMap(r, FIELD_NAMES, depth + 1);
    default:
      return junkMap(r, RECORD_FIELDS, depth + 1);
  }
}

export function junkMap(r: Random, fields: readonly string[], depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) if (r.next() < 0.4) out[f] = depth > 3 ? null : junkValue(r, depth + 1);
  return out;
}

export function rawFrame(type: number, payload: Uint8Array, version = PROTOCOL_VERSION): Uint8Array {
  const frame = new Uint8Array(HEADER_BYTES + payload.length);
  frame[0] = version;
  frame[1] = type;
  new DataView(frame.buffer).setUint32(4, payload.length);
  frame.set(payload, HEADER_BYTES);
  return frame;
}

export function mutate(r: Random, frame: Uint8Array): Uint8Array {
  const out = Uint8Array.from(frame);
  switch (int(r, 7)) {
    case 6: // the length field lies, the bytes stay
      new DataView(out.buffer).setUint32(
        4,
        pick(r, [0, out.length, out.length - HEADER_BYTES + 1, 0xffffffff, int(r, 2 ** 32)]),
      );
      return out;
    case 0: // bit flips
      for (let i = 0, n = 1 + int(r, 4); i < n; i++) out[int(r, out.length)]! ^= 1 << int(r, 8);
      return out;
    case 1: // truncation
      return out.subarray(0, int(r, out.length));
    case 2: {
      // extension (the length field now disagrees)
      const longer = new Uint8Array(out.length + 1 + int(r, 16));
      longer.set(out);
      longer.set(r.bytes(longer.length - out.length), out.length);
      return longer;
    }
    case 3: // swapped type byte: the body is checked against another message's schema
      out[1] = pick(r, TYPE_IDS);
      return out;
    case 4: // an unknown type, or another version
      if (r.next() < 0.5) out[1] = int(r, 256);
      else out[0] = int(r, 256);
      return out;
    default: // a random payload byte
      out[HEADER_BYTES + int(r, Math.max(1, out.length - HEADER_BYTES))] = int(r, 256);
      return out;
  }
}

export interface Material {
  target: DhtNode;
  fakes: string[];
  genuine: SignedRecord[];
  forged: unknown[];
  removals: unknown[];
}

/** A body that satisfies the schema of `name`, with random values in every field. */
export function validBody(r: Random, name: MessageName, m: Material, depth = 0): MessageBodies[MessageName] {
  const rid = (): number => int(r, 2 ** 32);
  const id = (): Uint8Array => r.bytes(32);
  const ids = (max: number): Uint8Array[] => Array.from({ length: int(r, max + 1) }, id);
  const text = (max: number): string =>
    Array.from({ length: 1 + int(r, max) }, () => String.fromCharCode(33 + int(r, 90))).join('');
  const kind = (): 'provider' | 'subscriber' => (r.next() < 0.5 ? 'provider' : 'subscriber');
  const recordish = (): unknown => {
    const roll = r.next();
    if (roll < 0.2) return pick(r, m.genuine);
    if (roll < 0.45) return pick(r, m.forged);
    return junkMap(r, RECORD_FIELDS);
  };
  switch (name) {
    case 'CONNECT':
      return { publicKey: id(), realm: text(63).slice(0, int(r, 65)) };
    case 'PING':
    case 'PONG':
      return { rid: rid() };
    case 'PUBLISH':
    case 'PUBSUB_ROUTE':
      // Half of them fresh, so their signatures get checked (and fail).
      return {
        rid: rid(),
        mid: r.bytes(16),
        topic: text(255),
        payload: r.next() < 0.5 ? encode(junkValue(r), { ignoreUndefined: true }) : r.bytes(int(r, 64)),
        publicKey: id(),
        at: r.next() < 0.5 ? m.target.clock.now() : int(r, 2 ** 42),
        signature: r.bytes(64),
      };
    case 'CALL':
      return { rid: rid(), service: text(255), args: junkValue(r) };
    case 'REPLY':
      return r.next() < 0.5
        ? { rid: rid(), ok: true, result: junkValue(r) }
        : { rid: rid(), ok: false, code: text(63), message: text(200) };
    case 'RPC_ROUTE':
      return routeBody(r, m, depth);
    case 'ROUTE_ACK':
      return { hid: rid() };
    case 'LEAVE':
      return {};
    case 'FIND_NODE':
      return { rid: rid(), target: r.next() < 0.2 ? m.target.self : id() };
    case 'FIND_NODE_REPLY':
      return { rid: rid(), target: id(), nodes: ids(64) };
    case 'STORE':
      return r.next() < 0.5
        ? { rid: rid(), record: recordish() }
        : { rid: rid(), record: recordish(), remainingMs: r.next() * 1e6 };
    case 'FIND_VALUE':
      return { rid: rid(), key: r.next() < 0.3 ? pick(r, m.genuine).key : id(), kind: kind() };
    case 'FIND_VALUE_REPLY':
      return {
        rid: rid(),
        key: id(),
        kind: kind(),
        records: Array.from({ length: int(r, 5) }, recordish),
        nodes: ids(20),
      };
    case 'STORE_REPLY':
      return r.next() < 0.5
        ? { rid: rid(), key: id(), ok: r.next() < 0.5 }
        : { rid: rid(), key: id(), ok: false, code: text(63) };
    case 'REMOVE':
      return { rid: rid(), removal: r.next() < 0.3 ? pick(r, m.removals) : junkMap(r, RECORD_FIELDS) };
    case 'SIGNAL':
      return { payload: r.bytes(int(r, 200)) };
  }
}

/**
 * A routed envelope around a random body. Its path is never longer than its hop count,
 * as on every envelope an honest node builds; longer paths are refused (see the regression tests below).
 */
export function routeBody(r: Random, m: Material, depth: number): MessageBodies['RPC_ROUTE'] {
  const max = 1 + int(r, 10);
  const hops = int(r, max + 1);
  const neighbourIds = [...m.target.neighbours.values()].map((n) => n.id);
  const dest = pick(r, [
    m.target.self,
    r.bytes(32),
    r.bytes(32),
    ...(neighbourIds.length > 0 ? [pick(r, neighbourIds)] : []),
  ]);
  const roll = r.next();
  const innerName = pick(
    r,
    NAMES.filter((n) => depth < 1 || n !== 'RPC_ROUTE'),
  );
  const body =
    roll < 0.55
      ? encodeFrame(innerName, validBody(r, innerName, m, depth + 1) as never)
      : roll < 0.8
        ? mutate(r, encodeFrame(innerName, validBody(r, innerName, m, depth + 1) as never))
        : r.bytes(int(r, 60));
  const envelope: MessageBodies['RPC_ROUTE'] = {
    dest,
    src: r.bytes(32),
    hops,
    max,
    exact: r.next() < 0.5,
    path: Array.from({ length: int(r, hops + 1) }, () => r.bytes(32)),
    hid: r.next() < 0.5 ? 0 : int(r, 2 ** 32),
    body,
  };
  if (r.next() < 0.2)
    envelope.via = Array.from({ length: 1 + int(r, 3) }, () =>
      neighbourIds.length > 0 && r.next() < 0.5 ? pick(r, neighbourIds) : r.bytes(32),
    );
  return envelope;
}

export function makeFrame(r: Random, m: Material): { frame: Uint8Array; category: Category } {
  const roll = r.next();
  const name = pick(r, NAMES);
  if (roll < 0.08) return { category: 'bytes', frame: r.bytes(int(r, 120)) };
  if (roll < 0.15)
    return {
      category: 'rawPayload',
      frame: rawFrame(r.next() < 0.8 ? MessageType[name] : int(r, 256), r.bytes(int(r, 80))),
    };
  if (roll < 0.28) {
    const value = r.next() < 0.5 ? junkMap(r, FIELD_NAMES) : junkValue(r);
    return { category: 'msgpackJunk', frame: rawFrame(MessageType[name], encode(value, { ignoreUndefined: true })) };
  }
  if (roll < 0.53) return { category: 'valid', frame: encodeFrame(name, validBody(r, name, m) as never) };
  if (roll < 0.68) return { category: 'mutated', frame: mutate(r, encodeFrame(name, validBody(r, name, m) as never)) };
  if (roll < 0.73) return { category: 'confused', frame: confuse(r, name, validBody(r, name, m)) };
  if (roll < 0.86) return { category: 'route', frame: encodeFrame('RPC_ROUTE', routeBody(r, m, 0)) };
  // Well-formed STOREs and REMOVEs whose contents look right: genuine or forged.
  const rid = int(r, 2 ** 32);
  if (r.next() < 0.75) {
    const record = r.next() < 0.3 ? pick(r, m.genuine) : pick(r, m.forged);
    return {
      category: 'records',
      frame: encodeFrame('STORE', r.next() < 0.5 ? { rid, record } : { rid, record, remainingMs: int(r, 400_000) }),
    };
  }
  return { category: 'records', frame: encodeFrame('REMOVE', { rid, removal: pick(r, m.removals) }) };
}

/** Forged copies of genuine records: every field altered in turn, a bounded set (each costs one verification). */
export function forgeries(genuine: SignedRecord[], stranger: Identity): unknown[] {
  const out: unknown[] = [];
  for (const g of genuine) {
    out.push(
      { ...g, metadata: { v: 2 } },
      { ...g, metadata: {} },
      { ...g, ttl: g.ttl + 1 },
      { ...g, ttl: 86_400 },
      { ...g, endpoint: 'peer:evil' },
      { ...g, advertisedAt: g.advertisedAt + 1 },
      { ...g, kind: g.kind === 'provider' ? 'subscriber' : 'provider' },
      { ...g, key: keyForName('elsewhere') },
      { ...g, nodeId: stranger.nodeId },
      { ...g, publicKey: stranger.publicKey, nodeId: stranger.nodeId },
      { ...g, signature: new Uint8Array(64) },
      { ...g, advertisedAt: g.advertisedAt + 86_400_000 },
      { ...g, advertisedAt: 0 },
      { ...g, endpoint: 'e'.repeat(300) },
    );
  }
  return out;
}

/**
 * MessagePack type confusion: a valid body with one field's value swapped for a value of
 * another type (a string for a number, a map for bytes, ...), re-encoded with a correct header.
 */
export function confuse(r: Random, name: MessageName, body: MessageBodies[MessageName]): Uint8Array {
  const fields = Object.keys(body);
  const copy: Record<string, unknown> = { ...body };
  if (fields.length > 0) {
    const field = pick(r, fields);
    const original = copy[field];
    let swapped = junkValue(r);
    for (let i = 0; i < 4 && typeof swapped === typeof original; i++) swapped = junkValue(r);
    copy[field] = swapped;
  }
  return rawFrame(MessageType[name], encode(copy, { ignoreUndefined: true }));
}
