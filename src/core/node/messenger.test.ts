import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame } from '../wire/codec.js';
import type { Neighbour, ReplyTo } from '../context.js';
import { seededRandom } from '../environment.js';
import { ErrorCode } from '../errors.js';
import { toHex, type NodeId } from '../id.js';
import type { Message, RouteMsg } from '../wire/messages.js';
import { EventQueue } from '../../sim/event-queue.js';
import { Messenger, type Inbound } from './messenger.js';
import { newNeighbour } from './neighbour-record.js';

const idStarting = (first: number): NodeId => {
  const id = new Uint8Array(32);
  id[0] = first;
  id[31] = 1;
  return id;
};

/**
 * A messenger at 0x40.. with one open channel (0x80..) that was heard from just now, and
 * `alive` as a live contact of its table. What it sends is recorded, decoded.
 */
function messengerWith(opts: { alive?: NodeId[] } = {}) {
  const clock = new EventQueue();
  const self = idStarting(0x40);
  const neighbourId = idStarting(0x80);
  const neighbour: Neighbour = newNeighbour(neighbourId, toHex(neighbourId), clock.now());
  const neighbours = new Map([[neighbour.idHex, neighbour]]);
  const alive = new Set((opts.alive ?? []).map(toHex));
  const sent: Array<{ to: string; message: Message }> = [];
  const counters = new Map<string, number>();
  const messenger = new Messenger({
    self,
    selfHex: toHex(self),
    k: 20,
    alpha: 3,
    hopTimeoutMs: 1_000,
    clock,
    random: seededRandom(7),
    verify: () => true,
    count: (name, by = 1) => counters.set(name, (counters.get(name) ?? 0) + by),
    transport: {
      frame: encodeFrame,
      send: (to, frame) => {
        const decoded = decodeFrame(frame);
        if (decoded.ok) sent.push({ to, message: decoded.message });
        return neighbours.has(to);
      },
      connect: () => undefined,
      disconnect: () => undefined,
    },
    neighbours,
    table: { isLive: (id) => alive.has(typeof id === 'string' ? id : toHex(id)) },
  });
  const outcomes: string[] = [];
  messenger.onFirstHopOutcome((hop, through) => outcomes.push(`${hop.slice(0, 2)} ${through ? 'through' : 'lost'}`));
  return { clock, self, neighbour, neighbours, messenger, sent, counters, outcomes };
}

/** The reply to `rid` as if it came back routed from `from` over one hop. */
const routedFrom = (from: NodeId, to: NodeId, via: NodeId): ReplyTo => {
  const envelope: RouteMsg = {
    dest: to,
    src: from,
    hops: 2,
    max: 10,
    exact: true,
    path: [from, via],
    hid: 0,
    body: new Uint8Array(),
  };
  return { kind: 'routed', envelope };
};

describe('Messenger: requests and their replies', () => {
  it('a request to a neighbour goes over its channel and settles by the reply that echoes its id', async () => {
    const { messenger, neighbour, sent } = messengerWith();
    const rid = messenger.newId();
    const query = messenger.queryPeer(neighbour.idHex, 'PING', { rid });
    expect(sent).toEqual([{ to: neighbour.idHex, message: { type: 'PING', body: { rid } } }]);
    messenger.settle({ type: 'PONG', body: { rid } }, { kind: 'direct', peer: neighbour.idHex, id: neighbour.id });
    await expect(query).resolves.toEqual({
      reply: { type: 'PONG', body: { rid } },
      info: { hops: 0, from: neighbour.id, path: [], by: neighbour.idHex },
    });
  });

  it('a request nobody answers times out with TIMEOUT', async () => {
    const { messenger, neighbour, clock } = messengerWith();
    const query = messenger.queryPeer(neighbour.idHex, 'PING', { rid: messenger.newId() }, 500);
    const outcome = query.then(
      () => 'answered',
      (e: { code: string }) => e.code,
    );
    await clock.runFor(499);
    await Promise.resolve();
    expect(messenger.requests.size).toBe(1);
    await clock.runFor(1);
    expect(await outcome).toBe(ErrorCode.TIMEOUT);
    expect(messenger.requests.size).toBe(0);
  });

  it('a reply after its request timed out finds nobody waiting: dropped and counted, never delivered', async () => {
    const { messenger, neighbour, clock, counters } = messengerWith();
    const rid = messenger.newId();
    let settled = 0;
    messenger.expect(
      rid,
      500,
      () => settled++,
      () => undefined,
      neighbour.idHex,
    );
    await clock.runFor(500);
    messenger.settle({ type: 'PONG', body: { rid } }, { kind: 'direct', peer: neighbour.idHex, id: neighbour.id });
    expect(settled).toBe(0);
    expect(counters.get('replies.unmatched')).toBe(1);
  });

  it('a request sent straight to a neighbour fails at once when its channel closes', async () => {
    const { messenger, neighbour } = messengerWith();
    const query = messenger.queryPeer(neighbour.idHex, 'PING', { rid: messenger.newId() });
    messenger.channelClosed(neighbour.idHex);
    await expect(query).rejects.toMatchObject({ code: ErrorCode.NOT_CONNECTED });
  });

  it('with no channel open, a query to another node is refused with NOT_CONNECTED and leaves nothing waiting', async () => {
    const { messenger, neighbours } = messengerWith();
    neighbours.clear();
    await expect(
      messenger.queryPeer(toHex(idStarting(0x10)), 'PING', { rid: messenger.newId() }),
    ).rejects.toMatchObject({ code: ErrorCode.NOT_CONNECTED });
    expect(messenger.requests.size).toBe(0);
  });
});

describe('Messenger: the first hop of routed requests', () => {
  it('a routed request that comes back counts for the neighbour it left through', async () => {
    const far = idStarting(0x90);
    const { messenger, neighbour, self, sent, outcomes } = messengerWith({ alive: [far] });
    const rid = messenger.newId();
    const query = messenger.queryPeer(toHex(far), 'FIND_NODE', { rid, target: far });
    expect(sent.map((s) => [s.to, s.message.type])).toEqual([[neighbour.idHex, 'RPC_ROUTE']]);
    messenger.settle(
      { type: 'FIND_NODE_REPLY', body: { rid, target: far, nodes: [] } },
      routedFrom(far, self, neighbour.id),
    );
    await expect(query).resolves.toMatchObject({ info: { hops: 2, from: far } });
    expect(outcomes).toEqual(['80 through']);
  });

  it('its timing out counts against that neighbour only when the destination is a contact known to be alive', async () => {
    const known = idStarting(0x90);
    const { messenger, clock, outcomes } = messengerWith({ alive: [known] });
    const a = messenger.queryPeer(toHex(known), 'PING', { rid: 3 }, 500).catch(() => undefined);
    const b = messenger.queryPeer(toHex(idStarting(0x91)), 'PING', { rid: 4 }, 500).catch(() => undefined);
    await clock.runFor(500);
    await Promise.all([a, b]);
    expect(outcomes).toEqual(['80 lost']);
  });

  it('originate records nothing about the first hop (a neighbour test scores itself)', async () => {
    const far = idStarting(0x90);
    const { messenger, neighbour, self, outcomes } = messengerWith({ alive: [far] });
    const rid = messenger.newId();
    let answered = false;
    messenger.expect(
      rid,
      500,
      () => {
        answered = true;
      },
      () => undefined,
    );
    expect(messenger.originate(far, true, 'FIND_NODE', { rid, target: far }, { firstHop: neighbour.id })).toBe(
      neighbour.idHex,
    );
    messenger.settle(
      { type: 'FIND_NODE_REPLY', body: { rid, target: far, nodes: [] } },
      routedFrom(far, self, neighbour.id),
    );
    expect(answered).toBe(true);
    expect(outcomes).toEqual([]);
  });
});

describe('Messenger: what arrives', () => {
  it('a query a node sends itself is answered by its own gateway and settles locally', async () => {
    const { messenger, self } = messengerWith();
    const inbound: Inbound = {
      answersHere: () => false,
      dispatch: (message, replyTo) => {
        if (message.type === 'PING') messenger.reply(replyTo, 'PONG', { rid: message.body.rid });
      },
    };
    messenger.deliverTo(inbound);
    const { reply, info } = await messenger.queryPeer(toHex(self), 'PING', { rid: 9 });
    expect(reply).toEqual({ type: 'PONG', body: { rid: 9 } });
    expect(info).toEqual({ hops: 0, from: self, path: [] });
  });

  it('is counted as unhandled until a gateway is attached, and only one gateway can be', () => {
    const { messenger, self, counters } = messengerWith();
    messenger.sendToPeer(toHex(self), 'PING', { rid: 1 });
    expect(counters.get('messages.unhandled')).toBe(1);
    const inbound: Inbound = { answersHere: () => false, dispatch: () => undefined };
    messenger.deliverTo(inbound);
    expect(() => messenger.deliverTo(inbound)).toThrowError(
      expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT }),
    );
  });

  it('answers a request the way it came: over the channel, or retracing the envelope', () => {
    const far = idStarting(0x90);
    const { messenger, neighbour, self, sent } = messengerWith();
    messenger.reply({ kind: 'direct', peer: neighbour.idHex, id: neighbour.id }, 'PONG', { rid: 5 });
    messenger.reply(routedFrom(far, self, neighbour.id), 'PONG', { rid: 6 });
    let captured: Uint8Array | undefined;
    messenger.reply(
      {
        kind: 'local',
        capture: (frame) => {
          captured = frame;
        },
      },
      'PONG',
      { rid: 7 },
    );
    expect(sent[0]).toEqual({ to: neighbour.idHex, message: { type: 'PONG', body: { rid: 5 } } });
    const routed = sent[1]!;
    expect(routed.to).toBe(neighbour.idHex);
    expect(routed.message.type === 'RPC_ROUTE' && routed.message.body.dest).toEqual(far);
    expect(captured).toEqual(encodeFrame('PONG', { rid: 7 }));
  });
});
