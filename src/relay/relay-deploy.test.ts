import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createHmac } from 'node:crypto';
import { get } from 'node:https';
import { createIdentity, type Identity } from '../core/identity.js';
import {
  createSignalingClient,
  type SignalingClient,
  type SignalingEvents,
  type WebSocketConstructor,
} from '../signaling/client.js';
import { selfSignedCert, type SelfSigned } from '../../e2e/net/self-signed.js';
import { createIceIssuer } from './ice-credentials.js';
import { startRelay, type Relay } from './relay.js';
import { createStaticServer } from './static-server.js';
import { listen } from './http.js';
import { loadTlsFiles } from './tls.js';
import { asyncEd25519 } from '../crypto/async-ed25519.js';

/** What a deployment configures on the relay: ICE servers with TURN credentials per peer, and TLS. */

const newIdentity = (): Identity => createIdentity((n) => crypto.getRandomValues(new Uint8Array(n)));
const relays: Relay[] = [];
const clients: SignalingClient[] = [];
const certs: SelfSigned[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const r of relays.splice(0)) await r.close();
  for (const c of certs.splice(0)) c.remove();
});

function next<K extends keyof SignalingEvents>(
  c: SignalingClient,
  type: K,
  timeoutMs = 3_000,
): Promise<SignalingEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (off(), reject(new Error(`no '${type}' event within ${timeoutMs} ms`))), timeoutMs);
    const off = c.on(type, (v) => {
      clearTimeout(timer);
      off();
      resolve(v);
    });
  });
}

function client(url: string, identity: Identity, Impl: WebSocketConstructor = WebSocket): SignalingClient {
  const c = createSignalingClient({
    url,
    identity,
    realm: 'test',
    WebSocketImpl: Impl,
    backoff: { initialMs: 20, maxMs: 200 },
    ed25519: asyncEd25519(),
  });
  clients.push(c);
  return c;
}

describe('relay: ICE servers for every admitted peer', () => {
  it('the welcome carries STUN and TURN with credentials for this node id; a renewal request gets fresh ones', async () => {
    let now = 1_700_000_000_000;
    const ice = createIceIssuer({
      stun: ['stun:127.0.0.1:3478'],
      turn: ['turn:127.0.0.1:3478?transport=udp'],
      turnSecret: 'shh',
      turnTtl: 120,
      now: () => now,
    });
    const relay = await startRelay({ port: 0, host: '127.0.0.1', ...(ice ? { ice } : {}) });
    relays.push(relay);
    const identity = newIdentity();
    const c = client(relay.address, identity);
    const first = await next(c, 'ice');
    expect(first.ttl).toBe(120);
    expect(first.iceServers[0]).toEqual({ urls: ['stun:127.0.0.1:3478'] });
    const turn = first.iceServers[1]!;
    expect(turn.username).toBe(`${1_700_000_120}:${identity.nodeIdHex}`);
    expect(turn.credential).toBe(createHmac('sha1', 'shh').update(turn.username!).digest('base64'));

    now += 100_000;
    expect(c.requestIce()).toBe(true);
    const renewed = await next(c, 'ice');
    expect(renewed.iceServers[1]!.username).toBe(`${1_700_000_220}:${identity.nodeIdHex}`);
  });

  it('a relay without ICE configuration welcomes with an empty list and answers renewals with one', async () => {
    const relay = await startRelay({ port: 0, host: '127.0.0.1' });
    relays.push(relay);
    const c = client(relay.address, newIdentity());
    expect(await next(c, 'ice')).toEqual({ iceServers: [] });
    c.requestIce();
    expect(await next(c, 'ice')).toEqual({ iceServers: [] });
  });
});

describe('relay: behind a reverse proxy', () => {
  it('with trustProxy, per-address socket limits use the address the proxy appended to X-Forwarded-For', async () => {
    const sockets: WebSocket[] = [];
    /** Open a socket (kept open) and return the type of the relay's first frame: 'challenge', or 'error' when refused. */
    const open = async (relay: Relay, forwarded: string): Promise<string> => {
      const socket = new WebSocket(relay.address, { headers: { 'x-forwarded-for': forwarded } });
      sockets.push(socket);
      socket.on('error', () => undefined);
      return new Promise<string>((resolve) => socket.once('message', (m) => resolve(JSON.parse(String(m)).t)));
    };
    try {
      const trusting = await startRelay({
        port: 0,
        host: '127.0.0.1',
        trustProxy: true,
        limits: { socketsPerAddress: 1 },
      });
      relays.push(trusting);
      // A client's own X-Forwarded-For entry comes first; only the proxy's (last) one counts.
      expect(await open(trusting, '10.0.0.1, 198.51.100.1')).toBe('challenge');
      expect(await open(trusting, '10.0.0.1, 198.51.100.2')).toBe('challenge');
      expect(await open(trusting, '10.0.0.9, 198.51.100.1')).toBe('error');
      // Without trustProxy the header is ignored: every socket comes from 127.0.0.1.
      const plain = await startRelay({ port: 0, host: '127.0.0.1', limits: { socketsPerAddress: 1 } });
      relays.push(plain);
      expect(await open(plain, '198.51.100.1')).toBe('challenge');
      expect(await open(plain, '198.51.100.2')).toBe('error');
    } finally {
      for (const s of sockets) s.close();
    }
  });
});

describe('relay: TLS', () => {
  it("the relay's own server speaks wss with the given certificate", async () => {
    const cert = selfSignedCert();
    certs.push(cert);
    const relay = await startRelay({ port: 0, host: '127.0.0.1', tls: loadTlsFiles(cert.certPath, cert.keyPath)! });
    relays.push(relay);
    expect(relay.address).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/relay$/);
    const trusting = class extends WebSocket {
      constructor(url: string) {
        super(url, { ca: cert.cert });
      }
    };
    const identity = newIdentity();
    const c = client(relay.address, identity, trusting);
    expect((await next(c, 'welcome')).nodeId).toBe(identity.nodeIdHex);
  });

  it("npm start's server: https for the page and wss for the relay on one port", async () => {
    const cert = selfSignedCert();
    certs.push(cert);
    const server = createStaticServer('public', loadTlsFiles(cert.certPath, cert.keyPath));
    const relay = await startRelay({ server });
    relays.push(relay);
    await listen(server, 0, '127.0.0.1');
    try {
      const status = await new Promise<number>((resolve, reject) => {
        get(`https://127.0.0.1:${relay.port}/no-such-file`, { ca: cert.cert }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject);
      });
      expect(status).toBe(404);
      expect(relay.address.startsWith('wss://')).toBe(true);
      const trusting = class extends WebSocket {
        constructor(url: string) {
          super(url, { ca: cert.cert });
        }
      };
      const c = client(relay.address, newIdentity(), trusting);
      await next(c, 'welcome');
    } finally {
      for (const c of clients.splice(0)) c.close();
      await relay.close();
      relays.splice(0);
      server.close();
      server.closeAllConnections();
    }
  });

  it('a plain ws client cannot use a certificate it does not trust', async () => {
    const cert = selfSignedCert();
    certs.push(cert);
    const relay = await startRelay({ port: 0, host: '127.0.0.1', tls: loadTlsFiles(cert.certPath, cert.keyPath)! });
    relays.push(relay);
    const socket = new WebSocket(relay.address);
    const error = await new Promise<Error>((resolve) => socket.on('error', resolve));
    expect(error.message).toMatch(/self[- ]signed/i);
  });

  it('loadTlsFiles names the flag that is missing or unreadable', () => {
    expect(loadTlsFiles(undefined, undefined)).toBeUndefined();
    expect(() => loadTlsFiles('cert.pem', undefined)).toThrow(/--tls-key/);
    expect(() => loadTlsFiles(undefined, 'key.pem')).toThrow(/--tls-cert/);
    expect(() => loadTlsFiles('/nonexistent/cert.pem', '/nonexistent/key.pem')).toThrow(/--tls-cert.*ENOENT/);
    expect(() => loadTlsFiles('package.json', 'package.json')).toThrow(
      /--tls-cert: expected a PEM file with a CERTIFICATE block/,
    );
  });
});
