import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { Swarm } from '../sim/swarm.js';
import { decodeFrame, encodeFrame, HEADER_BYTES, PROTOCOL_VERSION, type DecodeError } from './codec.js';
import { MAX_FRAME_BYTES } from './constants.js';
import { DhtNode } from './dht-node.js';
import { seededRandom, type Random, type Transport } from './environment.js';
import { compareDistance, idsEqual, keyForName, toHex, type NodeId } from './id.js';
import { createIdentity, type Identity } from './identity.js';
import { MessageType, messageNames, type Message, type MessageBodies, type MessageName } from './messages.js';
import { checkRecord, signRecord, signRemoval, type SignedRecord, type SignedRemoval } from './records.js';

/**
 * Bad input never crashes a node or spreads. 100,000 frames — random bytes, random
 * MessagePack in valid headers, schema-valid frames of every type with random field
 * values, bit flips, truncations, extensions, swapped type bytes, routed envelopes around
 * random bodies, and well-formed STOREs and REMOVEs of genuine and forged records — go
 * through decodeFrame and, from eight fake open neighbours, into the receive path of a real
 * node of a seeded 16-node swarm on virtual time. Its real neighbours carry on whatever the
 * node forwards or answers.
 */
const FRAMES = 100_000;
const SEED = 2027;
const NAMES = Object.keys(MessageType) as MessageName[];
const TYPE_IDS = Object.values(MessageType) as number[];
const DECODE_ERRORS: ReadonlySet<string> = new Set<DecodeError>(['short', 'version', 'type', 'length', 'msgpack', 'schema']);
const FIELD_NAMES = ['rid', 'hid', 'target', 'key', 'kind', 'nodes', 'records', 'record', 'removal', 'dest', 'src', 'hops', 'max', 'exact',
  'path', 'via', 'body', 'service', 'args', 'ok', 'code', 'message', 'result', 'mid', 'topic', 'payload', 'publisher', 'publicKey', 'realm',
  'remainingMs'];
const RECORD_FIELDS = ['kind', 'key', 'publicKey', 'nodeId', 'endpoint', 'metadata', 'advertisedAt', 'ttl', 'signature', 'removedAt'];

type Category = 'bytes' | 'rawPayload' | 'msgpackJunk' | 'valid' | 'mutated' | 'route' | 'records';

const int = (r: Random, n: number): number => Math.floor(r.next() * n);
const pick = <T>(r: Random, xs: readonly T[]): T => xs[int(r, xs.length)]!;

function junkValue(r: Random, depth = 0): unknown {
  switch (int(r, depth > 2 ? 8 : 11)) {
    case 0: return int(r, 2 ** 32) * (r.next() < 0.2 ? -1 : 1);
    case 1: return pick(r, [r.next() * 1e6, -0, 2 ** 53, -(2 ** 63), Number.NaN, Infinity]);
    case 2: return 'x'.repeat(int(r, 40));
    case 3: return String.fromCharCode(...Array.from({ length: int(r, 12) }, () => int(r, 0xd7ff)));
    case 4: return r.bytes(int(r, 70));
    case 5: return r.bytes(pick(r, [16, 31, 32, 33, 64]));
    case 6: return pick(r, [null, true, false, 'provider', 'subscriber']);
    case 7: return int(r, 100);
    case 8: return Array.from({ length: int(r, 5) }, () => junkValue(r, depth + 1));
    case 9: return junkMap(r, FIELD_NAMES, depth + 1);
    default: return junkMap(r, RECORD_FIELDS, depth + 1);
  }
}

function junkMap(r: Random, fields: readonly string[], depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) if (r.next() < 0.4) out[f] = depth > 3 ? null : junkValue(r, depth + 1);
  return out;
}

function rawFrame(type: number, payload: Uint8Array, version = PROTOCOL_VERSION): Uint8Array {
  const frame = new Uint8Array(HEADER_BYTES + payload.length);
  frame[0] = version;
  frame[1] = type;
  new DataView(frame.buffer).setUint32(4, payload.length);
  frame.set(payload, HEADER_BYTES);
  return frame;
}

function mutate(r: Random, frame: Uint8Array): Uint8Array {
  const out = Uint8Array.from(frame);
  switch (int(r, 6)) {
    case 0: // bit flips
      for (let i = 0, n = 1 + int(r, 4); i < n; i++) out[int(r, out.length)]! ^= 1 << int(r, 8);
      return out;
    case 1: // truncation
      return out.subarray(0, int(r, out.length));
    case 2: { // extension (the length field now disagrees)
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

interface Material {
  target: DhtNode;
  fakes: string[];
  genuine: SignedRecord[];
  forged: unknown[];
  removals: unknown[];
}

/** A body that satisfies the schema of `name`, with random values in every field. */
function validBody(r: Random, name: MessageName, m: Material, depth = 0): MessageBodies[MessageName] {
  const rid = (): number => int(r, 2 ** 32);
  const id = (): Uint8Array => r.bytes(32);
  const ids = (max: number): Uint8Array[] => Array.from({ length: int(r, max + 1) }, id);
  const text = (max: number): string => Array.from({ length: 1 + int(r, max) }, () => String.fromCharCode(33 + int(r, 90))).join('');
  const kind = (): 'provider' | 'subscriber' => (r.next() < 0.5 ? 'provider' : 'subscriber');
  const recordish = (): unknown => {
    const roll = r.next();
    if (roll < 0.2) return pick(r, m.genuine);
    if (roll < 0.45) return pick(r, m.forged);
    return junkMap(r, RECORD_FIELDS);
  };
  switch (name) {
    case 'CONNECT': return { publicKey: id(), realm: text(63).slice(0, int(r, 65)) };
    case 'PING': case 'PONG': return { rid: rid() };
    case 'PUBLISH': case 'PUBSUB_ROUTE':
      return { rid: rid(), mid: r.bytes(16), topic: text(255), payload: junkValue(r), publisher: id() };
    case 'CALL': return { rid: rid(), service: text(255), args: junkValue(r) };
    case 'REPLY':
      return r.next() < 0.5
        ? { rid: rid(), ok: true, result: junkValue(r) }
        : { rid: rid(), ok: false, code: text(63), message: text(200) };
    case 'RPC_ROUTE': return routeBody(r, m, depth);
    case 'ROUTE_ACK': return { hid: rid() };
    case 'FIND_NODE': return { rid: rid(), target: r.next() < 0.2 ? m.target.self : id() };
    case 'FIND_NODE_REPLY': return { rid: rid(), target: id(), nodes: ids(64) };
    case 'STORE': return r.next() < 0.5 ? { rid: rid(), record: recordish() } : { rid: rid(), record: recordish(), remainingMs: r.next() * 1e6 };
    case 'FIND_VALUE': return { rid: rid(), key: r.next() < 0.3 ? pick(r, m.genuine).key : id(), kind: kind() };
    case 'FIND_VALUE_REPLY':
      return { rid: rid(), key: id(), kind: kind(), records: Array.from({ length: int(r, 5) }, recordish), nodes: ids(20) };
    case 'STORE_REPLY': return r.next() < 0.5 ? { rid: rid(), key: id(), ok: r.next() < 0.5 } : { rid: rid(), key: id(), ok: false, code: text(63) };
    case 'REMOVE': return { rid: rid(), removal: r.next() < 0.3 ? pick(r, m.removals) : junkMap(r, RECORD_FIELDS) };
    case 'SIGNAL': return { payload: r.bytes(int(r, 200)) };
  }
}

/**
 * A routed envelope around a random body. Its path is never longer than its hop count,
 * as on every envelope an honest node builds; longer paths are refused (see the regression tests below).
 */
function routeBody(r: Random, m: Material, depth: number): MessageBodies['RPC_ROUTE'] {
  const max = 1 + int(r, 10);
  const hops = int(r, max + 1);
  const neighbourIds = [...m.target.neighbours.values()].map((n) => n.id);
  const dest = pick(r, [m.target.self, r.bytes(32), r.bytes(32), ...(neighbourIds.length > 0 ? [pick(r, neighbourIds)] : [])]);
  const roll = r.next();
  const innerName = pick(r, NAMES.filter((n) => depth < 1 || n !== 'RPC_ROUTE'));
  const body = roll < 0.55 ? encodeFrame(innerName, validBody(r, innerName, m, depth + 1) as never)
    : roll < 0.8 ? mutate(r, encodeFrame(innerName, validBody(r, innerName, m, depth + 1) as never))
      : r.bytes(int(r, 60));
  const envelope: MessageBodies['RPC_ROUTE'] = {
    dest, src: r.bytes(32), hops, max, exact: r.next() < 0.5, path: Array.from({ length: int(r, hops + 1) }, () => r.bytes(32)),
    hid: r.next() < 0.5 ? 0 : int(r, 2 ** 32), body,
  };
  if (r.next() < 0.2) envelope.via = Array.from({ length: 1 + int(r, 3) }, () => (neighbourIds.length > 0 && r.next() < 0.5 ? pick(r, neighbourIds) : r.bytes(32)));
  return envelope;
}

function makeFrame(r: Random, m: Material): { frame: Uint8Array; category: Category } {
  const roll = r.next();
  const name = pick(r, NAMES);
  if (roll < 0.08) return { category: 'bytes', frame: r.bytes(int(r, 120)) };
  if (roll < 0.15) return { category: 'rawPayload', frame: rawFrame(r.next() < 0.8 ? MessageType[name] : int(r, 256), r.bytes(int(r, 80))) };
  if (roll < 0.28) {
    const value = r.next() < 0.5 ? junkMap(r, FIELD_NAMES) : junkValue(r);
    return { category: 'msgpackJunk', frame: rawFrame(MessageType[name], encode(value, { ignoreUndefined: true })) };
  }
  if (roll < 0.53) return { category: 'valid', frame: encodeFrame(name, validBody(r, name, m) as never) };
  if (roll < 0.73) return { category: 'mutated', frame: mutate(r, encodeFrame(name, validBody(r, name, m) as never)) };
  if (roll < 0.86) return { category: 'route', frame: encodeFrame('RPC_ROUTE', routeBody(r, m, 0)) };
  // Well-formed STOREs and REMOVEs whose contents look right: genuine or forged.
  const rid = int(r, 2 ** 32);
  if (r.next() < 0.75) {
    const record = r.next() < 0.3 ? pick(r, m.genuine) : pick(r, m.forged);
    return { category: 'records', frame: encodeFrame('STORE', r.next() < 0.5 ? { rid, record } : { rid, record, remainingMs: int(r, 400_000) }) };
  }
  return { category: 'records', frame: encodeFrame('REMOVE', { rid, removal: pick(r, m.removals) }) };
}

/** Forged copies of genuine records: every field altered in turn, a bounded set (each costs one verification). */
function forgeries(genuine: SignedRecord[], stranger: Identity): unknown[] {
  const out: unknown[] = [];
  for (const g of genuine) {
    out.push(
      { ...g, metadata: { v: 2 } }, { ...g, metadata: {} }, { ...g, ttl: g.ttl + 1 }, { ...g, ttl: 86_400 }, { ...g, endpoint: 'peer:evil' },
      { ...g, advertisedAt: g.advertisedAt + 1 }, { ...g, kind: g.kind === 'provider' ? 'subscriber' : 'provider' }, { ...g, key: keyForName('elsewhere') },
      { ...g, nodeId: stranger.nodeId }, { ...g, publicKey: stranger.publicKey, nodeId: stranger.nodeId }, { ...g, signature: new Uint8Array(64) },
      { ...g, advertisedAt: g.advertisedAt + 86_400_000 }, { ...g, advertisedAt: 0 }, { ...g, endpoint: 'e'.repeat(300) },
    );
  }
  return out;
}

/**
 * A swarm whose nodes send to `fakes` as if a channel were open, recording what `target`
 * sends them (the fakes are the fuzzing neighbours: only the target has them open).
 */
function fuzzSwarm(seed: number, fakes: ReadonlySet<string>, sentToFakes: Array<{ peer: string; frame: Uint8Array }>, targetHex: () => string | undefined): Swarm {
  return new Swarm({
    seed,
    create: (deps) => {
      const inner = deps.transport;
      const self = deps.identity.nodeIdHex;
      const transport: Transport = {
        send: (peer, frame) => {
          if (!fakes.has(peer)) return inner.send(peer, frame);
          if (self !== targetHex()) return false;
          sentToFakes.push({ peer, frame });
          return true;
        },
        connect: (peer) => { if (!fakes.has(peer)) inner.connect(peer); },
        disconnect: (peer) => { if (!fakes.has(peer)) inner.disconnect(peer); },
      };
      const node = new DhtNode({ ...deps, transport });
      return { node, tick: () => node.tick() };
    },
  });
}

const kClosest = (node: DhtNode, target: NodeId): string[] =>
  node.table.all().sort((a, b) => compareDistance(target, a.id, b.id)).slice(0, node.k).map((c) => c.idHex);

describe('fuzzing the decoder and a live node', () => {
  it(`${FRAMES.toLocaleString('en')} frames: nothing throws, rejections are counted, the node keeps only valid state and still works`, async () => {
    const r = seededRandom(SEED);
    const fakeIds = Array.from({ length: 8 }, (_, i) => createIdentity(seededRandom(9_000 + i).bytes).nodeIdHex);
    const fakes = new Set(fakeIds);
    const sentToFakes: Array<{ peer: string; frame: Uint8Array }> = [];
    let targetHex: string | undefined;
    const swarm = fuzzSwarm(SEED, fakes, sentToFakes, () => targetHex);
    await swarm.grow(16, 8);
    await swarm.run(5_000);
    const target = swarm.alive()[0]!;
    targetHex = target.selfHex;
    const verify = swarm.verify;

    const owners = Array.from({ length: 4 }, (_, i) => createIdentity(seededRandom(9_100 + i).bytes));
    const genuine = owners.flatMap((o, i) => ['a', 'b'].map((s) => signRecord({
      kind: s === 'a' ? 'provider' : 'subscriber', key: keyForName(`fuzz.${i}.${s}`), endpoint: `peer:${o.nodeIdHex}`,
      metadata: { v: 1, owner: i }, advertisedAt: swarm.now, ttl: 300,
    }, o)));
    const genuineSigs = new Set(genuine.map((g) => toHex(g.signature)));
    const stranger = createIdentity(seededRandom(9_200).bytes);
    const removal: SignedRemoval = signRemoval({ kind: 'provider', key: genuine[0]!.key, removedAt: swarm.now + 10_000 }, owners[0]!);
    const removals: unknown[] = [
      removal, { ...removal, removedAt: removal.removedAt + 1 }, { ...removal, nodeId: stranger.nodeId },
      { ...removal, key: genuine[2]!.key }, { ...signRemoval({ kind: 'provider', key: genuine[2]!.key, removedAt: swarm.now }, stranger), publicKey: owners[1]!.publicKey },
    ];
    const m: Material = { target, fakes: fakeIds, genuine, forged: forgeries(genuine, stranger), removals };

    const errors = new Map<string, number>();
    const thrown: string[] = [];
    const validRefused: string[] = [];
    const typeMismatch: string[] = [];
    let expectedMalformed = 0;
    let decodedOk = 0;
    for (let i = 0; i < FRAMES; i++) {
      const { frame, category } = makeFrame(r, m);
      let result: ReturnType<typeof decodeFrame> | undefined;
      try {
        result = decodeFrame(frame);
      } catch (e) {
        thrown.push(`decodeFrame #${i}: ${String(e)}`);
      }
      if (result !== undefined) {
        if (result.ok) {
          decodedOk++;
          if (result.message.type !== messageNames.get(frame[1]!)) typeMismatch.push(`#${i}`);
        } else {
          errors.set(result.error, (errors.get(result.error) ?? 0) + 1);
          expectedMalformed++;
          if (category === 'valid' || category === 'route' || category === 'records') validRefused.push(`#${i} ${category}: ${result.error}`);
        }
      }
      const peer = fakeIds[i % fakeIds.length]!;
      // Persistent junk gets a fake neighbour disconnected; open it again to keep fuzzing the handlers.
      if (!target.neighbours.has(peer)) target.onChannelOpen(peer);
      try {
        target.onFrame(peer, frame);
      } catch (e) {
        thrown.push(`onFrame #${i} (${category}): ${String(e)}`);
      }
      if (i % 500 === 499) await swarm.run(25);
    }
    await swarm.run(20_000);

    // (a) The decoder: never throws, every refusal is a named error, every kind of error was met,
    // and every schema-valid frame is accepted as the type its header names.
    expect(thrown).toEqual([]);
    expect(validRefused).toEqual([]);
    expect(typeMismatch).toEqual([]);
    for (const e of errors.keys()) expect(DECODE_ERRORS.has(e)).toBe(true);
    for (const e of DECODE_ERRORS) expect(errors.get(e) ?? 0).toBeGreaterThan(100);
    expect(decodedOk).toBeGreaterThan(40_000);
    expect(expectedMalformed).toBeGreaterThan(30_000);

    // (b) The node: every rejection counted, junk senders disconnected, nothing leaked to the swarm.
    const stats = target.stats();
    expect(stats['frames.malformed']).toBe(expectedMalformed);
    expect(stats['frames.fromStranger'] ?? 0).toBe(0);
    expect(stats['neighbours.junkDisconnect'] ?? 0).toBeGreaterThan(100);
    expect(stats['route.malformed'] ?? 0).toBeGreaterThan(0);
    for (const node of swarm.alive()) {
      if (node === target) continue;
      expect({ node: node.selfHex, malformed: node.stats()['frames.malformed'] ?? 0 }).toEqual({ node: node.selfHex, malformed: 0 });
    }
    // Whatever the node sent back to its hostile neighbours was well-formed.
    expect(sentToFakes.length).toBeGreaterThan(10_000);
    expect(sentToFakes.filter((s) => !decodeFrame(s.frame).ok)).toEqual([]);

    // Only records that pass checkRecord are held (here or anywhere they were replicated to),
    // and each is one of the genuine ones; routing tables hold only 32-byte ids.
    const now = swarm.now;
    let held = 0;
    for (const node of swarm.alive()) {
      for (const { key, kind } of node.records.slotKeys()) {
        for (const { record } of node.records.entriesForKey(key, kind)) {
          expect(checkRecord(record, now, verify)).toMatchObject({ ok: true });
          expect(idsEqual(record.key, key) && record.kind === kind).toBe(true);
          expect(genuineSigs.has(toHex(record.signature))).toBe(true);
          if (node === target) held++;
        }
      }
      for (const c of node.table.all()) {
        expect(c.id).toBeInstanceOf(Uint8Array);
        expect(c.id.length).toBe(32);
        expect(c.idHex).toBe(toHex(c.id));
      }
    }
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(genuine.length);
    // The genuine removal took its record out, and it was not replayed back in.
    expect(target.records.get(genuine[0]!.key, 'provider', now)).toEqual([]);

    // (c) It still works. From a fake neighbour: FIND_NODE is answered with exactly its k
    // closest contacts, a genuine STORE is accepted.
    const asker = fakeIds[0]!;
    if (!target.neighbours.has(asker)) target.onChannelOpen(asker);
    sentToFakes.length = 0;
    const probe = r.bytes(32);
    const expected = kClosest(target, probe);
    target.onFrame(asker, encodeFrame('FIND_NODE', { rid: 42, target: probe }));
    const fresh = signRecord({ kind: 'provider', key: keyForName('after.fuzz'), endpoint: 'peer:y', metadata: {}, advertisedAt: swarm.now, ttl: 300 }, stranger);
    target.onFrame(asker, encodeFrame('STORE', { rid: 43, record: fresh }));
    const replies = sentToFakes.filter((s) => s.peer === asker).map((s) => decodeFrame(s.frame)).flatMap((d) => (d.ok ? [d.message] : []));
    const findReply = replies.find((x): x is Extract<Message, { type: 'FIND_NODE_REPLY' }> => x.type === 'FIND_NODE_REPLY' && x.body.rid === 42);
    expect(findReply?.body.nodes.map(toHex)).toEqual(expected);
    expect(replies).toContainEqual({ type: 'STORE_REPLY', body: { rid: 43, key: fresh.key, ok: true } });

    // From a real neighbour over the swarm: the record is served, and the node's own lookups still converge.
    const neighbour = swarm.alive().find((n) => target.neighbours.has(n.selfHex))!;
    const served = await swarm.settle(neighbour.gateway.queryPeer(target.selfHex, 'FIND_VALUE', { rid: 44, key: fresh.key, kind: 'provider' }));
    expect(served.reply.type === 'FIND_VALUE_REPLY' && served.reply.body.records).toEqual([fresh]);
    const lookup = await swarm.settle(target.findNode(swarm.alive()[5]!.self, { refine: false }));
    expect(lookup.answered).toBeGreaterThan(0);
    expect(lookup.closest).toContain(swarm.alive()[5]!.selfHex);
  }, 60_000);
});

/**
 * Regression (fixed in src/core/router.ts Router.forward and the codec's RPC_ROUTE
 * validator): a node used to forward any envelope that decoded, appending itself to `path`
 * and re-encoding it, without checking that the result is still a frame its neighbour
 * will accept. An envelope whose path already holds MAX_HOPS + 1 ids (the codec's limit;
 * honest envelopes have path.length === hops), or whose size is within a path entry of
 * MAX_FRAME_BYTES, leaves an honest node as a frame the next honest node rejects as
 * malformed — and counts as junk from the honest forwarder. Twenty of them and the next
 * node disconnects its honest neighbour: a stranger can cut links between honest nodes.
 */
describe('hostile envelopes do not turn honest forwarders into junk senders', () => {
  async function relayPair(): Promise<{ swarm: Swarm; a: DhtNode; b: DhtNode; fake: string }> {
    const swarm = new Swarm({ seed: 31 });
    await swarm.grow(16, 8);
    await swarm.run(5_000);
    const a = swarm.alive()[0]!;
    const b = swarm.alive().find((n) => a.neighbours.has(n.selfHex))!;
    const fake = createIdentity(seededRandom(9_300).bytes).nodeIdHex;
    a.onChannelOpen(fake);
    return { swarm, a, b, fake };
  }

  it('an envelope whose path is already at the limit does not get an honest forwarder disconnected', async () => {
    const { swarm, a, b, fake } = await relayPair();
    for (let i = 0; i < 25; i++) {
      a.onFrame(fake, encodeFrame('RPC_ROUTE', {
        dest: b.self, src: swarm.random.bytes(32), hops: 0, max: 10, exact: true, hid: 0,
        path: Array.from({ length: 11 }, () => swarm.random.bytes(32)), body: encodeFrame('PING', { rid: i }),
      }));
    }
    await swarm.run(2_000);
    expect(b.stats()['frames.malformed'] ?? 0).toBe(0);
    expect(b.neighbours.has(a.selfHex)).toBe(true);
  });

  it('an envelope within a path entry of the frame size limit does not get an honest forwarder disconnected', async () => {
    const { swarm, a, b, fake } = await relayPair();
    const envelope = (n: number): Uint8Array => encodeFrame('RPC_ROUTE', {
      dest: b.self, src: b.self, hops: 0, max: 10, exact: true, hid: 0, path: [],
      body: encodeFrame('CALL', { rid: 1, service: 's', args: new Uint8Array(n) }),
    });
    let n = MAX_FRAME_BYTES - 200;
    while (envelope(n + 1).length <= MAX_FRAME_BYTES) n++;
    const frame = envelope(n);
    expect(decodeFrame(frame).ok).toBe(true);
    for (let i = 0; i < 20; i++) a.onFrame(fake, frame);
    await swarm.run(2_000);
    expect(b.stats()['frames.malformed'] ?? 0).toBe(0);
    expect(b.neighbours.has(a.selfHex)).toBe(true);
  });
});
