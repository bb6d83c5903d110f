import { encode } from '@msgpack/msgpack';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../sim/event-queue.js';
import { decodeFrame, encodeFrame } from '../wire/codec.js';
import {
  HOP_TIMEOUT_MS,
  MAX_ENDPOINT_CHARS,
  MAX_ENTRIES_PER_KEY,
  MAX_KEYS_PER_OWNER,
  MAX_METADATA_BYTES,
  MAX_STORED_KEYS,
} from '../constants.js';
import { DhtNode, type DhtNodeOptions } from './dht-node.js';
import { seededRandom, type Random } from '../environment.js';
import { fromHex, keyForName, toHex } from '../id.js';
import { createIdentity, verify as realVerify, type Identity } from '../identity.js';
import { DEFAULT_FLOOD_LIMITS, floodClassOf, OUTBOUND_SHARE } from '../defence/rate-limit.js';
import { MAX_STORED_ENTRIES } from '../records/store-bounds.js';
import { checkRecord, signRecord, type SignedRecord } from '../records/records.js';
import { MAX_CALLS_PER_CALLER, MAX_CALLS_PER_NEIGHBOUR, MAX_RUNNING_CALLS, Rpc } from '../registry/rpc.js';

/**
 * One node and its hostile neighbours, frame by frame on a virtual clock: floods are
 * limited then cut off, storage stays within its bounds whatever the number of key pairs,
 * and nothing keyed by what a neighbour sends grows without bound.
 */

interface Harness {
  node: DhtNode;
  clock: EventQueue;
  sent: Array<{ peer: string; frame: Uint8Array }>;
  disconnected: string[];
  dialled: string[];
}

function harness(seed: number, opts: Partial<DhtNodeOptions> = {}): Harness {
  const clock = new EventQueue();
  const sent: Harness['sent'] = [];
  const disconnected: string[] = [];
  const dialled: string[] = [];
  const random = seededRandom(seed);
  const node = new DhtNode({
    identity: createIdentity(random.bytes),
    clock,
    random,
    transport: {
      send: (peer, frame) => {
        sent.push({ peer, frame });
        return true;
      },
      connect: (peer) => dialled.push(peer),
      disconnect: (peer) => disconnected.push(peer),
    },
    ...opts,
  });
  return { node, clock, sent, disconnected, dialled };
}

const idOf = (r: Random): string => toHex(r.bytes(32));

describe('a neighbour that floods', () => {
  const r = seededRandom(1);
  const floods: Array<[string, (i: number) => Uint8Array]> = [
    ['FIND_VALUE', (i) => encodeFrame('FIND_VALUE', { rid: i, key: keyForName(`k${i}`), kind: 'provider' })],
    ['FIND_NODE', (i) => encodeFrame('FIND_NODE', { rid: i, target: r.bytes(32) })],
    ['STORE', (i) => encodeFrame('STORE', { rid: i, record: { junk: i } })],
    ['CALL', (i) => encodeFrame('CALL', { rid: i, service: 'svc', args: i })],
    [
      'RPC_ROUTE',
      (i) =>
        encodeFrame('RPC_ROUTE', {
          dest: r.bytes(32),
          src: r.bytes(32),
          hops: 0,
          max: 10,
          exact: false,
          path: [],
          hid: 0,
          body: encodeFrame('PING', { rid: i }),
        }),
    ],
    ['PING', (i) => encodeFrame('PING', { rid: i })],
  ];

  for (const [type, frame] of floods) {
    it(`with ${type} is limited to its class's burst, then disconnected, banned and not dialled again`, () => {
      const h = harness(2);
      const attacker = idOf(r);
      const honest = idOf(r);
      h.node.onChannelOpen(attacker);
      h.node.onChannelOpen(honest);
      for (let i = 0; i < 10_000; i++) h.node.onFrame(attacker, frame(i));
      const stats = h.node.stats();
      // Everything past the burst was dropped unread; the strikes ran out after 100 of them.
      expect(stats['flood.limited']).toBe(DEFAULT_FLOOD_LIMITS.strikes.burst + 1);
      expect(stats['flood.disconnected']).toBe(1);
      expect(h.disconnected).toEqual([attacker]);
      expect(h.node.neighbours.has(attacker)).toBe(false);
      expect(h.node.table.get(attacker)).toBeUndefined();
      expect(stats['frames.fromStranger']).toBe(10_000 - stats['flood.limited']! - (stats['messages.in'] ?? 0));
      expect(stats['messages.in']).toBe(DEFAULT_FLOOD_LIMITS.classes[floodClassOf(frame(0))].burst);

      // The honest neighbour is untouched and still answered.
      h.node.onFrame(honest, encodeFrame('PING', { rid: 77 }));
      expect(decodeFrame(h.sent.at(-1)!.frame)).toEqual({ ok: true, message: { type: 'PONG', body: { rid: 77 } } });

      // Banned: a channel it opens again is closed at once, and the neighbour policy does not dial it,
      // even when it is the only contact known besides the honest one.
      h.node.onChannelOpen(attacker);
      expect(h.node.neighbours.has(attacker)).toBe(false);
      expect(h.node.stats()['flood.refusedBanned']).toBe(1);
      h.node.contacts.learn(fromHex(attacker), true);
      h.node.neighbourSet.review(h.clock.now() + 60_000);
      expect(h.dialled).not.toContain(attacker);
    });
  }

  it('is accepted again once its ban is over', async () => {
    const h = harness(3);
    const attacker = idOf(r);
    h.node.onChannelOpen(attacker);
    const flood = DEFAULT_FLOOD_LIMITS.classes.control.burst + DEFAULT_FLOOD_LIMITS.strikes.burst + 1;
    for (let i = 0; i < flood; i++) h.node.onFrame(attacker, encodeFrame('PING', { rid: i }));
    expect(h.node.neighbours.has(attacker)).toBe(false);
    await h.clock.runFor(DEFAULT_FLOOD_LIMITS.banMs);
    h.node.onChannelOpen(attacker);
    expect(h.node.neighbours.has(attacker)).toBe(true);
  });

  it('at the limits every class allows, for a minute, is never limited', async () => {
    const h = harness(4);
    const busy = idOf(r);
    h.node.onChannelOpen(busy);
    const before = h.sent.length;
    const perTick = (c: keyof typeof DEFAULT_FLOOD_LIMITS.classes): number =>
      DEFAULT_FLOOD_LIMITS.classes[c].perSecond / 10;
    for (let tick = 0; tick < 600; tick++) {
      for (let i = 0; i < perTick('lookup'); i++)
        h.node.onFrame(busy, encodeFrame('FIND_NODE', { rid: i, target: r.bytes(32) }));
      for (let i = 0; i < perTick('control'); i++) h.node.onFrame(busy, encodeFrame('ROUTE_ACK', { hid: i + 1 }));
      await h.clock.runFor(100);
    }
    expect(h.node.stats()['flood.limited'] ?? 0).toBe(0);
    expect(h.node.neighbours.has(busy)).toBe(true);
    expect(h.sent.length - before).toBeGreaterThanOrEqual(600 * perTick('lookup'));
  });

  it('with routed envelopes towards a quiet neighbour, even from ever new ids, leaves a bounded number of hops awaiting acknowledgement', async () => {
    const h = harness(5);
    const attacker = idOf(r);
    const quiet = idOf(r);
    h.node.onChannelOpen(attacker);
    h.node.onChannelOpen(quiet);
    await h.clock.runFor(5_000); // the quiet neighbour must now acknowledge each hop
    let peak = 0;
    for (let round = 0; round < 20; round++) {
      if (!h.node.neighbours.has(attacker))
        h.node.onChannelOpen(`${round.toString(16).padStart(2, '0')}${attacker.slice(2)}`);
      const from = [...h.node.neighbours.keys()].find((p) => p !== quiet)!;
      for (let i = 0; i < 5_000; i++) {
        h.node.onFrame(
          from,
          encodeFrame('RPC_ROUTE', {
            dest: fromHex(quiet),
            src: r.bytes(32),
            hops: 0,
            max: 10,
            exact: true,
            path: [],
            hid: 0,
            body: encodeFrame('PING', { rid: i }),
          }),
        );
      }
      peak = Math.max(peak, h.node.messenger.router.pendingHops);
      await h.clock.runFor(1_000);
    }
    // What this node lets itself send the quiet neighbour within one acknowledgement timeout.
    const route = DEFAULT_FLOOD_LIMITS.classes.route;
    const bound = Math.floor(route.burst * OUTBOUND_SHARE) + (route.perSecond * OUTBOUND_SHARE * HOP_TIMEOUT_MS) / 1000;
    expect(peak).toBeGreaterThan(route.burst);
    expect(peak).toBeLessThanOrEqual(bound);
    expect(h.node.stats()['flood.shed']).toBeGreaterThan(0);
    await h.clock.runFor(60_000);
    expect(h.node.messenger.router.pendingHops).toBe(0);
  }, 30_000);
});

/** Records of attacker key pairs. The verifier accepts any signature here: bounds do not depend on it, and 60,000 real signatures would take a minute. */
function attackerRecord(r: Random, key: Uint8Array, largest = false, now = 1_700_000_000_000): SignedRecord {
  const publicKey = r.bytes(32);
  return {
    kind: 'provider',
    key,
    publicKey,
    nodeId: sha256(publicKey),
    endpoint: largest ? 'e'.repeat(MAX_ENDPOINT_CHARS) : 'e',
    metadata: largest ? { pad: 'm'.repeat(MAX_METADATA_BYTES - 16) } : {},
    advertisedAt: now,
    ttl: 86_400,
    signature: r.bytes(64),
  };
}

function storeFrom(h: Harness, peer: string, record: unknown, rid: number): boolean {
  const before = h.sent.length;
  h.node.onFrame(peer, encodeFrame('STORE', { rid, record }));
  const reply = h.sent
    .slice(before)
    .map((s) => decodeFrame(s.frame))
    .find((d) => d.ok && d.message.type === 'STORE_REPLY');
  return reply?.ok === true && reply.message.type === 'STORE_REPLY' && reply.message.body.ok;
}

describe('storage exhaustion by many key pairs', () => {
  it('per-key, per-owner and total bounds hold; honest records stored before the attack stay and can be refreshed', async () => {
    const r = seededRandom(6);
    // Flood limits are off: the attacker is assumed to spread its STOREs over enough neighbours and time.
    const honestOwners: Identity[] = Array.from({ length: 5 }, (_, i) => createIdentity(seededRandom(100 + i).bytes));
    const honestKeys = new Set(honestOwners.map((o) => toHex(o.publicKey)));
    const h = harness(7, {
      flood: false,
      verify: (sig, msg, pk) => (honestKeys.has(toHex(pk)) ? realVerify(sig, msg, pk) : true),
    });
    const neighbour = idOf(r);
    h.node.onChannelOpen(neighbour);
    const now = h.clock.now();
    const honest = honestOwners.map((o, i) =>
      signRecord(
        {
          kind: 'provider',
          key: keyForName(`honest.${i}`),
          endpoint: `peer:${o.nodeIdHex}`,
          metadata: { i },
          advertisedAt: now,
          ttl: 300,
        },
        o,
      ),
    );
    honest.forEach((rec, i) => expect(storeFrom(h, neighbour, rec, i)).toBe(true));

    // (1) One key, 1,000 owners: the key holds MAX_ENTRIES_PER_KEY of them.
    const hot = honest[0]!.key;
    let accepted = 0;
    for (let i = 0; i < 1_000; i++) if (storeFrom(h, neighbour, attackerRecord(r, hot, true), i)) accepted++;
    expect(accepted).toBe(MAX_ENTRIES_PER_KEY - 1);
    expect(h.node.stats()['dht.storeRefused.KEY_FULL']).toBe(1_000 - accepted);

    // (2) One owner, many keys: MAX_KEYS_PER_OWNER of them.
    const one = attackerRecord(r, hot);
    accepted = 0;
    for (let i = 0; i < 200; i++) if (storeFrom(h, neighbour, { ...one, key: keyForName(`owner.${i}`) }, i)) accepted++;
    expect(accepted).toBe(MAX_KEYS_PER_OWNER);

    // (3) Many owners over many keys, until the store is full: 1,000 owners × 64 keys.
    const keys = Array.from({ length: MAX_STORED_KEYS + 2_000 }, () => r.bytes(32));
    let k = 0;
    for (let owner = 0; owner < 1_000; owner++) {
      const base = attackerRecord(r, keys[0]!);
      for (let j = 0; j < MAX_KEYS_PER_OWNER; j++)
        h.node.onFrame(neighbour, encodeFrame('STORE', { rid: j, record: { ...base, key: keys[k++ % keys.length]! } }));
    }
    h.sent.length = 0;
    const stats = h.node.records.stats();
    expect(stats.keys).toBeLessThanOrEqual(MAX_STORED_KEYS);
    expect(stats.entries).toBe(MAX_STORED_ENTRIES);
    expect(h.node.stats()['dht.storeRefused.STORE_FULL']).toBeGreaterThan(10_000);
    // Memory: at most MAX_STORED_ENTRIES × the largest record a check lets through.
    const bytes = h.node.records.toJSON(h.clock.now()).entries.reduce((sum, e) => sum + encode(e.record).length, 0);
    const largest = encode(attackerRecord(r, hot, true)).length;
    expect(bytes).toBeLessThanOrEqual(MAX_STORED_ENTRIES * largest);

    // Every honest record is still served, and its owner's re-advertisement is accepted though the store is full.
    for (const rec of honest) expect(h.node.records.get(rec.key, 'provider', h.clock.now())).toContainEqual(rec);
    const refreshed = signRecord({ ...honest[1]!, advertisedAt: h.clock.now() + 1 }, honestOwners[1]!);
    expect(storeFrom(h, neighbour, refreshed, 1)).toBe(true);
    // What the bounds do not give: a newcomer is refused until attacker entries expire (first come, first served).
    const newcomer = createIdentity(seededRandom(200).bytes);
    honestKeys.add(toHex(newcomer.publicKey));
    const late = signRecord(
      {
        kind: 'provider',
        key: keyForName('late'),
        endpoint: 'peer:x',
        metadata: {},
        advertisedAt: h.clock.now(),
        ttl: 300,
      },
      newcomer,
    );
    expect(storeFrom(h, neighbour, late, 1)).toBe(false);
    await h.clock.runFor(86_400_000);
    h.node.tick();
    expect(storeFrom(h, neighbour, { ...late }, 2)).toBe(false); // its own advertisedAt is a day old by now: expired
    const fresh = signRecord({ ...late, advertisedAt: h.clock.now() }, newcomer);
    expect(storeFrom(h, neighbour, fresh, 3)).toBe(true);
    expect(h.node.records.stats().entries).toBe(1);
    for (const { key, kind } of h.node.records.slotKeys()) {
      for (const e of h.node.records.entriesForKey(key, kind))
        expect(checkRecord(e.record, h.clock.now(), realVerify).ok).toBe(true);
    }
  }, 60_000);
});

describe('calls from made-up callers', () => {
  const never = new Promise<unknown>(() => undefined);
  const provider = (h: Harness): Rpc =>
    new Rpc(
      h.node,
      { discover: async () => [], forgetProvider: () => undefined },
      { has: () => true, invoke: () => never },
    );
  const envelope = (h: Harness, src: Uint8Array, hop: Uint8Array) => ({
    dest: h.node.self,
    src,
    hops: 1,
    max: 10,
    exact: true,
    path: [hop],
    hid: 0,
    body: new Uint8Array(),
  });

  it('run at most MAX_RUNNING_CALLS at once, whatever ids the envelopes and neighbours claim; the rest are answered BUSY', () => {
    const h = harness(8);
    const r = seededRandom(9);
    const rpc = provider(h);
    for (let i = 0; i < 2_000; i++) {
      const hop = r.bytes(32);
      rpc.handleCall(
        { rid: i, service: 'svc', args: i },
        { kind: 'routed', envelope: envelope(h, r.bytes(32), hop), from: toHex(hop) },
      );
    }
    expect(rpc.load).toEqual({ calls: MAX_RUNNING_CALLS, callers: MAX_RUNNING_CALLS, neighbours: MAX_RUNNING_CALLS });
    expect(h.node.stats()['rpc.busy']).toBe(2_000 - MAX_RUNNING_CALLS);
  });

  it('handed over by one neighbour with ever new sources, take that neighbour’s share, not every slot: honest callers are still served', () => {
    const h = harness(10);
    const r = seededRandom(11);
    const rpc = provider(h);
    const attacker = r.bytes(32);
    for (let i = 0; i < 2_000; i++)
      rpc.handleCall(
        { rid: i, service: 'svc', args: i },
        // The attacker also writes an honest-looking neighbour into the path: only `from` counts.
        { kind: 'routed', envelope: envelope(h, r.bytes(32), r.bytes(32)), from: toHex(attacker) },
      );
    // Before: every one of the 256 slots (16 per made-up source).
    expect(rpc.load).toEqual({ calls: MAX_CALLS_PER_NEIGHBOUR, callers: MAX_CALLS_PER_NEIGHBOUR, neighbours: 1 });
    const busyBefore = h.node.stats()['rpc.busy'];
    // An honest caller routed through another neighbour, and one of our neighbours calling directly, run.
    const honestHop = r.bytes(32);
    const honestCaller = r.bytes(32);
    for (let i = 0; i < MAX_CALLS_PER_CALLER; i++)
      rpc.handleCall(
        { rid: 10_000 + i, service: 'svc', args: i },
        { kind: 'routed', envelope: envelope(h, honestCaller, honestHop), from: toHex(honestHop) },
      );
    const neighbour = r.bytes(32);
    rpc.handleCall({ rid: 20_000, service: 'svc', args: 0 }, { kind: 'direct', peer: toHex(neighbour), id: neighbour });
    expect(h.node.stats()['rpc.busy']).toBe(busyBefore);
    expect(rpc.load.calls).toBe(MAX_CALLS_PER_NEIGHBOUR + MAX_CALLS_PER_CALLER + 1);
    // A source claimed through two neighbours is two callers; through one, the per-caller bound holds.
    rpc.handleCall(
      { rid: 30_000, service: 'svc', args: 0 },
      { kind: 'routed', envelope: envelope(h, honestCaller, honestHop), from: toHex(honestHop) },
    );
    expect(h.node.stats()['rpc.busy']).toBe(busyBefore! + 1);
  });
});

describe('a neighbour convicted of making ids up', () => {
  it('loses its channel and its contact, is neither learnt nor accepted again while remembered, and a node left alone joins again', () => {
    const h = harness(7);
    const r = seededRandom(8);
    const liar = idOf(r);
    h.node.onChannelOpen(liar);
    expect(h.node.table.has(fromHex(liar))).toBe(true);

    h.node.contacts.convict(liar);
    expect(h.disconnected).toContain(liar);
    expect(h.node.neighbours.has(liar)).toBe(false);
    expect(h.node.table.has(fromHex(liar))).toBe(false);
    expect(h.node.stats()['contacts.convicted']).toBe(1);
    h.node.contacts.learn(fromHex(liar), true);
    expect(h.node.table.has(fromHex(liar))).toBe(false);
    h.node.onChannelOpen(liar);
    expect(h.node.neighbours.has(liar)).toBe(false);
    expect(h.node.stats()['contacts.refusedLiar']).toBe(1);

    // It was the only neighbour: the next channel (the relay's introduction) starts a join.
    const sentBefore = h.sent.length;
    const introduced = idOf(r);
    h.node.onChannelOpen(introduced);
    expect(h.node.stats()['rejoins']).toBe(1);
    const lookups = h.sent
      .slice(sentBefore)
      .map((s) => decodeFrame(s.frame))
      .filter((d) => d.ok && d.message.type === 'RPC_ROUTE');
    expect(lookups.length).toBeGreaterThan(0);
  });
});
