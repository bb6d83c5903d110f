import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom, systemClock } from '../../core/environment.js';
import { toHex, type IdHex } from '../../core/id.js';
import { createIdentity } from '../../core/identity.js';
import { acknowledgementFrame, replyFrame } from '../../core/registry/call-reply.js';
import { signPublication } from '../../core/registry/publication.js';
import { encodeFrame, encodeValue } from '../../core/wire/codec.js';
import { webEd25519 } from '../../crypto/web-ed25519.js';
import { asyncEd25519, type AsyncEd25519 } from '../../crypto/async-ed25519.js';
import { newSignalSession, type StampedSignal } from '../../signaling/protocol.js';
import { AppCallbacks } from './app-callbacks.js';
import { PagePublications } from './page-publications.js';
import { parseToWorker, type FromWorker, type ToWorker } from '../bridge-protocol.js';
import { FramePump, type PumpedChannels } from './frame-pump.js';

/**
 * The page's half of the bytes bridge answering the CALLs the worker hands it (`invoke`):
 * the app's handler runs here, its REPLY goes on the caller's channel from here, and the
 * worker hears that it did (`invoked`, with the frame's header) or that the channel had closed.
 */

const opened: MessagePort[] = [];
afterEach(() => {
  for (const p of opened.splice(0)) p.close();
});

async function until(done: () => boolean): Promise<void> {
  for (let waited = 0; !done() && waited < 5_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
}

function pumped(open: boolean) {
  const channel = new MessageChannel();
  opened.push(channel.port1, channel.port2);
  const random = seededRandom(9);
  const pump = new FramePump(channel.port1, createIdentity(random.bytes), systemClock);
  const sent: Array<{ peer: string; frame: Uint8Array }> = [];
  const channels: PumpedChannels = {
    send: (peer, frame) => {
      if (open) sent.push({ peer, frame });
      return open;
    },
    connect: () => true,
    disconnect: () => undefined,
    signal: () => undefined,
    refuse: () => undefined,
    stats: { created: 0 },
  };
  pump.drive(channels, {
    has: (serviceId) => serviceId === 'svc.echo',
    run: async (serviceId, args) =>
      serviceId === 'svc.echo' ? { ok: true, result: args } : { ok: false, error: new Error(`no ${serviceId}`) },
  });
  const toWorker: ToWorker[] = [];
  channel.port2.onmessage = (event: MessageEvent) => {
    const m = parseToWorker(event.data);
    if (m !== null) toWorker.push(m);
  };
  const fromWorker = (m: FromWorker): void => channel.port2.postMessage(m);
  return { pump, sent, toWorker, fromWorker, peer: toHex(random.bytes(32)) };
}

describe('page half of the bytes bridge: CALLs answered on the channel', () => {
  it("runs the handler, sends the REPLY on the caller's channel and gives the worker its header", async () => {
    const { sent, toWorker, fromWorker, peer } = pumped(true);
    fromWorker({ t: 'invoke', id: 1, service: 'svc.echo', args: { a: 1 }, caller: peer, peer, rid: 77 });
    fromWorker({ t: 'invoke', id: 2, service: 'svc.none', args: null, caller: peer, peer, rid: 78 });
    await until(() => toWorker.length === 2);
    const echo = replyFrame('svc.echo', 77, { ok: true, result: { a: 1 } });
    const none = replyFrame('svc.none', 78, { ok: false, error: new Error('no svc.none') });
    expect(sent).toEqual([
      { peer, frame: echo },
      { peer, frame: none },
    ]);
    expect(toWorker).toEqual([
      { t: 'invoked', id: 1, head: echo.slice(0, 8) },
      { t: 'invoked', id: 2, head: none.slice(0, 8) },
    ]);
  });

  it('a channel closed meanwhile: the worker hears that nothing went out', async () => {
    const { sent, toWorker, fromWorker, peer } = pumped(false);
    fromWorker({ t: 'invoke', id: 3, service: 'svc.echo', args: 1, caller: peer, peer, rid: 5 });
    await until(() => toWorker.length === 1);
    expect(sent).toEqual([]);
    expect(toWorker).toEqual([{ t: 'invoked', id: 3 }]);
  });

  it('a publication the page takes reaches the worker marked, in its place: what came after waits behind it, the heartbeat does not', async () => {
    const channel = new MessageChannel();
    opened.push(channel.port1, channel.port2);
    const random = seededRandom(10);
    const pump = new FramePump(channel.port1, createIdentity(random.bytes), systemClock);
    const sent: Uint8Array[] = [];
    const channels: PumpedChannels = {
      send: (_peer, frame) => sent.push(frame) > 0,
      connect: () => true,
      disconnect: () => undefined,
      signal: () => undefined,
      refuse: () => undefined,
      stats: { created: 0 },
    };
    const app = new AppCallbacks();
    app.patterns.set(1, 'chat.lobby');
    app.subscriptions.set(1, () => undefined);
    const web = webEd25519();
    pump.drive(
      channels,
      { has: () => false, run: async () => ({ ok: true, result: null }) },
      new PagePublications(app, systemClock, web, (peer, frame) => channels.send(peer as IdHex, frame)),
    );
    await web;
    const toWorker: ToWorker[] = [];
    channel.port2.onmessage = (event: MessageEvent) => {
      const m = parseToWorker(event.data);
      if (m !== null) toWorker.push(m);
    };
    const peer = toHex(random.bytes(32)) as IdHex;
    const publisher = createIdentity(random.bytes);
    const frame = encodeFrame('PUBLISH', {
      rid: 4,
      ...signPublication(publisher, {
        mid: random.bytes(16),
        topic: 'chat.lobby',
        payload: encodeValue('hi'),
        at: Date.now(),
      }),
    });
    // Before the worker has sent it anything, a neighbour's publication goes to the worker unmarked.
    pump.frame(peer, frame);
    await until(() => toWorker.length === 1);
    expect(toWorker[0]).toEqual({ t: 'frame', peer, frame });
    channel.port2.postMessage({ t: 'send', peer, frame: new Uint8Array(20) } satisfies FromWorker);
    await until(() => sent.length === 1);
    sent.length = 0;
    toWorker.length = 0;
    pump.frame(peer, frame);
    pump.budget(3);
    pump.ping(3);
    await until(() => toWorker.length === 3);
    expect(sent).toEqual([acknowledgementFrame(4, 1)]);
    expect(toWorker).toEqual([
      { t: 'ping', n: 3 },
      { t: 'frame', peer, frame, taken: acknowledgementFrame(4, 1).slice(0, 8) },
      { t: 'budget', created: 3 },
    ]);
  });
});

describe('page half of the bytes bridge: a call whose CALL the page sends (page-calls.ts)', () => {
  it('sends the CALL with a reserved id, tells the worker at once, and settles the call from its REPLY', async () => {
    const { pump, sent, toWorker, fromWorker, peer } = pumped(true);
    fromWorker({ t: 'neighbour', peer, open: true });
    fromWorker({ t: 'rids', rids: [501] });
    await until(() => pump.calls.ridFor(peer) !== undefined);
    pump.calls.unused(501);
    const stranger = 'e'.repeat(64);
    expect(pump.sendCall(1, 'to', stranger, 'svc.echo', null, {})).toBe(false);
    const result = pump.replies.run('call', (token) => {
      expect(pump.sendCall(token, 'call', peer, 'svc.echo', { n: 1 }, { timeoutMs: 5_000 })).toBe(true);
      return new Promise<null>(() => undefined); // the worker's outcome never comes: the page's must
    });
    expect(pump.sendCall(3, 'to', peer, 'svc.echo', null, {})).toBe(false); // its one id is taken
    expect(sent).toEqual([{ peer, frame: encodeFrame('CALL', { rid: 501, service: 'svc.echo', args: { n: 1 } }) }]);
    await until(() => toWorker.length === 1);
    expect(toWorker[0]).toMatchObject({ t: 'called', shape: 'call', peer, opts: { timeoutMs: 5_000 } });
    pump.frame(peer, replyFrame('svc.echo', 501, { ok: true, result: 'hi' }));
    expect(await result).toBe('hi');
    await until(() => toWorker.length === 2);
    expect(toWorker[1]).toMatchObject({ t: 'frame', peer, settled: 1 });
  });
});

describe('page half of the bytes bridge: overlay signals', () => {
  /** The page's Ed25519 with its first signature and its first check held back, so the second finishes first. */
  const slowFirst = (): AsyncEd25519 => {
    const ed = asyncEd25519();
    let signs = 0;
    let checks = 0;
    const later = <T>(p: Promise<T>, first: boolean): Promise<T> =>
      first ? p.then((v) => new Promise<T>((r) => setTimeout(() => r(v), 40))) : p;
    return {
      identity: ed.identity,
      sign: (m, k) => later(ed.sign(m, k), signs++ === 0),
      verify: (s, m, k) => later(ed.verify(s, m, k), checks++ === 0),
    };
  };

  function pumpOf(seed: number, got: Array<{ from: IdHex; signal: StampedSignal }>) {
    const channel = new MessageChannel();
    opened.push(channel.port1, channel.port2);
    const identity = createIdentity(seededRandom(seed).bytes);
    const pump = new FramePump(channel.port1, identity, systemClock, seededRandom(seed), slowFirst());
    pump.drive(
      {
        send: () => true,
        connect: () => true,
        disconnect: () => undefined,
        signal: (from, signal) => got.push({ from, signal }),
        refuse: () => undefined,
        stats: { created: 0 },
      },
      { has: () => false, run: async () => ({ ok: false, error: new Error('none') }) },
    );
    const toWorker: ToWorker[] = [];
    channel.port2.onmessage = (event: MessageEvent) => {
      const m = parseToWorker(event.data);
      if (m !== null) toWorker.push(m);
    };
    return { pump, identity, toWorker, fromWorker: (m: FromWorker) => channel.port2.postMessage(m) };
  }

  it('are sealed and opened in parallel and kept in order: a slow first signature or check holds back the rest', async () => {
    const got: Array<{ from: IdHex; signal: StampedSignal }> = [];
    const a = pumpOf(21, []);
    const b = pumpOf(22, got);
    const session = newSignalSession();
    const signals = [0, 1, 2].map((seq) => ({ data: { n: seq }, ts: Date.now(), session, seq }));
    for (const s of signals) void a.pump.routeSignal(b.identity.nodeIdHex, s);
    await until(() => a.toWorker.filter((m) => m.t === 'signal-out').length === 3);
    const out = a.toWorker.flatMap((m) => (m.t === 'signal-out' ? [m] : []));
    expect(out.map((m) => m.id)).toEqual([1, 2, 3]);
    for (const m of out) b.fromWorker({ t: 'signal-in', from: a.identity.nodeIdHex, payload: m.payload });
    // A tampered one (its stamp changed under the signature) is dropped, and holds nothing up.
    const forged = new TextDecoder().decode(out[0]!.payload).replace(/"seq":0/, '"seq":7');
    b.fromWorker({ t: 'signal-in', from: a.identity.nodeIdHex, payload: new TextEncoder().encode(forged) });
    await until(() => got.length === 3);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(got.map((g) => g.signal.seq)).toEqual([0, 1, 2]);
    expect(got.every((g) => g.from === a.identity.nodeIdHex)).toBe(true);
    expect(got.map((g) => g.signal.data)).toEqual(signals.map((s) => s.data));
  });
});
