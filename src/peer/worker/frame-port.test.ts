import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../core/environment.js';
import { toHex } from '../../core/id.js';
import { createIdentity } from '../../core/identity.js';
import { LIAR_MEMORY_MS } from '../../core/defence/liars.js';
import { DEFAULT_FLOOD_LIMITS } from '../../core/defence/rate-limit.js';
import { DhtNode } from '../../core/node/dht-node.js';
import { encodeFrame, encodeValue } from '../../core/wire/codec.js';
import { signPublication } from '../../core/registry/publication.js';
import { EventQueue } from '../../sim/event-queue.js';
import { parseFromWorker, type FromWorker, type ToWorker } from '../bridge-protocol.js';
import { FramePort } from './frame-port.js';
import { PeerCore } from './peer-core.js';

/**
 * The worker's half of the bytes bridge, driven from the main thread's end of a real
 * MessageChannel: what the main thread's gate on inbound offers learns from the node
 * (verdicts with their length), and the budget count the node takes from it.
 */

const opened: MessagePort[] = [];
afterEach(() => {
  for (const p of opened.splice(0)) p.close();
});

function bridged(seed: number) {
  const channel = new MessageChannel();
  opened.push(channel.port1, channel.port2);
  const port = new FramePort(channel.port2);
  const random = seededRandom(seed);
  const clock = new EventQueue();
  const node = new DhtNode({ identity: createIdentity(random.bytes), transport: port.transport, clock, random });
  port.attach(node);
  const received: FromWorker[] = [];
  channel.port1.onmessage = (event: MessageEvent) => {
    const m = parseFromWorker(event.data);
    if (m !== null) received.push(m);
  };
  const toWorker = (m: ToWorker): void => channel.port1.postMessage(m);
  const peer = (): string => toHex(random.bytes(32));
  return { node, clock, received, toWorker, peer };
}

/** Let both ends of the channel deliver what is queued. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

/** Wait (in real time: the port delivers in its own tasks) until `done` holds, or give up after 5 s. */
async function until(done: () => boolean): Promise<void> {
  for (let waited = 0; !done() && waited < 5_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('worker half of the bytes bridge', () => {
  it("answers the page's heartbeat pings at once, each with its own number, and counts junk on the port", async () => {
    const { node, received, toWorker } = bridged(41);
    toWorker({ t: 'ping', n: 1 });
    toWorker({ t: 'ping', n: 2 });
    toWorker({ t: 'ping', n: -0.5 } as unknown as ToWorker);
    await until(() => received.length >= 2 && node.stats()['bridge.malformed'] === 1);
    expect(received).toEqual([
      { t: 'pong', n: 1 },
      { t: 'pong', n: 2 },
    ]);
    expect(node.stats()['bridge.malformed']).toBe(1);
  });

  it('a neighbour the node bans for flooding: its channel is closed and the ban goes to the main thread with its length', async () => {
    const { node, received, toWorker, peer } = bridged(1);
    const flooder = peer();
    toWorker({ t: 'open', peer: flooder });
    for (let i = 0; i < 1_000; i++)
      toWorker({ t: 'frame', peer: flooder, frame: encodeFrame('FIND_NODE', { rid: i, target: new Uint8Array(32) }) });
    await until(() => received.some((m) => m.t === 'refuse'));
    expect(node.flood!.isBanned(flooder, node.clock.now())).toBe(true);
    const about = received.filter((m) => 'peer' in m && m.peer === flooder && m.t !== 'send');
    expect(about).toEqual([
      { t: 'disconnect', peer: flooder },
      { t: 'refuse', peer: flooder, forMs: DEFAULT_FLOOD_LIMITS.banMs },
    ]);
  });

  it('a convicted neighbour is refused for what is left of its conviction; a neighbour dropped without a verdict is not', async () => {
    const { node, clock, received, toWorker, peer } = bridged(2);
    const [liar, quiet] = [peer(), peer()];
    toWorker({ t: 'open', peer: liar });
    toWorker({ t: 'open', peer: quiet });
    await until(() => node.neighbours.size === 2);
    await clock.runFor(1_000);
    node.contacts.convict(liar);
    node.neighbourSet.declareDead(quiet);
    await until(
      () => received.filter((m) => m.t === 'disconnect').length === 2 && received.some((m) => m.t === 'refuse'),
    );
    await settle();
    expect(received.filter((m) => m.t === 'refuse')).toEqual([{ t: 'refuse', peer: liar, forMs: LIAR_MEMORY_MS }]);
    expect(
      received
        .filter((m) => m.t === 'disconnect')
        .map((m) => (m as { peer: string }).peer)
        .sort(),
    ).toEqual([liar, quiet].sort());
  });

  it("the node's budget count follows what the main thread created", async () => {
    const { node, toWorker } = bridged(3);
    toWorker({ t: 'budget', created: 37 });
    await until(() => node.neighbourSet.connectionsCreated === 37);
    expect(node.neighbourSet.connectionsCreated).toBe(37);
    expect(node.stats()['connections.createdTotal']).toBe(37);
    toWorker({ t: 'budget', created: -1 } as unknown as ToWorker);
    await until(() => node.stats()['bridge.malformed'] === 1);
    expect(node.neighbourSet.connectionsCreated).toBe(37);
    expect(node.stats()['bridge.malformed']).toBe(1);
  });

  it('overlay signals: the node says whether it could route each one', async () => {
    const { received, toWorker, peer } = bridged(4);
    const target = peer();
    toWorker({ t: 'signal-out', id: 1, to: target, payload: new Uint8Array([1]) });
    toWorker({ t: 'open', peer: peer() });
    toWorker({ t: 'signal-out', id: 2, to: target, payload: new Uint8Array([2]) });
    await until(() => received.filter((m) => m.t === 'signal-routed').length === 2);
    expect(received.filter((m) => m.t === 'signal-routed')).toEqual([
      { t: 'signal-routed', id: 1, routed: false },
      { t: 'signal-routed', id: 2, routed: true },
    ]);
  });

  it('a CALL straight from a neighbour: the page is asked to answer it on the channel, and the node accounts for the REPLY it sent', async () => {
    const channel = new MessageChannel();
    opened.push(channel.port1, channel.port2);
    const port = new FramePort(channel.port2);
    const random = seededRandom(5);
    const core = new PeerCore({
      identity: createIdentity(random.bytes),
      transport: port.transport,
      clock: new EventQueue(),
      random,
      handlers: {
        invoke: () => Promise.reject(new Error('a direct CALL must not go this way')),
        answerDirect: (service, args, caller, peer, rid) => port.invoke(service, args, caller, peer, rid),
      },
    });
    port.attach(core.node);
    core.registry.advertiseLocal('svc.echo', (args) => args);
    const received: FromWorker[] = [];
    channel.port1.onmessage = (event: MessageEvent) => {
      const m = parseFromWorker(event.data);
      if (m !== null) received.push(m);
    };
    const caller = toHex(random.bytes(32));
    channel.port1.postMessage({ t: 'open', peer: caller } satisfies ToWorker);
    const call = (rid: number): ToWorker => ({
      t: 'frame',
      peer: caller,
      frame: encodeFrame('CALL', { rid, service: 'svc.echo', args: { n: rid } }),
    });
    channel.port1.postMessage(call(5));
    await until(() => received.some((m) => m.t === 'invoke'));
    const invoke = received.find((m) => m.t === 'invoke')!;
    expect(invoke).toMatchObject({ service: 'svc.echo', args: { n: 5 }, caller, peer: caller, rid: 5 });
    expect(core.rpc.load.calls).toBe(1);
    // The page sent the REPLY: the node counts it as its own and posts nothing for it.
    const head = encodeFrame('REPLY', { rid: 5, ok: true, result: { n: 5 } }).slice(0, 8);
    channel.port1.postMessage({ t: 'invoked', id: (invoke as { id: number }).id, head } satisfies ToWorker);
    await until(() => core.rpc.load.calls === 0);
    expect(core.node.stats()['messages.out.REPLY']).toBe(1);
    // The channel had closed by the time the handler ended: nothing went out, the slot is free all the same.
    channel.port1.postMessage(call(6));
    await until(() => received.filter((m) => m.t === 'invoke').length === 2);
    const second = received.filter((m) => m.t === 'invoke')[1] as { id: number };
    channel.port1.postMessage({ t: 'invoked', id: second.id } satisfies ToWorker);
    await until(() => core.rpc.load.calls === 0);
    await settle();
    expect(core.node.stats()['messages.out.REPLY']).toBe(1);
    expect(received.filter((m) => m.t === 'send' && m.frame[1] === 0x21)).toEqual([]);
    expect(core.node.stats()['rpc.served']).toBe(2);
  });

  it('a PUBLISH the page took: counted and remembered, neither delivered nor acknowledged again; a copy later is a duplicate', async () => {
    const channel = new MessageChannel();
    opened.push(channel.port1, channel.port2);
    const port = new FramePort(channel.port2);
    const random = seededRandom(6);
    const delivered: string[] = [];
    const clock = new EventQueue();
    const core = new PeerCore({
      identity: createIdentity(random.bytes),
      transport: port.transport,
      clock,
      random,
      sink: { deliver: (_ids, _topic, _payload, _publisher, mid) => delivered.push(mid) },
      takenOnPage: (peer) => port.takenOnPage(peer),
    });
    port.attach(core.node);
    await core.subscribe('chat.lobby');
    const received: FromWorker[] = [];
    channel.port1.onmessage = (event: MessageEvent) => {
      const m = parseFromWorker(event.data);
      if (m !== null) received.push(m);
    };
    const neighbour = toHex(random.bytes(32));
    const publisher = createIdentity(random.bytes);
    const mid = random.bytes(16);
    const frame = (rid: number): Uint8Array =>
      encodeFrame('PUBLISH', {
        rid,
        ...signPublication(publisher, { mid, topic: 'chat.lobby', payload: encodeValue(1), at: clock.now() }),
      });
    channel.port1.postMessage({ t: 'open', peer: neighbour } satisfies ToWorker);
    const head = encodeFrame('REPLY', { rid: 1, ok: true, result: 1 }).slice(0, 8);
    channel.port1.postMessage({ t: 'frame', peer: neighbour, frame: frame(1), taken: head } satisfies ToWorker);
    await until(() => core.node.stats()['pubsub.takenOnPage'] === 1);
    const stats = core.node.stats();
    expect(stats['pubsub.received']).toBe(1);
    expect(stats['messages.out.REPLY']).toBe(1);
    expect(stats['signatures.preverified'] ?? 0).toBe(0);
    expect(delivered).toEqual([]);
    // The same message again, not taken by the page: the node knows it, acknowledges it and delivers nothing.
    channel.port1.postMessage({ t: 'frame', peer: neighbour, frame: frame(2) } satisfies ToWorker);
    await until(() => core.node.stats()['pubsub.duplicates'] === 1);
    await settle();
    expect(delivered).toEqual([]);
    const replies = received.filter((m) => m.t === 'send' && m.frame[1] === 0x21);
    expect(replies).toHaveLength(1);
    // The channel had closed before the page could acknowledge: nothing is accounted as sent.
    channel.port1.postMessage({
      t: 'frame',
      peer: neighbour,
      frame: encodeFrame('PUBLISH', {
        rid: 3,
        ...signPublication(publisher, {
          mid: random.bytes(16),
          topic: 'chat.lobby',
          payload: encodeValue(2),
          at: clock.now(),
        }),
      }),
      taken: new Uint8Array(0),
    } satisfies ToWorker);
    await until(() => core.node.stats()['pubsub.takenOnPage'] === 2);
    await settle();
    expect(core.node.stats()['messages.out.REPLY']).toBe(2);
    expect(received.filter((m) => m.t === 'send' && m.frame[1] === 0x21)).toHaveLength(1);
  });
});
