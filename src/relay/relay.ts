/**
 * The bootstrap relay (docs/ARCHITECTURE.md, Identity and trust): admits a WebSocket only after it signs a fresh
 * challenge with the key of the node id it claims, hands out a few peers of its realm,
 * and forwards signals between admitted sockets, stamping `from` itself. It never sees
 * DHT data and keeps no state beyond the open sockets.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { addressKey } from './address-key.js';
import { answerPlainHttp, clientAddress, endpointUrl, listen, listeningAddress, pathOf, socketClosed } from './http.js';
import type { IceIssuer } from './ice-credentials.js';
import { resolveLimits, TokenBucket, type RelayLimits } from './limits.js';
import { PeerSet } from './peer-set.js';
import { checkHelloOnPool, checkSignal, deliveryFrame, type AdmittedKey } from './relay-auth.js';
import { startRelayPeer, type RelayFederation } from './relay-peer.js';
import type { TlsFiles } from './tls.js';
import {
  encodeMessage,
  parseClientMessage,
  RelayCloseCode,
  RelayErrorCode,
  type ServerMessage,
  type SignalRequest,
} from '../signaling/protocol.js';

export interface RelayOptions {
  /** Port to listen on; 0 picks a free one. Ignored when `server` is given. */
  port?: number;
  /** Interface to listen on (default 127.0.0.1; the CLI binds 0.0.0.0). Ignored when `server` is given. */
  host?: string;
  /** Attach to this HTTP(S) server (e.g. the one serving the demo) instead of creating one. */
  server?: Server | HttpsServer;
  /** Certificate and key: the relay's own server speaks wss. Ignored when `server` is given. */
  tls?: TlsFiles;
  /** STUN/TURN servers handed to each admitted peer (createIceIssuer). */
  ice?: IceIssuer;
  /** Behind a reverse proxy: count sockets per the address in X-Forwarded-For (see clientAddress). */
  trustProxy?: boolean;
  /** URL path of the WebSocket endpoint. */
  path?: string;
  limits?: Partial<RelayLimits>;
  /** The relay's own DHT peer and the relays it joins (relay-peer.ts); none without `federation.peer`. */
  federation?: RelayFederation;
}

export interface RelayStats {
  socketsOpen: number;
  authenticated: number;
  realms: number;
  signalsForwarded: number;
  /** Signals dropped because their signature did not verify under the sender's admitted key. */
  signalsForged: number;
  /** Sockets closed because they stopped reading while the relay had replies queued for them. */
  slowReadersClosed: number;
  /** Error frames sent (and oversize frames cut off by the transport), by code. */
  errors: Record<RelayErrorCode, number>;
}

export interface Relay {
  /** ws:// URL of the endpoint; throws if an attached server is not listening yet. */
  readonly address: string;
  readonly port: number;
  /** Close every socket, then the HTTP server if the relay created it. */
  close(): Promise<void>;
  stats(): RelayStats;
  /** true once the relay's own peer runs, false when it has none; rejects if its factory failed. */
  readonly peerStarted: Promise<boolean>;
  /** The node id of the relay's own peer while it runs (for logs, and tests telling its channel from the tabs'). */
  readonly peerId: string | undefined;
}

export const DEFAULT_RELAY_PATH = '/relay';
/** How long close() waits for clients to answer the close handshake before cutting them off. */
const CLOSE_GRACE_MS = 1_000;

/** One socket's state; `nodeId` is set once its hello has been verified. */
interface Conn {
  readonly socket: WebSocket;
  readonly remote: string;
  readonly nonce: string;
  readonly bucket: TokenBucket;
  /** Whether it counts against socketsPerAddress (refused sockets do not). */
  counted: boolean;
  nodeId: string | null;
  /** The admitted key, imported once: every signal the socket sends is verified with it. */
  admitted: AdmittedKey | null;
  /** A hello is being verified on the thread pool: the socket is neither admitted nor refused yet. */
  checking: boolean;
  realm: string;
  junk: number;
  alive: boolean;
  /** performance.now() by which a hello must have been verified (the sweep refuses it after). */
  helloDeadline: number;
}

export async function startRelay(options: RelayOptions = {}): Promise<Relay> {
  const limits = resolveLimits(options.limits);
  const path = options.path ?? DEFAULT_RELAY_PATH;
  const ownsServer = options.server === undefined;
  const server =
    options.server ??
    (options.tls === undefined
      ? createServer(answerPlainHttp(path))
      : createHttpsServer(options.tls, answerPlainHttp(path)));
  const ice = options.ice;

  // The relay tracks sockets itself; ws's own tracking would only duplicate it.
  // maxPayload is a hard cap well above the limit, so that frames just over the limit get
  // a TOO_LARGE reply (and count as junk) while huge ones are cut off unread.
  const wss = new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: limits.maxPayloadBytes * 4 });
  const conns = new Set<Conn>();
  /** Sockets not admitted yet: the hello sweep looks at these only. */
  const waiting = new Set<Conn>();
  const byId = new Map<string, Conn>();
  const realms = new Map<string, PeerSet>();
  const perAddress = new Map<string, number>();
  const errors = Object.fromEntries(Object.values(RelayErrorCode).map((c) => [c, 0])) as Record<RelayErrorCode, number>;
  let signalsForwarded = 0;
  let signalsForged = 0;
  let slowReadersClosed = 0;
  let closing: Promise<void> | null = null;

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (pathOf(req) !== path) {
      // Another upgrade listener (a dev server's HMR socket) may own this path; only answer if none does.
      if (server.listenerCount('upgrade') <= 1) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    if (closing) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req));
  }

  function onConnection(socket: WebSocket, req: IncomingMessage): void {
    const conn: Conn = {
      socket,
      remote: addressKey(clientAddress(req, options.trustProxy === true)),
      nonce: randomBytes(32).toString('hex'),
      bucket: new TokenBucket(limits.messagesPerSecond, limits.burstMessages, performance.now()),
      counted: false,
      nodeId: null,
      admitted: null,
      checking: false,
      realm: '',
      junk: 0,
      alive: true,
      helloDeadline: performance.now() + limits.helloTimeoutMs,
    };
    conns.add(conn);
    socket.on('close', () => forget(conn));
    socket.on('error', (err: Error & { code?: string }) => {
      // ws closes the socket itself after a protocol error; an oversize frame is the one worth counting.
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') errors.TOO_LARGE++;
    });
    socket.on('pong', () => (conn.alive = true));

    const open = perAddress.get(conn.remote) ?? 0;
    if (open >= limits.socketsPerAddress) {
      refuse(conn, RelayErrorCode.TOO_MANY_SOCKETS, `at most ${limits.socketsPerAddress} sockets per address`);
      return;
    }
    perAddress.set(conn.remote, open + 1);
    conn.counted = true;
    socket.on('message', (raw, isBinary) => onMessage(conn, raw, isBinary));
    // One sweep times out every silent socket: a timer per socket cost a burst of newcomers a timer-list insert each.
    waiting.add(conn);
    send(conn, { t: 'challenge', nonce: conn.nonce });
  }

  function onMessage(conn: Conn, raw: RawData, isBinary: boolean): void {
    if (conn.socket.readyState !== conn.socket.OPEN) return;
    // The rate limit comes first: parsing and verifying are the expensive part.
    if (!conn.bucket.take(performance.now())) {
      refuse(conn, RelayErrorCode.RATE_LIMITED, `more than ${limits.messagesPerSecond} messages per second`);
      return;
    }
    const bytes = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw);
    if (isBinary) return junk(conn, RelayErrorCode.MALFORMED, 'binary frames are not part of the protocol');
    if (bytes.length > limits.maxPayloadBytes) {
      return junk(conn, RelayErrorCode.TOO_LARGE, `message exceeds ${limits.maxPayloadBytes} bytes`);
    }
    const message = parseClientMessage(bytes.toString('utf8'));
    if (message === null) return junk(conn, RelayErrorCode.MALFORMED, 'not a relay protocol message');
    if (conn.nodeId === null) {
      if (message.t !== 'hello') return junk(conn, RelayErrorCode.NOT_AUTHENTICATED, 'answer the challenge first');
      if (conn.checking) return junk(conn, RelayErrorCode.MALFORMED, 'a hello is already being checked');
      conn.checking = true;
      return checkHelloOnPool(conn.nonce, message, (admitted) => {
        conn.checking = false;
        if (!conns.has(conn) || conn.socket.readyState !== conn.socket.OPEN) return;
        if (admitted === null)
          return refuse(conn, RelayErrorCode.BAD_SIGNATURE, 'hello signature does not match the challenge');
        admit(conn, message.realm, admitted);
      });
    }
    switch (message.t) {
      case 'hello':
        return junk(conn, RelayErrorCode.MALFORMED, 'already authenticated');
      case 'peers':
        return send(conn, { t: 'peers', peers: samplePeers(conn) });
      case 'signal':
        return forward(conn, message);
      case 'ice':
        // A relay without ICE configuration answers with an empty list: the peer keeps its own.
        return send(conn, { t: 'ice', ice: ice?.issue(conn.nodeId) ?? { iceServers: [] } });
    }
  }

  /** A verified hello: the socket is this node id's, with this key, in this realm. */
  function admit(conn: Conn, realmName: string, admitted: AdmittedKey): void {
    waiting.delete(conn);
    const nodeId = admitted.nodeId;
    const previous = byId.get(nodeId);
    if (previous !== undefined) {
      // The same node id again is a reloading tab; the newest socket wins so signals reach the live page.
      detach(previous);
      previous.socket.close(RelayCloseCode.REPLACED, 'replaced by a newer connection');
    }
    conn.nodeId = nodeId;
    conn.admitted = admitted;
    conn.realm = realmName;
    byId.set(nodeId, conn);
    let realm = realms.get(realmName);
    if (realm === undefined) realms.set(realmName, (realm = new PeerSet()));
    realm.add(nodeId);
    send(conn, {
      t: 'welcome',
      nodeId,
      peers: samplePeers(conn),
      ...(ice === undefined ? {} : { ice: ice.issue(nodeId) }),
    });
  }

  function forward(conn: Conn, signal: SignalRequest): void {
    const target = byId.get(signal.to);
    if (target === undefined || target.realm !== conn.realm || target.socket.readyState !== target.socket.OPEN) {
      return sendError(conn, RelayErrorCode.UNREACHABLE, 'target is not connected to this relay', signal.to);
    }
    // A reader that stops reading would otherwise make the relay buffer for it without bound.
    if (target.socket.bufferedAmount > limits.maxBufferedBytes) {
      return sendError(conn, RelayErrorCode.UNREACHABLE, 'target is not keeping up', signal.to);
    }
    const dataJson = encodeData(signal.data);
    if (dataJson === null) return junk(conn, RelayErrorCode.MALFORMED, 'signal data cannot be re-encoded');
    // The relay knows the sender's key, so a forged signal costs it one fast check here
    // instead of a pure-JS verification on the receiving page's main thread. The stamp is
    // signed with the data; whether it is fresh is the receiver's call (it remembers what
    // it has had): only the key holder's own socket can send through here anyway.
    const sender = conn.admitted!;
    if (!checkSignal(sender, signal, dataJson)) {
      signalsForged++;
      return junk(conn, RelayErrorCode.BAD_SIGNATURE, 'signal signature does not verify');
    }
    target.socket.send(deliveryFrame(sender, signal, dataJson));
    signalsForwarded++;
  }

  function samplePeers(conn: Conn): string[] {
    const members = realms.get(conn.realm);
    if (members === undefined) return [];
    const sample = members.sample(limits.peersInWelcome, conn.nodeId ?? undefined);
    // The relay's own peer is offered to everyone of its realm: it stays while tabs come and
    // go and, having joined other relays, is where their meshes meet (relay-peer.ts).
    const own = ownPeer.nodeId();
    if (own === undefined || own === conn.nodeId || !members.has(own)) return sample;
    return [own, ...sample.filter((id) => id !== own)].slice(0, limits.peersInWelcome);
  }

  function send(conn: Conn, message: ServerMessage): void {
    if (conn.socket.readyState !== conn.socket.OPEN) return;
    // A client that asks and never reads would make the relay queue replies for it without bound.
    if (conn.socket.bufferedAmount > limits.maxBufferedBytes) {
      slowReadersClosed++;
      conn.socket.terminate();
      return;
    }
    const frame = encodeMessage(message);
    if (frame !== null) conn.socket.send(frame);
  }

  function sendError(conn: Conn, code: RelayErrorCode, message: string, to?: string): void {
    errors[code]++;
    send(conn, to === undefined ? { t: 'error', code, message } : { t: 'error', code, message, to });
  }

  /** A bad message: tell the sender, and give up on it after a few. */
  function junk(conn: Conn, code: RelayErrorCode, message: string): void {
    sendError(conn, code, message);
    if (++conn.junk >= limits.junkBeforeClose) conn.socket.close(RelayCloseCode.POLICY, 'too many bad messages');
  }

  function refuse(conn: Conn, code: RelayErrorCode, message: string): void {
    sendError(conn, code, message);
    conn.socket.close(RelayCloseCode.POLICY, code);
  }

  /** Take a socket out of the routing maps (it may still be closing). */
  function detach(conn: Conn): void {
    if (conn.nodeId === null || byId.get(conn.nodeId) !== conn) return;
    byId.delete(conn.nodeId);
    const realm = realms.get(conn.realm);
    realm?.delete(conn.nodeId);
    if (realm?.size === 0) realms.delete(conn.realm);
  }

  function forget(conn: Conn): void {
    if (!conns.delete(conn)) return;
    waiting.delete(conn);
    detach(conn);
    if (conn.counted) {
      const left = (perAddress.get(conn.remote) ?? 1) - 1;
      if (left > 0) perAddress.set(conn.remote, left);
      else perAddress.delete(conn.remote);
    }
  }

  // A socket that has not answered the previous ping is gone (a sleeping laptop, a dropped NAT entry).
  const heartbeat = setInterval(() => {
    for (const conn of conns) {
      if (!conn.alive) {
        conn.socket.terminate();
        continue;
      }
      conn.alive = false;
      conn.socket.ping();
    }
  }, limits.heartbeatMs);
  heartbeat.unref();
  // A socket must have its hello verified within helloTimeoutMs; checked at a quarter of that, at most every second.
  const helloSweep = setInterval(
    () => {
      const now = performance.now();
      for (const conn of waiting) {
        if (now < conn.helloDeadline) continue;
        waiting.delete(conn);
        refuse(conn, RelayErrorCode.NOT_AUTHENTICATED, 'no valid hello in time');
      }
    },
    Math.min(1_000, limits.helloTimeoutMs / 4),
  );
  helloSweep.unref();

  server.on('upgrade', onUpgrade);
  if (ownsServer) await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  // An attached server may listen later (startDemoServer): the peer starts when it does.
  const ownPeer = startRelayPeer(server, () => endpointUrl(server, path), options.federation);

  async function shutdown(): Promise<void> {
    // The peer leaves first, while its relay still carries its goodbyes.
    await ownPeer.close();
    clearInterval(heartbeat);
    clearInterval(helloSweep);
    server.off('upgrade', onUpgrade);
    const closed = Promise.all([...conns].map((conn) => socketClosed(conn.socket)));
    for (const conn of conns) conn.socket.close(RelayCloseCode.GOING_AWAY, 'relay shutting down');
    const grace = setTimeout(() => conns.forEach((conn) => conn.socket.terminate()), CLOSE_GRACE_MS);
    await closed;
    clearTimeout(grace);
    wss.close();
    if (ownsServer && server.listening) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }

  return {
    get address() {
      return endpointUrl(server, path);
    },
    get port() {
      return listeningAddress(server).port;
    },
    close: () => (closing ??= shutdown()),
    peerStarted: ownPeer.started,
    get peerId() {
      return ownPeer.nodeId();
    },
    stats: () => ({
      socketsOpen: conns.size,
      authenticated: byId.size,
      realms: realms.size,
      signalsForwarded,
      signalsForged,
      slowReadersClosed,
      errors: { ...errors },
    }),
  };
}

/** `data` as JSON (as the sender signed it: src/signaling/auth.ts), or null when it cannot be encoded. */
function encodeData(data: unknown): string | null {
  try {
    return JSON.stringify(data) ?? null;
  } catch {
    return null;
  }
}
