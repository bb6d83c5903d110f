import { describe, expect, it } from 'vitest';
import { Swarm } from '../../sim/swarm.js';
import { decodeFrame, encodeFrame } from '../wire/codec.js';
import { MAX_CLOCK_SKEW_MS } from '../constants.js';
import type { DhtNode } from './dht-node.js';
import { seededRandom, type Transport } from '../environment.js';
import { ErrorCode } from '../errors.js';
import { Gateway, type GatewayContext, type ReplyTo } from './gateway.js';
import { compareDistance, keyForName, toHex, type NodeId } from '../id.js';
import { createIdentity, type Identity } from '../identity.js';
import type { Message } from '../wire/messages.js';
import { checkRecord, signRecord, signRemoval, type RecordKind } from '../records/records.js';

/**
 * The counterparts of macula_gateway_dht, each held to what its documentation says, on
 * real DhtNodes of a small seeded mesh driven on virtual time. Where a test needs to
 * decide when (or whether) a peer answers, the peer is a "puppet": a host attached to the
 * same simulated network that records what it receives and sends only what it is told.
 */
async function mesh(seed = 99, size = 24): Promise<{ swarm: Swarm; nodes: DhtNode[] }> {
  const swarm = new Swarm({ seed });
  await swarm.grow(size, 8);
  await swarm.run(5_000);
  return { swarm, nodes: swarm.alive() };
}

interface Puppet {
  identity: Identity;
  hex: string;
  received: Message[];
  transport: Transport;
}

/** A scripted peer with an open channel to `to`. */
async function puppet(swarm: Swarm, to: DhtNode, seed: number): Promise<Puppet> {
  const identity = createIdentity(seededRandom(seed).bytes);
  const received: Message[] = [];
  const transport = swarm.network.attach(identity.nodeIdHex, {
    onChannelOpen: () => undefined,
    onChannelClose: () => undefined,
    onFrame: (_from, frame) => {
      const decoded = decodeFrame(frame);
      if (decoded.ok) received.push(decoded.message);
    },
  });
  swarm.network.link(identity.nodeIdHex, to.selfHex);
  await swarm.run(1_000);
  expect(to.neighbours.has(identity.nodeIdHex)).toBe(true);
  return { identity, hex: identity.nodeIdHex, received, transport };
}

const owner = createIdentity(seededRandom(31).bytes);
const other = createIdentity(seededRandom(32).bytes);
const recordFor = (
  name: string,
  now: number,
  over: { metadata?: Record<string, unknown>; ttl?: number; kind?: RecordKind; by?: Identity } = {},
) =>
  signRecord(
    {
      kind: over.kind ?? 'provider',
      key: keyForName(name),
      endpoint: 'peer:x',
      metadata: over.metadata ?? {},
      advertisedAt: now,
      ttl: over.ttl ?? 300,
    },
    over.by ?? owner,
  );

function reply(frame: Uint8Array): Message {
  const decoded = decodeFrame(frame);
  if (!decoded.ok) throw new Error(decoded.error);
  return decoded.message;
}

/** A ReplyTo that keeps what the handler answers. */
function capture(): { replyTo: ReplyTo; replies: Message[] } {
  const replies: Message[] = [];
  return { replies, replyTo: { kind: 'local', capture: (frame) => replies.push(reply(frame)) } };
}

/** The k contacts of `node`'s routing table closest to `target`, by brute force. */
const kClosest = (node: DhtNode, target: NodeId): string[] =>
  node.table
    .all()
    .sort((a, b) => compareDistance(target, a.id, b.id))
    .slice(0, node.k)
    .map((c) => c.idHex);

const counter = (node: DhtNode, name: string): number => node.stats()[name] ?? 0;

describe('handleStore', () => {
  it('stores a valid record and answers STORE_REPLY ok (and says so to listeners)', async () => {
    const { swarm, nodes } = await mesh();
    const node = nodes[0]!;
    const record = recordFor('svc.a', swarm.now, { metadata: { v: 1 } });
    const events: string[] = [];
    node.on((e) => {
      if (e.type === 'records-changed') events.push(e.key);
    });
    const { replyTo, replies } = capture();
    node.gateway.handleStore({ rid: 1, record }, replyTo);
    expect(replies).toEqual([{ type: 'STORE_REPLY', body: { rid: 1, key: record.key, ok: true } }]);
    expect(node.records.get(keyForName('svc.a'), 'provider', swarm.now)).toEqual([record]);
    expect(events).toEqual([toHex(record.key)]);
    expect(counter(node, 'dht.stored')).toBe(1);
  });

  it('refuses a forged or invalid record with its code, stores nothing and counts the refusal', async () => {
    const { swarm, nodes } = await mesh();
    const node = nodes[0]!;
    const now = swarm.now;
    const good = recordFor('svc.a', now);
    const cases: Array<[unknown, string]> = [
      [{ ...good, metadata: { evil: true } }, ErrorCode.BAD_SIGNATURE],
      [{ ...good, nodeId: other.nodeId }, ErrorCode.WRONG_OWNER],
      [recordFor('svc.a', now - 400_000 - MAX_CLOCK_SKEW_MS), ErrorCode.EXPIRED],
      [recordFor('svc.a', now + MAX_CLOCK_SKEW_MS + 1), ErrorCode.FUTURE_DATED],
      [{ ...good, endpoint: 'e'.repeat(10_000) }, ErrorCode.TOO_LARGE],
      [{ junk: true }, ErrorCode.MALFORMED],
    ];
    let rid = 10;
    for (const [record, code] of cases) {
      const { replyTo, replies } = capture();
      node.gateway.handleStore({ rid: ++rid, record }, replyTo);
      expect(replies).toEqual([{ type: 'STORE_REPLY', body: { rid, key: expect.any(Uint8Array), ok: false, code } }]);
      expect(counter(node, `dht.storeRefused.${code}`)).toBe(1);
    }
    expect(node.records.size).toBe(0);
    // An older advertisement than the stored one is refused as STALE.
    node.gateway.handleStore({ rid: 100, record: recordFor('svc.a', now + 1) }, capture().replyTo);
    const { replyTo, replies } = capture();
    node.gateway.handleStore({ rid: 101, record: good }, replyTo);
    expect(replies[0]?.body).toMatchObject({ rid: 101, ok: false, code: ErrorCode.STALE });
    expect(counter(node, 'dht.storeRefused')).toBe(cases.length + 1);
  });

  it('over the wire: a STORE from a neighbour is answered to it, a routed STORE retraces its path', async () => {
    const { swarm, nodes } = await mesh();
    const node = nodes[0]!;
    const neighbour = nodes.find((n) => node.neighbours.has(n.selfHex))!;
    const stranger = nodes.find((n) => n !== node && !n.neighbours.has(node.selfHex))!;
    const direct = await swarm.settle(
      neighbour.messenger.queryPeer(node.selfHex, 'STORE', { rid: 7, record: recordFor('wire.a', swarm.now) }),
    );
    expect(direct.reply).toEqual({ type: 'STORE_REPLY', body: { rid: 7, key: keyForName('wire.a'), ok: true } });
    expect(direct.info.hops).toBe(0);
    const routed = await swarm.settle(
      stranger.messenger.queryPeer(node.selfHex, 'STORE', {
        rid: 8,
        record: { ...recordFor('wire.b', swarm.now), ttl: 5 },
      }),
    );
    expect(routed.reply).toEqual({
      type: 'STORE_REPLY',
      body: { rid: 8, key: keyForName('wire.b'), ok: false, code: ErrorCode.BAD_SIGNATURE },
    });
    expect(routed.info.hops).toBeGreaterThan(0);
    expect(toHex(routed.info.from)).toBe(node.selfHex);
    expect(node.gateway.lookupValue(keyForName('wire.a')).ok).toBe(true);
    expect(node.gateway.lookupValue(keyForName('wire.b')).ok).toBe(false);
  });
});

describe('handleFindValue', () => {
  it('returns the records it holds (valid, of the kind asked), with its closest contacts', async () => {
    const { swarm, nodes } = await mesh();
    const node = nodes[1]!;
    const key = keyForName('svc.b');
    node.records.put(recordFor('svc.b', swarm.now), swarm.now);
    node.records.put(recordFor('svc.b', swarm.now, { by: other }), swarm.now);
    node.records.put(recordFor('svc.b', swarm.now, { kind: 'subscriber' }), swarm.now);
    const { replyTo, replies } = capture();
    node.gateway.handleFindValue({ rid: 3, key, kind: 'provider' }, replyTo);
    const found = replies[0]!;
    expect(found.type).toBe('FIND_VALUE_REPLY');
    if (found.type !== 'FIND_VALUE_REPLY') return;
    expect(found.body).toMatchObject({ rid: 3, key, kind: 'provider' });
    expect(found.body.records).toHaveLength(2);
    for (const r of found.body.records)
      expect(checkRecord(r, swarm.now, node.verify)).toMatchObject({ ok: true, record: { kind: 'provider' } });
    expect(found.body.nodes.map(toHex)).toEqual(kClosest(node, key));
    expect(counter(node, 'dht.valueServed')).toBe(1);
  });

  it('a node returns its closest contacts when it has no value', async () => {
    const { swarm, nodes } = await mesh(99, 30);
    // A node that knows more than k contacts, so "the k closest" is a real choice.
    const node = nodes.find((n) => n.table.size > n.k)!;
    expect(node).toBeDefined();
    for (const name of ['none.1', 'none.2', 'none.3']) {
      const key = keyForName(name);
      const missing = reply(
        node.gateway.handleQuery('FIND_VALUE', encodeFrame('FIND_VALUE', { rid: 4, key, kind: 'provider' })),
      );
      expect(missing.type).toBe('FIND_VALUE_REPLY');
      if (missing.type !== 'FIND_VALUE_REPLY') return;
      expect(missing.body.records).toEqual([]);
      expect(missing.body.nodes).toHaveLength(node.k);
      expect(missing.body.nodes.map(toHex)).toEqual(kClosest(node, key));
      expect(missing.body.nodes.map(toHex)).not.toContain(node.selfHex);
    }
    // An expired record is no value either.
    node.records.put(recordFor('short', swarm.now, { ttl: 1 }), swarm.now);
    await swarm.run(1_500);
    const expired = reply(
      node.gateway.handleQuery(
        'FIND_VALUE',
        encodeFrame('FIND_VALUE', { rid: 5, key: keyForName('short'), kind: 'provider' }),
      ),
    );
    expect(expired.type === 'FIND_VALUE_REPLY' && expired.body.records).toEqual([]);
  });
});

describe('handleFindNode', () => {
  it('returns exactly the k closest contacts of its routing table', async () => {
    const { swarm, nodes } = await mesh(99, 40);
    // Nodes that know more than k contacts, so that "the k closest" is a real choice.
    const knowing = nodes.filter((n) => n.table.size > n.k).slice(0, 5);
    expect(knowing.length).toBeGreaterThanOrEqual(3);
    for (const node of knowing) {
      for (const target of [swarm.random.bytes(32), node.self, nodes[7]!.self]) {
        const { replyTo, replies } = capture();
        node.gateway.handleFindNode({ rid: 5, target }, replyTo);
        const answer = replies[0]!;
        expect(answer.type === 'FIND_NODE_REPLY' && answer.body.rid).toBe(5);
        expect(answer.type === 'FIND_NODE_REPLY' && toHex(answer.body.target)).toBe(toHex(target));
        expect(answer.type === 'FIND_NODE_REPLY' && answer.body.nodes.map(toHex)).toEqual(kClosest(node, target));
      }
    }
  });

  it('marks the contacts it holds a channel to (linked), and only those', async () => {
    const { swarm, nodes } = await mesh(99, 40);
    let marked = 0;
    let unmarked = 0;
    for (const node of nodes.slice(0, 10)) {
      const { replyTo, replies } = capture();
      node.gateway.handleFindNode({ rid: 6, target: swarm.random.bytes(32) }, replyTo);
      const answer = replies[0]!;
      if (answer.type !== 'FIND_NODE_REPLY') throw new Error('no FIND_NODE_REPLY');
      const expected = answer.body.nodes.flatMap((id, i) => (node.neighbours.has(toHex(id)) ? [i] : []));
      expect(answer.body.linked ?? []).toEqual(expected);
      marked += expected.length;
      unmarked += answer.body.nodes.length - expected.length;
    }
    // Both kinds occur, or the check above proves nothing.
    expect(marked).toBeGreaterThan(0);
    expect(unmarked).toBeGreaterThan(0);
  });

  it('answers a neighbour over the wire with the same list', async () => {
    const { swarm, nodes } = await mesh();
    const node = nodes[2]!;
    const asker = nodes.find((n) => node.neighbours.has(n.selfHex))!;
    const target = swarm.random.bytes(32);
    const { reply: answer, info } = await swarm.settle(
      asker.messenger.queryPeer(node.selfHex, 'FIND_NODE', { rid: 77, target }),
    );
    expect(toHex(info.from)).toBe(node.selfHex);
    expect(answer.type === 'FIND_NODE_REPLY' && answer.body.nodes.map(toHex)).toEqual(kClosest(node, target));
  });
});

describe('handleQuery', () => {
  it('takes an encoded query and returns the encoded reply, for each query type', async () => {
    const { swarm, nodes } = await mesh();
    const node = nodes[0]!;
    const record = recordFor('q.svc', swarm.now);
    const key = record.key;
    const target = swarm.random.bytes(32);

    const stored = node.gateway.handleQuery('STORE', encodeFrame('STORE', { rid: 1, record }));
    expect(stored).toBeInstanceOf(Uint8Array);
    expect(reply(stored)).toEqual({ type: 'STORE_REPLY', body: { rid: 1, key, ok: true } });

    const value = reply(
      node.gateway.handleQuery('FIND_VALUE', encodeFrame('FIND_VALUE', { rid: 2, key, kind: 'provider' })),
    );
    expect(value.type === 'FIND_VALUE_REPLY' && value.body.records).toEqual([record]);

    const closest = reply(node.gateway.handleQuery('FIND_NODE', encodeFrame('FIND_NODE', { rid: 3, target })));
    expect(closest.type === 'FIND_NODE_REPLY' && closest.body.nodes.map(toHex)).toEqual(kClosest(node, target));

    const removal = signRemoval({ kind: 'provider', key, removedAt: swarm.now }, owner);
    expect(reply(node.gateway.handleQuery('REMOVE', encodeFrame('REMOVE', { rid: 4, removal })))).toEqual({
      type: 'STORE_REPLY',
      body: { rid: 4, key, ok: true },
    });
    expect(node.gateway.lookupValue(key)).toEqual({ ok: false, error: 'not_found' });
    // A removal signed by someone else is refused through the same path.
    const foreign = {
      ...signRemoval({ kind: 'provider', key, removedAt: swarm.now }, other),
      publicKey: owner.publicKey,
      nodeId: owner.nodeId,
    };
    expect(
      reply(node.gateway.handleQuery('REMOVE', encodeFrame('REMOVE', { rid: 5, removal: foreign }))).body,
    ).toMatchObject({ ok: false, code: ErrorCode.BAD_SIGNATURE });
  });

  it('throws MALFORMED on a frame of another type than announced, or on junk', async () => {
    const { nodes } = await mesh();
    const gw = nodes[0]!.gateway;
    const malformed = expect.objectContaining({ code: ErrorCode.MALFORMED });
    expect(() => gw.handleQuery('STORE', encodeFrame('PING', { rid: 1 }))).toThrowError(malformed);
    expect(() =>
      gw.handleQuery('FIND_NODE', encodeFrame('FIND_VALUE', { rid: 1, key: keyForName('x'), kind: 'provider' })),
    ).toThrowError(malformed);
    const frame = encodeFrame('FIND_NODE', { rid: 1, target: keyForName('x') });
    for (const junk of [
      new Uint8Array(0),
      new Uint8Array(3),
      frame.subarray(0, frame.length - 1),
      Uint8Array.from([9, ...frame.subarray(1)]),
    ]) {
      expect(() => gw.handleQuery('FIND_NODE', junk)).toThrowError(malformed);
    }
  });
});

describe('lookupValue', () => {
  it('reads local storage only: ok with the list, or not_found', async () => {
    const { swarm, nodes } = await mesh();
    const node = nodes[3]!;
    const key = keyForName('svc.c');
    expect(node.gateway.lookupValue(key)).toEqual({ ok: false, error: 'not_found' });
    // Another node holding it does not make it found here.
    nodes[4]!.records.put(recordFor('svc.c', swarm.now), swarm.now);
    expect(node.gateway.lookupValue(key)).toEqual({ ok: false, error: 'not_found' });
    const a = recordFor('svc.c', swarm.now, { ttl: 2 });
    const b = recordFor('svc.c', swarm.now + 1, { by: other });
    node.records.put(a, swarm.now);
    node.records.put(b, swarm.now);
    expect(node.gateway.lookupValue(key)).toEqual({ ok: true, value: [b, a] });
    expect(node.gateway.lookupValue(key, 'subscriber')).toEqual({ ok: false, error: 'not_found' });
    await swarm.run(2_500);
    expect(node.gateway.lookupValue(key)).toEqual({ ok: true, value: [b] });
  });
});

describe('queryPeer', () => {
  it('matches replies by request id: two concurrent queries to two different nodes each get their own', async () => {
    const { swarm, nodes } = await mesh();
    const asker = nodes[4]!;
    const a = nodes.find((n) => asker.neighbours.has(n.selfHex))!;
    const b = nodes.find((n) => n !== asker && !asker.neighbours.has(n.selfHex))!;
    b.records.put(recordFor('svc.q', swarm.now), swarm.now);
    const target = swarm.random.bytes(32);
    const [ra, rb] = await swarm.settle(
      Promise.all([
        asker.messenger.queryPeer(a.selfHex, 'FIND_NODE', { rid: 111, target }),
        asker.messenger.queryPeer(b.selfHex, 'FIND_VALUE', { rid: 222, key: keyForName('svc.q'), kind: 'provider' }),
      ]),
    );
    expect(ra.reply.type).toBe('FIND_NODE_REPLY');
    expect(ra.reply.body).toMatchObject({ rid: 111 });
    expect(toHex(ra.info.from)).toBe(a.selfHex);
    expect(ra.info.hops).toBe(0);
    expect(rb.reply.type).toBe('FIND_VALUE_REPLY');
    expect(rb.reply.body).toMatchObject({ rid: 222, records: [expect.anything()] });
    expect(toHex(rb.info.from)).toBe(b.selfHex);
    expect(rb.info.hops).toBeGreaterThan(0);
    expect(asker.messenger.requests.size).toBe(0);
  });

  it('replies arriving in the opposite order still reach their own queries; an unknown id is dropped and counted', async () => {
    const { swarm, nodes } = await mesh();
    const asker = nodes[4]!;
    const p1 = await puppet(swarm, asker, 501);
    const p2 = await puppet(swarm, asker, 502);
    const target = swarm.random.bytes(32);
    const q1 = asker.messenger.queryPeer(p1.hex, 'FIND_NODE', { rid: 1001, target });
    const q2 = asker.messenger.queryPeer(p2.hex, 'FIND_NODE', { rid: 1002, target });
    await swarm.run(500);
    expect(p1.received).toContainEqual({ type: 'FIND_NODE', body: { rid: 1001, target } });
    expect(p2.received).toContainEqual({ type: 'FIND_NODE', body: { rid: 1002, target } });
    const unmatchedBefore = counter(asker, 'replies.unmatched');
    p2.transport.send(
      asker.selfHex,
      encodeFrame('FIND_NODE_REPLY', { rid: 1002, target, nodes: [p2.identity.nodeId] }),
    );
    p1.transport.send(asker.selfHex, encodeFrame('FIND_NODE_REPLY', { rid: 9999, target, nodes: [] }));
    p1.transport.send(
      asker.selfHex,
      encodeFrame('FIND_NODE_REPLY', { rid: 1001, target, nodes: [p1.identity.nodeId] }),
    );
    const [r1, r2] = await swarm.settle(Promise.all([q1, q2]));
    expect(r1.reply.body).toMatchObject({ rid: 1001, nodes: [p1.identity.nodeId] });
    expect(toHex(r1.info.from)).toBe(p1.hex);
    expect(r2.reply.body).toMatchObject({ rid: 1002, nodes: [p2.identity.nodeId] });
    expect(toHex(r2.info.from)).toBe(p2.hex);
    expect(counter(asker, 'replies.unmatched')).toBe(unmatchedBefore + 1);
  });

  it('a query to a silent node rejects with TIMEOUT; its late reply is dropped and counted as replies.unmatched', async () => {
    const { swarm, nodes } = await mesh();
    const asker = nodes[4]!;
    const silent = await puppet(swarm, asker, 503);
    const target = swarm.random.bytes(32);
    const startedAt = swarm.now;
    let settled = 0;
    const query = asker.messenger.queryPeer(silent.hex, 'FIND_NODE', { rid: 333, target }, 2_000);
    query.then(
      () => settled++,
      () => settled++,
    );
    await expect(swarm.settle(query)).rejects.toMatchObject({ code: ErrorCode.TIMEOUT });
    expect(swarm.now - startedAt).toBeGreaterThanOrEqual(2_000);
    expect(silent.received).toContainEqual({ type: 'FIND_NODE', body: { rid: 333, target } });
    expect(asker.messenger.requests.has(333)).toBe(false);

    const unmatchedBefore = counter(asker, 'replies.unmatched');
    silent.transport.send(asker.selfHex, encodeFrame('FIND_NODE_REPLY', { rid: 333, target, nodes: [] }));
    await swarm.run(500);
    expect(counter(asker, 'replies.unmatched')).toBe(unmatchedBefore + 1);
    expect(settled).toBe(1);
  });

  it('a silent routed (non-neighbour) node times out too', async () => {
    const { swarm, nodes } = await mesh();
    const asker = nodes[4]!;
    const far = nodes.find((n) => n !== asker && !asker.neighbours.has(n.selfHex))!;
    swarm.fail(far, true);
    await expect(
      swarm.settle(asker.messenger.queryPeer(far.selfHex, 'FIND_NODE', { rid: 334, target: far.self }, 2_000)),
    ).rejects.toMatchObject({ code: ErrorCode.TIMEOUT });
  });

  it('a direct query fails NOT_CONNECTED when the channel closes first, or when nothing is open', async () => {
    const { swarm, nodes } = await mesh();
    const asker = nodes[4]!;
    const p = await puppet(swarm, asker, 504);
    const query = asker.messenger.queryPeer(p.hex, 'FIND_NODE', { rid: 335, target: p.identity.nodeId }, 5_000);
    p.transport.disconnect(asker.selfHex);
    await expect(swarm.settle(query, 1_000)).rejects.toMatchObject({ code: ErrorCode.NOT_CONNECTED });

    const loner = swarm.addNode();
    await expect(loner.messenger.queryPeer(asker.selfHex, 'PING', { rid: 1 })).rejects.toMatchObject({
      code: ErrorCode.NOT_CONNECTED,
    });
    expect(loner.messenger.requests.size).toBe(0);
  });

  it('a query to itself is answered locally', async () => {
    const { swarm, nodes } = await mesh();
    const node = nodes[6]!;
    node.records.put(recordFor('self.q', swarm.now), swarm.now);
    const { reply: answer, info } = await node.messenger.queryPeer(node.selfHex, 'FIND_VALUE', {
      rid: 336,
      key: keyForName('self.q'),
      kind: 'provider',
    });
    expect(answer.type === 'FIND_VALUE_REPLY' && answer.body.records).toHaveLength(1);
    expect(info.hops).toBe(0);
  });

  it('a routed PING to a live node is answered with PONG', async () => {
    const { swarm, nodes } = await mesh();
    const asker = nodes[4]!;
    const far = nodes.find((n) => n !== asker && !asker.neighbours.has(n.selfHex))!;
    const { reply: pong } = await swarm.settle(asker.messenger.queryPeer(far.selfHex, 'PING', { rid: 337 }, 4_000));
    expect(pong).toEqual({ type: 'PONG', body: { rid: 337 } });
  });

  // Regression (fixed in src/core/dht-node.ts onFrame, `case 'PONG'`): a PONG that arrived
  // straight from a neighbour went to Liveness.pong only, which ignores any rid but its own
  // ping's, and never reaches Gateway.settleReply. So queryPeer(neighbour, 'PING') always
  // times out — and Liveness.challengeOldest, which uses exactly that, evicts a live
  // neighbour from a full bucket as if it were dead.
  it('a direct PING to a live neighbour is answered with PONG', async () => {
    const { swarm, nodes } = await mesh();
    const asker = nodes[4]!;
    const neighbour = nodes.find((n) => asker.neighbours.has(n.selfHex))!;
    const { reply: pong } = await swarm.settle(
      asker.messenger.queryPeer(neighbour.selfHex, 'PING', { rid: 338 }, 2_000),
    );
    expect(pong).toEqual({ type: 'PONG', body: { rid: 338 } });
  });
});

describe('queryPeer with a caller-chosen request id', () => {
  // Regression (fixed in src/core/requests.ts PendingRequests.expect, which now refuses the
  // duplicate): a second request with an id that was still pending overwrote the first entry without cancelling its timer. The one
  // reply settles the second query; the first one's timer then finds nothing to delete, so
  // the first promise never settles at all. messenger.queryPeer takes the rid from its caller,
  // so any caller that reuses one hangs. Either refusing the duplicate (INVALID_ARGUMENT) or
  // timing the first out would do; never settling would not.
  it('two concurrent queries that reuse one pending id both settle', async () => {
    const { swarm, nodes } = await mesh();
    const asker = nodes[4]!;
    const [a, b] = nodes.filter((n) => asker.neighbours.has(n.selfHex));
    const target = swarm.random.bytes(32);
    const outcome = ['pending', 'pending'];
    const queries = [a!, b!].map((peer, i) => {
      const q = asker.messenger.queryPeer(peer.selfHex, 'FIND_NODE', { rid: 7, target }, 2_000);
      q.then(
        () => {
          outcome[i] = 'resolved';
        },
        (e: { code?: string }) => {
          outcome[i] = `rejected ${e.code}`;
        },
      );
      return q;
    });
    void queries;
    await swarm.run(10_000);
    expect(outcome.filter((o) => o === 'pending')).toEqual([]);
  });
});

describe('sendToPeer', () => {
  it('delivers fire-and-forget, straight to a neighbour and routed to a non-neighbour', async () => {
    const { swarm, nodes } = await mesh();
    const sender = nodes[5]!;
    const neighbour = nodes.find((n) => sender.neighbours.has(n.selfHex))!;
    const stranger = nodes.find((n) => n !== sender && !sender.neighbours.has(n.selfHex))!;
    const unmatchedBefore = counter(sender, 'replies.unmatched');

    const routedBefore = counter(neighbour, 'messages.routedIn.STORE');
    expect(
      sender.messenger.sendToPeer(neighbour.selfHex, 'STORE', { rid: 500, record: recordFor('fire.0', swarm.now) }),
    ).toBe(true);
    // Fire-and-forget: nothing waits for an answer.
    expect(sender.messenger.requests.size).toBe(0);
    await swarm.run(2_000);
    expect(neighbour.records.get(keyForName('fire.0'), 'provider', swarm.now)).toHaveLength(1);
    expect(counter(neighbour, 'messages.routedIn.STORE')).toBe(routedBefore);

    const strangerRoutedBefore = counter(stranger, 'messages.routedIn.STORE');
    expect(
      sender.messenger.sendToPeer(stranger.selfHex, 'STORE', { rid: 501, record: recordFor('fire.1', swarm.now) }),
    ).toBe(true);
    await swarm.run(2_000);
    expect(stranger.records.get(keyForName('fire.1'), 'provider', swarm.now)).toHaveLength(1);
    // At least ours: the neighbour that holds fire.0 may also hand it on to the stranger (replication).
    expect(counter(stranger, 'messages.routedIn.STORE')).toBeGreaterThan(strangerRoutedBefore);

    // The STORE_REPLYs nobody waited for come back and are counted, not delivered anywhere.
    expect(counter(sender, 'replies.unmatched')).toBe(unmatchedBefore + 2);
  });

  it('to itself handles the message locally; false with nothing open; INVALID_ARGUMENT for a junk id', async () => {
    const { swarm, nodes } = await mesh();
    const node = nodes[5]!;
    expect(
      node.messenger.sendToPeer(node.selfHex, 'STORE', { rid: 502, record: recordFor('fire.self', swarm.now) }),
    ).toBe(true);
    expect(node.gateway.lookupValue(keyForName('fire.self')).ok).toBe(true);

    const loner = swarm.addNode();
    expect(
      loner.messenger.sendToPeer(node.selfHex, 'STORE', { rid: 503, record: recordFor('fire.x', swarm.now) }),
    ).toBe(false);
    for (const junk of ['', 'xyz', node.selfHex.toUpperCase(), node.selfHex.slice(2)]) {
      expect(() => node.messenger.sendToPeer(junk, 'PING', { rid: 1 })).toThrowError(
        expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT }),
      );
    }
  });
});

describe('serve: the application layer', () => {
  /** A gateway on a typed fake context: it holds nothing, and records the replies it sends. */
  function gatewayAlone(): { gateway: Gateway; replies: Message[] } {
    const replies: Message[] = [];
    const self = createIdentity(seededRandom(3).bytes);
    const ctx: GatewayContext = {
      self: self.nodeId,
      selfHex: self.nodeIdHex,
      k: 20,
      alpha: 3,
      hopTimeoutMs: 5_000,
      clock: { now: () => 0, setTimer: () => () => undefined },
      random: seededRandom(4),
      verify: () => true,
      count: () => undefined,
      neighbours: new Map(),
      table: { closest: () => [] },
      placements: { take: () => [] },
      records: {
        get: () => [],
        put: () => ({ ok: true, replaced: false }),
        remove: () => ({ ok: false, code: ErrorCode.MALFORMED, reason: 'not used here' }),
      },
      messenger: {
        newId: () => 1,
        settle: () => undefined,
        queryPeer: () => Promise.reject(new Error('not used')),
        reply: (_replyTo, type, body) => void replies.push({ type, body } as Message),
      },
      returnRoutes: { remember: () => undefined },
      emit: () => undefined,
    };
    return { gateway: new Gateway(ctx), replies };
  }
  const call: Message = { type: 'CALL', body: { rid: 7, service: 'svc', args: 1 } };
  const local: ReplyTo = { kind: 'local', capture: () => undefined };

  it('without a handler, a CALL is refused with UNKNOWN_SERVICE', () => {
    const { gateway, replies } = gatewayAlone();
    gateway.dispatch(call, local);
    expect(replies).toEqual([
      { type: 'REPLY', body: { rid: 7, ok: false, code: 'UNKNOWN_SERVICE', message: 'no application layer' } },
    ]);
  });

  it('hands CALL and PUBLISH to the handler it serves, which answers them itself; a node serves one handler', () => {
    const { gateway, replies } = gatewayAlone();
    const seen: string[] = [];
    gateway.serve((message) => seen.push(message.type));
    gateway.dispatch(call, local);
    gateway.dispatch(
      {
        type: 'PUBLISH',
        body: {
          rid: 8,
          mid: new Uint8Array(16),
          topic: 't',
          payload: new Uint8Array(1),
          publicKey: new Uint8Array(32),
          at: 0,
          signature: new Uint8Array(64),
        },
      },
      local,
    );
    expect(seen).toEqual(['CALL', 'PUBLISH']);
    expect(replies).toEqual([]);
    expect(() => gateway.serve(() => undefined)).toThrowError(
      expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT }),
    );
  });
});
