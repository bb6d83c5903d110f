import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { createIdentity } from '../core/identity.js';
import { startRelay, type Relay } from '../relay/relay.js';
import { createSignalingClient, type SignalingClient, type WebSocketConstructor } from './client.js';
import { openEarlySocket } from './early-socket.js';
import { asyncEd25519 } from '../crypto/async-ed25519.js';

const Ws = WebSocket as unknown as WebSocketConstructor;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A server that greets every socket with `first`, and reports what happened to its sockets. */
async function server(first: string): Promise<{ url: string; closed: Promise<void>; connections: () => number }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => wss.once('listening', resolve));
  cleanups.push(
    () => new Promise<void>((resolve) => (wss.clients.forEach((s) => s.terminate()), wss.close(() => resolve()))),
  );
  let connections = 0;
  let closedOne: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (closedOne = resolve));
  wss.on('connection', (socket) => {
    connections++;
    socket.send(first);
    socket.on('close', () => closedOne());
  });
  return { url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}/`, closed, connections: () => connections };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('openEarlySocket', () => {
  it('hands the client what the socket received before the client took it, in order, then live messages', async () => {
    const s = await server('greeting');
    const early = openEarlySocket(s.url, Ws);
    await sleep(100); // the greeting has arrived and waits
    const got: string[] = [];
    const ws = new early.Impl(s.url);
    ws.onmessage = ((e: { data: unknown }) => got.push(String(e.data))) as never;
    expect(got).toEqual([]); // handed on after this turn, as a socket's events come
    await sleep(0);
    expect(got).toEqual(['greeting']);
    expect(ws.readyState).toBe(1);
    ws.send('ping');
    expect(s.connections()).toBe(1);
    ws.close();
    await s.closed;
  });

  it('replays a close that happened before the client took the socket', async () => {
    const s = await server('bye');
    const early = openEarlySocket(s.url, Ws);
    await sleep(50);
    for (const fn of cleanups.splice(0)) await fn(); // the server goes away
    await sleep(50);
    const events: string[] = [];
    const ws = new early.Impl(s.url);
    ws.onmessage = ((e: { data: unknown }) => events.push(`message ${String(e.data)}`)) as never;
    ws.onclose = ((e: { code: number }) => events.push(`close ${e.code}`)) as never;
    ws.onerror = (() => events.push('error')) as never;
    await sleep(0);
    expect(events[0]).toBe('message bye');
    expect(events.at(-1)).toMatch(/^close \d+$/);
  });

  it('makes ordinary sockets for other URLs and for the second connection to its own', async () => {
    const a = await server('a');
    const b = await server('b');
    const early = openEarlySocket(a.url, Ws);
    const first = new early.Impl(a.url);
    const other = new early.Impl(b.url);
    const again = new early.Impl(a.url);
    expect(other).toBeInstanceOf(WebSocket);
    expect(again).toBeInstanceOf(WebSocket);
    expect(first).not.toBeInstanceOf(WebSocket);
    await sleep(100);
    expect(a.connections()).toBe(2);
    for (const ws of [first, other, again]) ws.close();
  });

  it('closes the socket when the peer never took it', async () => {
    const s = await server('x');
    const early = openEarlySocket(s.url, Ws);
    await sleep(50);
    early.discard();
    await s.closed;
    // Taken after a discard: an ordinary new socket.
    const later = new early.Impl(s.url);
    expect(later).toBeInstanceOf(WebSocket);
    later.onerror = (() => undefined) as never;
    later.close();
  });

  it('lets the signaling client authenticate over a socket opened before it existed', async () => {
    const relay: Relay = await startRelay({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => relay.close());
    const early = openEarlySocket(relay.address, Ws);
    await sleep(100); // the challenge is already here when the client starts
    const client: SignalingClient = createSignalingClient({
      url: relay.address,
      ed25519: asyncEd25519(),
      identity: createIdentity((n) => crypto.getRandomValues(new Uint8Array(n))),
      realm: 'test',
      WebSocketImpl: early.Impl,
    });
    cleanups.push(() => client.close());
    await new Promise<void>((resolve) => client.on('welcome', () => resolve()));
    expect(client.status).toBe('open');
    expect(relay.stats().authenticated).toBe(1);
  });
});
