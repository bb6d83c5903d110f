import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { systemClock, type Clock } from '../core/environment.js';
import { toHex } from '../core/id.js';
import { createIdentity, type Identity } from '../core/identity.js';
import { signSignal, verifyHello } from './auth.js';
import { freshSignal, parseClientMessage, type SignalDelivery } from './protocol.js';
import { startRelay, type Relay } from '../relay/relay.js';
import {
  createSignalingClient,
  type SignalingClient,
  type SignalingClientOptions,
  type SignalingEvents,
} from './client.js';
import { asyncEd25519, type AsyncEd25519 } from '../crypto/async-ed25519.js';

const newIdentity = (): Identity => createIdentity((n) => crypto.getRandomValues(new Uint8Array(n)));

const relays: Relay[] = [];
const clients: SignalingClient[] = [];
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const r of relays.splice(0)) await r.close();
  for (const fn of cleanups.splice(0)) await fn();
});

async function relayOn(port = 0): Promise<Relay> {
  const relay = await startRelay({ port, host: '127.0.0.1' });
  relays.push(relay);
  return relay;
}

function client(url: string, extra: Partial<SignalingClientOptions> = {}): SignalingClient & { identity: Identity } {
  const identity = extra.identity ?? newIdentity();
  const c = createSignalingClient({
    url,
    identity,
    realm: 'test',
    WebSocketImpl: WebSocket,
    backoff: { initialMs: 20, maxMs: 200 },
    ed25519: asyncEd25519(),
    ...extra,
  });
  clients.push(c);
  return Object.assign(c, { identity });
}

/** The next `type` event (optionally one matching `accept`), or a rejection after `timeoutMs`. */
function next<K extends keyof SignalingEvents>(
  c: SignalingClient,
  type: K,
  accept: (v: SignalingEvents[K]) => boolean = () => true,
  timeoutMs = 3_000,
): Promise<SignalingEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (off(), reject(new Error(`no '${type}' event within ${timeoutMs} ms`))), timeoutMs);
    const off = c.on(type, (v) => {
      if (!accept(v)) return;
      clearTimeout(timer);
      off();
      resolve(v);
    });
  });
}

const opened = (c: SignalingClient): Promise<unknown> =>
  c.status === 'open' ? Promise.resolve() : next(c, 'status', (s) => s === 'open');

/** A clock that knows which of its timers are still pending. */
function trackingClock(): Clock & { pending: () => number } {
  const live = new Set<() => void>();
  return {
    now: systemClock.now,
    setTimer(ms, fn) {
      const cancel = systemClock.setTimer(ms, () => (live.delete(cancel), fn()));
      live.add(cancel);
      return () => (live.delete(cancel), cancel());
    },
    pending: () => live.size,
  };
}

describe('signaling client', () => {
  it('authenticates, learns peers and exchanges verified signals', async () => {
    const relay = await relayOn();
    const a = client(relay.address);
    expect(a.status).toBe('connecting');
    const aWelcome = await next(a, 'welcome');
    expect(aWelcome).toEqual({ nodeId: a.identity.nodeIdHex, peers: [] });
    expect(a.status).toBe('open');

    const b = client(relay.address);
    expect((await next(b, 'welcome')).peers).toEqual([a.identity.nodeIdHex]);

    const offer = freshSignal({ type: 'offer', sdp: 'v=0\r\na=fingerprint:sha-256 AB:CD\r\n', n: [1, 2.5, null] });
    const got = next(b, 'signal');
    expect(a.sendSignal(b.identity.nodeIdHex, offer)).toBe(true);
    expect(await got).toEqual({ from: a.identity.nodeIdHex, fromKey: toHex(a.identity.publicKey), ...offer });

    const back = next(a, 'signal');
    expect(b.sendSignal(a.identity.nodeIdHex, { ...offer, seq: 0, data: { type: 'answer' } })).toBe(true);
    expect((await back).data).toEqual({ type: 'answer' });
    expect(a.stats()).toMatchObject({ signalsSent: 1, signalsReceived: 1, rejectedSignals: 0 });
  });

  it('with an asynchronous Ed25519, signs and checks through it and keeps signals in order both ways', async () => {
    const relay = await relayOn();
    // The first signature and the first check take longest: order must not follow them.
    const slowFirst = (): AsyncEd25519 => {
      const ed = asyncEd25519();
      let signs = 0;
      let checks = 0;
      const later = <T>(p: Promise<T>, first: boolean): Promise<T> =>
        first ? p.then((v) => new Promise<T>((r) => setTimeout(() => r(v), 40))) : p;
      return {
        identity: ed.identity,
        sign: (m, k) => later(ed.sign(m, k), signs++ === 1),
        verify: (s, m, k) => later(ed.verify(s, m, k), checks++ === 0),
      };
    };
    const a = client(relay.address, { ed25519: slowFirst() });
    const b = client(relay.address, { ed25519: slowFirst() });
    await opened(a);
    await opened(b);
    const got: unknown[] = [];
    const all = new Promise<void>((resolve) =>
      b.on('signal', (s) => {
        got.push(s.data);
        if (got.length === 4) resolve();
      }),
    );
    const session = freshSignal(0).session;
    for (let seq = 0; seq < 4; seq++)
      expect(a.sendSignal(b.identity.nodeIdHex, { data: seq, ts: Date.now(), session, seq })).toBe(true);
    await all;
    expect(got).toEqual([0, 1, 2, 3]);
    expect(b.stats()).toMatchObject({ signalsReceived: 4, rejectedSignals: 0 });
    expect(() => a.sendSignal(b.identity.nodeIdHex, { data: undefined, ts: Date.now(), session, seq: 9 })).toThrow(
      /data: expected/,
    );
  });

  it('asks for peers and reports unreachable targets', async () => {
    const relay = await relayOn();
    const a = client(relay.address);
    await opened(a);
    const b = client(relay.address);
    await opened(b);
    const peers = next(a, 'peers');
    expect(a.requestPeers()).toBe(true);
    expect(await peers).toEqual([b.identity.nodeIdHex]);

    const nobody = newIdentity().nodeIdHex;
    const error = next(a, 'error');
    a.sendSignal(nobody, freshSignal('hello?'));
    expect(await error).toMatchObject({ code: 'UNREACHABLE', to: nobody });
  });

  it('refuses to send before it is admitted, and refuses bad arguments', async () => {
    const relay = await relayOn();
    const a = client(relay.address);
    const to = newIdentity().nodeIdHex;
    expect(a.sendSignal(to, freshSignal(1))).toBe(false);
    expect(a.requestPeers()).toBe(false);
    await opened(a);
    expect(() => a.sendSignal('nope', freshSignal(1))).toThrow(/to: expected/);
    expect(() => a.sendSignal(to, freshSignal(10n))).toThrow(/data: expected/);
    expect(() => a.sendSignal(to, { ...freshSignal(1), seq: -1 })).toThrow(/signal: expected/);
    expect(() => a.sendSignal(to, freshSignal('x'.repeat(70_000)))).toThrow(
      expect.objectContaining({ code: 'TOO_LARGE' }),
    );
    expect(() =>
      createSignalingClient({
        url: 'http://x',
        identity: a.identity,
        realm: 'test',
        WebSocketImpl: WebSocket,
        ed25519: asyncEd25519(),
      }),
    ).toThrow(/url/);
    expect(() =>
      createSignalingClient({
        url: 'ws://x',
        identity: a.identity,
        realm: '',
        WebSocketImpl: WebSocket,
        ed25519: asyncEd25519(),
      }),
    ).toThrow(/realm/);
  });

  it('drops forged signals from a lying relay and counts them', async () => {
    const me = newIdentity();
    const alice = newIdentity();
    const mallory = newIdentity();
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => wss.once('listening', resolve));
    cleanups.push(
      () => new Promise((resolve) => (wss.clients.forEach((s) => s.terminate()), wss.close(() => resolve()))),
    );
    let hellos = 0;

    wss.on('connection', (socket) => {
      const nonce = 'cd'.repeat(32);
      const put = (frame: object): void => socket.send(JSON.stringify(frame));
      // Two challenges: a client must sign only the first.
      put({ t: 'challenge', nonce });
      put({ t: 'challenge', nonce: 'ef'.repeat(32) });
      socket.on('message', (raw) => {
        const hello = parseClientMessage(String(raw));
        if (hello?.t !== 'hello') return;
        hellos++;
        expect(verifyHello(nonce, hello.publicKey, hello.realm, hello.signature)).toBe(me.nodeIdHex);
        put({ t: 'welcome', nodeId: me.nodeIdHex, peers: [] });

        const real = freshSignal({ sdp: 'real' });
        const genuine = (signal = real): SignalDelivery => ({
          t: 'signal',
          from: alice.nodeIdHex,
          fromKey: toHex(alice.publicKey),
          to: me.nodeIdHex,
          ...signal,
          signature: signSignal(alice, me.nodeIdHex, signal)!,
        });
        put({ ...genuine(), data: { sdp: 'rewritten by the relay' } });
        put({ ...genuine(), ts: real.ts + 1 });
        put({ ...genuine(), from: mallory.nodeIdHex });
        put({ ...genuine(), fromKey: toHex(mallory.publicKey) });
        put({ ...genuine(), signature: 'ab'.repeat(64) });
        put({ ...genuine(), to: mallory.nodeIdHex, signature: signSignal(alice, mallory.nodeIdHex, real)! });
        const one = freshSignal(1);
        put({
          t: 'signal',
          from: mallory.nodeIdHex,
          fromKey: toHex(mallory.publicKey),
          to: me.nodeIdHex,
          ...one,
          signature: signSignal(alice, me.nodeIdHex, one)!,
        });
        put({ t: 'signal', junk: true });
        put(genuine(freshSignal({ sdp: 'the one true offer' })));
      });
    });

    const port = (wss.address() as { port: number }).port;
    const c = client(`ws://127.0.0.1:${port}`, { identity: me });
    const seen: unknown[] = [];
    c.on('signal', (s) => seen.push(s.data));
    // Frames arrive in order, so once the genuine last one is here every forgery has been judged.
    await next(c, 'signal');
    expect(seen).toEqual([{ sdp: 'the one true offer' }]);
    expect(c.stats()).toMatchObject({ rejectedSignals: 7, malformedFrames: 1, signalsReceived: 1 });
    expect(hellos).toBe(1);
  });

  it('reconnects with backoff after the relay restarts', async () => {
    const first = await relayOn();
    const port = first.port;
    const a = client(first.address);
    await opened(a);
    const dropped = next(a, 'status', (s) => s === 'connecting');
    await first.close();
    relays.splice(relays.indexOf(first), 1);
    await dropped;

    const second = await relayOn(port);
    const welcome = await next(a, 'welcome');
    expect(welcome.nodeId).toBe(a.identity.nodeIdHex);
    expect(a.status).toBe('open');
    expect(a.stats().reconnects).toBeGreaterThanOrEqual(1);
    expect(second.stats().authenticated).toBe(1);
  });

  it('close() is final: no socket, no pending timer, no reconnect', async () => {
    const relay = await relayOn();
    const clock = trackingClock();
    const a = client(relay.address, { clock });
    await opened(a);
    const statuses: string[] = [];
    a.on('status', (s) => statuses.push(s));
    a.close();
    expect(a.status).toBe('closed');
    expect(statuses).toEqual(['closed']);
    expect(clock.pending()).toBe(0);
    expect(a.sendSignal(newIdentity().nodeIdHex, freshSignal(1))).toBe(false);
    await relay.close();
    relays.splice(0);
    expect(clock.pending()).toBe(0);
    expect(a.status).toBe('closed');
  });

  it('steps aside without reconnecting when another socket takes over its node id', async () => {
    const relay = await relayOn();
    const clock = trackingClock();
    const identity = newIdentity();
    const old = client(relay.address, { identity, clock });
    await opened(old);
    const replaced = next(old, 'error', (e) => e.code === 'REPLACED');
    const fresh = client(relay.address, { identity });
    await opened(fresh);
    await replaced;
    expect(old.status).toBe('closed');
    expect(clock.pending()).toBe(0);
    expect(fresh.status).toBe('open');
    expect(relay.stats().authenticated).toBe(1);
  });
});
