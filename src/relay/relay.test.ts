import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { type ClientOptions } from 'ws';
import { toHex } from '../core/id.js';
import { createIdentity, type Identity } from '../core/identity.js';
import { signHello, signSignal, verifySignal } from '../signaling/auth.js';
import type { RelayLimits } from './limits.js';
import { freshSignal, RelayCloseCode, type SignalDelivery } from '../signaling/protocol.js';
import { startRelay, type Relay } from './relay.js';

type Frame = Record<string, unknown>;
const newIdentity = (): Identity => createIdentity((n) => crypto.getRandomValues(new Uint8Array(n)));
const randomId = (): string => toHex(crypto.getRandomValues(new Uint8Array(32)));

/** A signal frame as a client sends it: `data` stamped as a new session's first signal, signed by `by` for `signedFor`. */
function signalFrame(by: Identity, to: string, data: unknown, signedFor: string = to): Frame {
  const stamped = freshSignal(data);
  return { t: 'signal', to, ...stamped, signature: signSignal(by, signedFor, stamped)! };
}

/** A bare protocol client: every frame it receives is queued until a test asks for it. */
class RawClient {
  readonly socket: WebSocket;
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly inbox: Frame[] = [];
  private readonly waiters = new Set<{ t: string; resolve: (f: Frame) => void }>();

  constructor(url: string, options?: ClientOptions) {
    this.socket = new WebSocket(url, options);
    this.socket.on('error', () => undefined);
    this.socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      for (const waiter of this.waiters) {
        if (waiter.t === frame['t']) {
          this.waiters.delete(waiter);
          return waiter.resolve(frame);
        }
      }
      this.inbox.push(frame);
    });
    this.closed = new Promise((resolve) =>
      this.socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
    );
  }

  /** The next frame of type `t` (queued or still to come). */
  next(t: string, timeoutMs = 3_000): Promise<Frame> {
    const at = this.inbox.findIndex((f) => f['t'] === t);
    if (at >= 0) return Promise.resolve(this.inbox.splice(at, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = { t, resolve: (f: Frame) => (clearTimeout(timer), resolve(f)) };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no '${t}' frame within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  send(frame: Frame | string | Buffer): void {
    this.socket.send(typeof frame === 'object' && !Buffer.isBuffer(frame) ? JSON.stringify(frame) : frame);
  }
}

let relay: Relay | undefined;
const clients: RawClient[] = [];

async function start(limits: Partial<RelayLimits> = {}): Promise<Relay> {
  relay = await startRelay({ port: 0, host: '127.0.0.1', limits });
  return relay;
}

function connect(options?: ClientOptions, url = relay!.address): RawClient {
  const client = new RawClient(url, options);
  clients.push(client);
  return client;
}

/** Connect and answer the challenge; resolves with the welcome. */
async function join(
  identity = newIdentity(),
  realm = 'test',
  url?: string,
): Promise<{ client: RawClient; identity: Identity; welcome: Frame }> {
  const client = connect(undefined, url);
  const { nonce } = (await client.next('challenge')) as { nonce: string };
  client.send({
    t: 'hello',
    publicKey: toHex(identity.publicKey),
    realm,
    signature: signHello(identity, nonce, realm),
  });
  return { client, identity, welcome: await client.next('welcome') };
}

/** Proves a socket still gets service: a peers request is answered. */
async function stillServed(client: RawClient): Promise<void> {
  client.send({ t: 'peers' });
  await client.next('peers');
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.socket.terminate();
  await relay?.close();
  relay = undefined;
});

describe('relay', () => {
  it('admits two sockets and forwards a signal stamped with the sender', async () => {
    await start();
    const a = await join();
    const b = await join();
    expect(a.welcome['nodeId']).toBe(a.identity.nodeIdHex);
    expect(b.welcome['peers']).toEqual([a.identity.nodeIdHex]);

    const data = { type: 'offer', sdp: 'v=0\r\na=fingerprint:sha-256 AB:CD' };
    const { to, ...sent } = signalFrame(a.identity, b.identity.nodeIdHex, data);
    a.client.send({ to, ...sent });
    const got = (await b.client.next('signal')) as unknown as SignalDelivery;

    expect(got).toEqual({
      ...sent,
      from: a.identity.nodeIdHex,
      fromKey: toHex(a.identity.publicKey),
      to: b.identity.nodeIdHex,
    });
    expect(verifySignal(got, b.identity.nodeIdHex)).toBe(true);
    expect(relay!.stats()).toMatchObject({ socketsOpen: 2, authenticated: 2, realms: 1, signalsForwarded: 1 });
  });

  it('refuses a wrong challenge signature while other sockets keep working', async () => {
    await start();
    const good = await join();
    const impostor = newIdentity();
    const victim = newIdentity();
    const bad = connect();
    const { nonce } = (await bad.next('challenge')) as { nonce: string };
    // Claims the victim's key but can only sign with its own.
    const signature = signHello(impostor, nonce, 'test');
    bad.send({ t: 'hello', publicKey: toHex(victim.publicKey), realm: 'test', signature });

    expect(await bad.next('error')).toMatchObject({ code: 'BAD_SIGNATURE' });
    expect((await bad.closed).code).toBe(RelayCloseCode.POLICY);
    await stillServed(good.client);
    expect(relay!.stats().errors.BAD_SIGNATURE).toBe(1);
  });

  it('refuses a hello signed over another nonce', async () => {
    await start();
    const identity = newIdentity();
    const bad = connect();
    await bad.next('challenge');
    const stale = 'ab'.repeat(32);
    bad.send({
      t: 'hello',
      publicKey: toHex(identity.publicKey),
      realm: 'test',
      signature: signHello(identity, stale, 'test'),
    });
    expect(await bad.next('error')).toMatchObject({ code: 'BAD_SIGNATURE' });
    await bad.closed;
  });

  it('stamps `from` itself: a spoofed sender in the frame is ignored', async () => {
    await start();
    const a = await join();
    const b = await join();
    const c = newIdentity();
    const data = { spoof: true };
    a.client.send({
      ...signalFrame(a.identity, b.identity.nodeIdHex, data),
      from: c.nodeIdHex,
      fromKey: toHex(c.publicKey),
    });
    const got = (await b.client.next('signal')) as unknown as SignalDelivery;
    expect(got.from).toBe(a.identity.nodeIdHex);
    expect(got.fromKey).toBe(toHex(a.identity.publicKey));
    expect(verifySignal(got, b.identity.nodeIdHex)).toBe(true);
  });

  it('drops signals its sender did not sign, counts them, and closes the socket after junkBeforeClose', async () => {
    await start({ junkBeforeClose: 3 });
    const a = await join();
    const b = await join();
    const c = newIdentity();
    const to = b.identity.nodeIdHex;
    // Signed by someone else, and signed for another recipient: neither is a's signal to b.
    a.client.send(signalFrame(c, to, 1));
    expect(await a.client.next('error')).toMatchObject({ code: 'BAD_SIGNATURE' });
    a.client.send(signalFrame(a.identity, to, 2, c.nodeIdHex));
    expect(await a.client.next('error')).toMatchObject({ code: 'BAD_SIGNATURE' });
    a.client.send({ ...signalFrame(a.identity, to, 3), signature: '00'.repeat(64) });
    expect((await a.client.closed).code).toBe(RelayCloseCode.POLICY);
    expect(relay!.stats().signalsForged).toBe(3);
    expect(relay!.stats().signalsForwarded).toBe(0);
    // Nothing forged reached b, which is still served.
    await expect(b.client.next('signal', 300)).rejects.toThrow();
    await stillServed(b.client);
  });

  it('checks the stamp with the data: a signal whose time, session or sequence changed after signing is refused, one without a stamp does not parse', async () => {
    await start({ junkBeforeClose: 10 });
    const a = await join();
    const b = await join();
    const to = b.identity.nodeIdHex;
    const genuine = signalFrame(a.identity, to, { type: 'offer', sdp: 'v=0' });
    const altered: Frame[] = [
      { ...genuine, ts: (genuine['ts'] as number) + 1 },
      { ...genuine, session: 'f'.repeat(32) },
      { ...genuine, seq: 1 },
    ];
    for (const frame of altered) {
      a.client.send(frame);
      expect(await a.client.next('error')).toMatchObject({ code: 'BAD_SIGNATURE' });
    }
    const { ts: _ts, session: _session, seq: _seq, ...unstamped } = genuine;
    a.client.send(unstamped);
    expect(await a.client.next('error')).toMatchObject({ code: 'MALFORMED' });
    a.client.send(genuine);
    expect(await b.client.next('signal')).toMatchObject({
      from: a.identity.nodeIdHex,
      ts: genuine['ts'],
      session: genuine['session'],
      seq: 0,
    });
    expect(relay!.stats()).toMatchObject({ signalsForged: 3, signalsForwarded: 1 });
  });

  it('closes a socket that asks and never reads instead of queueing its replies', async () => {
    await start({ maxBufferedBytes: 64 * 1024, messagesPerSecond: 100_000, burstMessages: 100_000 });
    const others = [];
    for (let i = 0; i < 8; i++) others.push(await join());
    const { client } = await join();
    // Stop reading: the kernel's buffers fill, then the relay's own queue for this socket.
    client.socket.pause();
    for (let i = 0; i < 40_000; i++) client.send({ t: 'peers' });
    await expect.poll(() => relay!.stats().slowReadersClosed, { timeout: 15_000 }).toBe(1);
    expect(relay!.stats().authenticated).toBe(8);
    await stillServed(others[0]!.client);
  }, 20_000);

  it('answers junk and oversize frames with errors, closes after junkBeforeClose, others unaffected', async () => {
    await start({ maxPayloadBytes: 1024, junkBeforeClose: 5 });
    const good = await join();
    const noisy = await join();
    noisy.client.send('not json {');
    expect(await noisy.client.next('error')).toMatchObject({ code: 'MALFORMED' });
    noisy.client.send({ t: 'launch-missiles' });
    expect(await noisy.client.next('error')).toMatchObject({ code: 'MALFORMED' });
    noisy.client.send({ t: 'peers', padding: 'x'.repeat(2_000) });
    expect(await noisy.client.next('error')).toMatchObject({ code: 'TOO_LARGE' });
    noisy.client.send(Buffer.from([1, 2, 3]));
    expect(await noisy.client.next('error')).toMatchObject({ code: 'MALFORMED' });

    await stillServed(good.client);
    await stillServed(noisy.client);

    noisy.client.send({ t: 'signal', to: 'not-an-id', data: 1, signature: 'x' });
    expect(await noisy.client.next('error')).toMatchObject({ code: 'MALFORMED' });
    expect((await noisy.client.closed).code).toBe(RelayCloseCode.POLICY);
    await stillServed(good.client);
    expect(relay!.stats().errors).toMatchObject({ MALFORMED: 4, TOO_LARGE: 1 });
  });

  it('cuts off a frame far beyond the limit without reading it', async () => {
    await start({ maxPayloadBytes: 1024 });
    const good = await join();
    const huge = await join();
    huge.client.send('x'.repeat(10_000));
    expect((await huge.client.closed).code).toBe(1009);
    await stillServed(good.client);
    expect(relay!.stats().errors.TOO_LARGE).toBe(1);
  });

  it('closes a flooder and only the flooder', async () => {
    await start({ messagesPerSecond: 10, burstMessages: 20 });
    const good = await join();
    const flooder = await join();
    for (let i = 0; i < 50; i++) flooder.client.send({ t: 'peers' });
    expect(await flooder.client.next('error')).toMatchObject({ code: 'RATE_LIMITED' });
    expect((await flooder.client.closed).code).toBe(RelayCloseCode.POLICY);
    await stillServed(good.client);
  });

  it('cuts off a flooder aiming signals at a victim: the victim gets at most the burst, and both it and a bystander keep full service', async () => {
    await start({ messagesPerSecond: 10, burstMessages: 20 });
    const victim = await join();
    const bystander = await join();
    const flooder = await join();
    const to = victim.identity.nodeIdHex;
    // Signed beforehand, so the flood goes out at once however slowly this machine signs.
    const flood = Array.from({ length: 200 }, (_, i) => signalFrame(flooder.identity, to, i));
    for (const frame of flood) flooder.client.send(frame);
    expect(await flooder.client.next('error')).toMatchObject({ code: 'RATE_LIMITED' });
    expect((await flooder.client.closed).code).toBe(RelayCloseCode.POLICY);
    // Signals between the two others still travel both ways after the flood.
    const data = { after: 'flood' };
    bystander.client.send(signalFrame(bystander.identity, to, data));
    victim.client.send(signalFrame(victim.identity, bystander.identity.nodeIdHex, data));
    expect(await bystander.client.next('signal')).toMatchObject({ from: to, data });
    let fromFlooder = 0;
    for (;;) {
      const got = (await victim.client.next('signal')) as unknown as SignalDelivery;
      if (got.from === bystander.identity.nodeIdHex) break;
      expect(got.from).toBe(flooder.identity.nodeIdHex);
      fromFlooder++;
    }
    expect(fromFlooder).toBeGreaterThan(0);
    expect(fromFlooder).toBeLessThanOrEqual(20);
    await stillServed(victim.client);
    expect(relay!.stats()).toMatchObject({ socketsOpen: 2, authenticated: 2 });
  });

  it('reports an unreachable target, including one in another realm', async () => {
    await start();
    const a = await join();
    const other = await join(newIdentity(), 'elsewhere');
    expect(other.welcome['peers']).toEqual([]);
    for (const to of [randomId(), other.identity.nodeIdHex]) {
      a.client.send(signalFrame(a.identity, to, 'hi'));
      expect(await a.client.next('error')).toMatchObject({ code: 'UNREACHABLE', to });
    }
    expect(relay!.stats().realms).toBe(2);
  });

  it('answers nothing but NOT_AUTHENTICATED before the hello, and times out a silent socket', async () => {
    await start({ helloTimeoutMs: 150 });
    const early = connect();
    await early.next('challenge');
    early.send({ t: 'peers' });
    expect(await early.next('error')).toMatchObject({ code: 'NOT_AUTHENTICATED' });
    expect(await early.next('error')).toMatchObject({ code: 'NOT_AUTHENTICATED', message: 'no valid hello in time' });
    expect((await early.closed).code).toBe(RelayCloseCode.POLICY);
  });

  it('lets a newer socket with the same node id replace the older one', async () => {
    await start();
    const identity = newIdentity();
    const first = await join(identity);
    const second = await join(identity);
    expect((await first.client.closed).code).toBe(RelayCloseCode.REPLACED);
    const b = await join();
    expect(b.welcome['peers']).toEqual([identity.nodeIdHex]);
    b.client.send(signalFrame(b.identity, identity.nodeIdHex, 1));
    expect(await second.client.next('signal')).toMatchObject({ from: b.identity.nodeIdHex });
    expect(relay!.stats()).toMatchObject({ socketsOpen: 2, authenticated: 2 });
  });

  it('refuses sockets beyond socketsPerAddress until one closes', async () => {
    await start({ socketsPerAddress: 2 });
    const a = await join();
    await join();
    const third = connect();
    expect(await third.next('error')).toMatchObject({ code: 'TOO_MANY_SOCKETS' });
    await third.closed;
    a.client.socket.close();
    await a.client.closed;
    await join();
  });

  it('samples peers of the realm, never the asker', async () => {
    await start({ peersInWelcome: 3 });
    const members = [];
    for (let i = 0; i < 6; i++) members.push(await join());
    const asker = members[5]!;
    asker.client.send({ t: 'peers' });
    const { peers } = (await asker.client.next('peers')) as { peers: string[] };
    expect(peers).toHaveLength(3);
    expect(new Set(peers).size).toBe(3);
    expect(peers).not.toContain(asker.identity.nodeIdHex);
    const ids = members.map((m) => m.identity.nodeIdHex);
    for (const p of peers) expect(ids).toContain(p);
  });

  it('terminates a socket that stops answering pings', async () => {
    await start({ heartbeatMs: 50 });
    const lively = await join();
    const silent = connect({ autoPong: false });
    await silent.next('challenge');
    expect((await silent.closed).code).toBe(1006);
    await stillServed(lively.client);
  });

  it('attaches to an existing HTTP server at /relay and leaves the server running', async () => {
    const server: Server = createServer((_req, res) => res.end('demo page'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      relay = await startRelay({ server });
      expect(relay.address).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/relay$/);
      await join();
      const stray = connect(undefined, relay.address.replace('/relay', '/other'));
      const { code } = await stray.closed;
      expect(code).toBe(1006);
      await relay.close();
      relay = undefined;
      const res = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
      expect(await res.text()).toBe('demo page');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('close() says goodbye to every socket and resolves', async () => {
    await start();
    const a = await join();
    const pending = connect();
    await pending.next('challenge');
    const r = relay!;
    await r.close();
    expect((await a.client.closed).code).toBe(RelayCloseCode.GOING_AWAY);
    expect((await pending.closed).code).toBe(RelayCloseCode.GOING_AWAY);
    expect(r.stats().socketsOpen).toBe(0);
    await r.close();
  });
});

describe('relay: its own peer among the introductions', () => {
  it('offers its own peer to every newcomer of its realm, within the welcome count, never to the peer itself', async () => {
    const own = newIdentity();
    let ownWelcome: Frame | undefined;
    relay = await startRelay({
      port: 0,
      host: '127.0.0.1',
      limits: { peersInWelcome: 2 },
      federation: {
        // Stands in for the Node peer: admitted at its relay under its own key, like any client.
        peer: async ({ ownUrl }) => {
          ownWelcome = (await join(own, 'test', ownUrl)).welcome;
          return { nodeId: own.nodeIdHex, close() {} };
        },
      },
    });
    expect(await relay.peerStarted).toBe(true);
    expect(ownWelcome?.['peers']).toEqual([]);
    for (let i = 0; i < 6; i++) {
      const { welcome } = await join();
      const peers = welcome['peers'] as string[];
      expect(peers[0]).toBe(own.nodeIdHex);
      expect(peers.length).toBe(Math.min(2, i + 1));
      expect(new Set(peers).size).toBe(peers.length);
    }
    // Another realm does not meet it: the peer is admitted in its realm only.
    const other = await join(newIdentity(), 'elsewhere');
    expect(other.welcome['peers']).toEqual([]);
  });
});
