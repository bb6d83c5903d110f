/**
 * The browser's (and Node's) side of the bootstrap relay (docs/ARCHITECTURE.md, Identity and trust; protocol in
 * protocol.ts): proves its node id by signing the relay's challenge, hands
 * signals to and from other peers, and verifies every incoming signal itself, so a relay
 * that rewrites data or lies about the sender is caught here rather than trusted.
 *
 * It uses only an injected WebSocket constructor (globalThis.WebSocket by default) and
 * the Clock from src/core, so the same file runs on the main thread, in Node and in tests.
 */
import { systemClock, type Clock } from '../core/environment.js';
import { ErrorCode, invalidArgument, MeshError } from '../core/errors.js';
import { isIdHex, toHex, type IdHex } from '../core/id.js';
import type { Identity } from '../core/identity.js';
import { signalSigningBytes, signHelloWith, verifySignalWith } from './signed-bytes.js';
import type { AsyncEd25519 } from '../crypto/async-ed25519.js';
import type { RelayIce } from './ice.js';
import {
  encodeMessage,
  isRealm,
  isSignalStamp,
  MAX_RELAY_MESSAGE_BYTES,
  parseServerMessage,
  RelayCloseCode,
  type ClientMessage,
  type RelayErrorCode,
  type ServerMessage,
  type StampedSignal,
} from './protocol.js';

/**
 * The part of a WebSocket this client touches. Handler parameters are typed `never` so
 * both the DOM WebSocket and ws's WebSocket (whose event classes differ) fit; the
 * handlers below check what they receive.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onmessage: ((event: never) => unknown) | null;
  onclose: ((event: never) => unknown) | null;
  onerror: ((event: never) => unknown) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export type SignalingStatus = 'connecting' | 'open' | 'closed';

export interface IncomingSignal extends StampedSignal {
  /** Verified: `fromKey` hashes to it and its key signed `data` and the stamp for this node. */
  from: IdHex;
  fromKey: string;
}

export interface SignalingError {
  /** A relay error code, or REPLACED when another socket took over this node id (no reconnect follows). */
  code: RelayErrorCode | 'REPLACED';
  message: string;
  /** On UNREACHABLE: the node id the relay could not reach. */
  to?: IdHex;
}

export interface SignalingEvents {
  status: SignalingStatus;
  welcome: { nodeId: IdHex; peers: IdHex[] };
  peers: IdHex[];
  /** ICE servers from the relay: with every welcome (empty when it has none) and in answer to requestIce(). */
  ice: RelayIce;
  signal: IncomingSignal;
  error: SignalingError;
}

export interface SignalingStats {
  signalsSent: number;
  signalsReceived: number;
  /** Signals dropped because they were not addressed to us or their signature did not hold. */
  rejectedSignals: number;
  /** Frames from the relay that did not parse. */
  malformedFrames: number;
  reconnects: number;
}

export interface SignalingClientOptions {
  /**
   * ws:// or wss:// URL of the relay endpoint (e.g. relay.address), or several relays in
   * order of preference: an attempt that fails (its socket closes before the relay admits
   * it) moves on to the next, wrapping round, and a relay that dropped an admitted socket
   * is tried again first. The backoff counts failed attempts whichever relay they were
   * on, so a list of dead relays is not tried any faster than one.
   */
  url: string | readonly string[];
  /**
   * Relays learned since (from the DHT, relay-directory.ts), read at each failover and tried
   * after the `url` list, in the order given; duplicates of `url` are skipped. So a peer whose
   * bootstrap relays are all gone moves on to one it learned, with the same backoff.
   */
  learned?: () => readonly string[];
  identity: Identity;
  realm: string;
  WebSocketImpl?: WebSocketConstructor;
  /** Reconnect delays: doubled per failed attempt from initialMs up to maxMs, with jitter. */
  backoff?: { initialMs?: number; maxMs?: number };
  clock?: Clock;
  /** Source of jitter, in [0, 1). */
  random?: () => number;
  /** Largest frame this client sends; the relay refuses larger ones anyway. */
  maxMessageBytes?: number;
  /**
   * Sign the hello and the signals, and check the signals received, with this Ed25519
   * (`asyncEd25519()`, crypto/async-ed25519.ts: the platform's where it has one, the pure-JS
   * one loaded on demand otherwise). Its answers come later, so signals go out, and come in,
   * in order behind each other. There is no synchronous path: the pure-JS Ed25519 would be
   * in every page's bundle for it.
   */
  ed25519: AsyncEd25519;
}

export interface SignalingClient {
  readonly status: SignalingStatus;
  /** The relay this client is connected to, or will try next. */
  readonly url: string;
  on<K extends keyof SignalingEvents>(type: K, listener: (value: SignalingEvents[K]) => void): () => void;
  /** Sign and send `signal` (its data any JSON value) to `to`; false when not connected. */
  sendSignal(to: IdHex, signal: StampedSignal): boolean;
  /** Ask the relay for a fresh sample of peers (answered by a `peers` event); false when not connected. */
  requestPeers(): boolean;
  /** Ask the relay for fresh ICE servers and TURN credentials (answered by an `ice` event); false when not connected. */
  requestIce(): boolean;
  stats(): SignalingStats;
  /** Disconnect for good; no reconnect follows. */
  close(): void;
}

const OPEN = 1;
const DEFAULT_BACKOFF = { initialMs: 500, maxMs: 30_000 };

export function createSignalingClient(options: SignalingClientOptions): SignalingClient {
  const { identity, realm } = options;
  const givenUrls = typeof options.url === 'string' ? [options.url] : options.url;
  if (
    !Array.isArray(givenUrls) ||
    givenUrls.length === 0 ||
    !givenUrls.every((u) => typeof u === 'string' && /^wss?:\/\//.test(u))
  ) {
    throw invalidArgument('url', 'a ws:// or wss:// URL, or a non-empty list of them', options.url);
  }
  // A relay named twice would be a dead end of the rotation, which follows URLs.
  const urls = [...new Set(givenUrls)];
  if (!isRealm(realm)) throw invalidArgument('realm', '1 to 64 characters', realm);
  const FoundImpl = options.WebSocketImpl ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (FoundImpl === undefined)
    throw invalidArgument('WebSocketImpl', 'a WebSocket constructor (this platform has none)');
  const Impl: WebSocketConstructor = FoundImpl;
  const initialMs = options.backoff?.initialMs ?? DEFAULT_BACKOFF.initialMs;
  const maxMs = options.backoff?.maxMs ?? DEFAULT_BACKOFF.maxMs;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const maxMessageBytes = options.maxMessageBytes ?? MAX_RELAY_MESSAGE_BYTES;
  const publicKeyHex = toHex(identity.publicKey);

  const listeners = new Map<keyof SignalingEvents, Set<(value: never) => void>>();
  const stats: SignalingStats = {
    signalsSent: 0,
    signalsReceived: 0,
    rejectedSignals: 0,
    malformedFrames: 0,
    reconnects: 0,
  };
  let status: SignalingStatus = 'connecting';
  let socket: WebSocketLike | null = null;
  /** Failed attempts since the last welcome; drives the backoff. */
  let attempt = 0;
  /** The relay the current (or next) attempt goes to: one of relays(). */
  let current = urls[0]!;
  let cancelRetry: (() => void) | null = null;
  let closed = false;
  const ed = options.ed25519;
  /** The ends of the queues of signals signed or checked by `ed`, so they leave and arrive in order. */
  let outgoing: Promise<void> = Promise.resolve();
  let incoming: Promise<void> = Promise.resolve();

  function emit<K extends keyof SignalingEvents>(type: K, value: SignalingEvents[K]): void {
    for (const listener of listeners.get(type) ?? []) {
      try {
        (listener as (v: SignalingEvents[K]) => void)(value);
      } catch (err) {
        // A throwing listener must not break the receive loop, nor vanish silently.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  function setStatus(next: SignalingStatus): void {
    if (status === next) return;
    status = next;
    emit('status', next);
  }

  function connect(): void {
    cancelRetry = null;
    let ws: WebSocketLike;
    try {
      ws = new Impl(current);
    } catch {
      // Browsers throw synchronously for some refusals (a blocked port); treat it as a failed attempt.
      failedAttempt();
      return;
    }
    socket = ws;
    let helloSent = false;
    let admitted = false;
    // Events from a socket we have already let go of are ignored.
    ws.onmessage = ((event: { data?: unknown }) => {
      if (socket !== ws) return;
      const message = typeof event.data === 'string' ? parseServerMessage(event.data) : null;
      if (message === null) {
        stats.malformedFrames++;
        return;
      }
      // One hello per socket: a relay fishing for signatures over nonces of its choosing gets one.
      if (message.t === 'challenge') {
        if (helloSent) return;
        helloSent = true;
        const hello = (signature: string): void => {
          if (socket === ws) send({ t: 'hello', publicKey: publicKeyHex, realm, signature });
        };
        void signHelloWith(ed, identity, message.nonce, realm).then(hello, () => undefined);
        return;
      }
      if (message.t === 'welcome' && message.nodeId === identity.nodeIdHex) admitted = true;
      onMessage(message);
    }) as WebSocketLike['onmessage'];
    ws.onclose = ((event: { code?: unknown }) => {
      if (socket !== ws) return;
      socket = null;
      onDrop(typeof event.code === 'number' ? event.code : 1006, admitted);
    }) as WebSocketLike['onclose'];
    // An error is always followed by a close event, which is where recovery happens.
    ws.onerror = (() => undefined) as WebSocketLike['onerror'];
  }

  function onMessage(message: Exclude<ServerMessage, { t: 'challenge' }>): void {
    switch (message.t) {
      case 'welcome':
        if (message.nodeId !== identity.nodeIdHex) {
          stats.malformedFrames++;
          return;
        }
        attempt = 0;
        setStatus('open');
        // ICE first: the welcome's listeners dial introductions, which should use these servers.
        emit('ice', message.ice ?? { iceServers: [] });
        emit('welcome', { nodeId: message.nodeId, peers: message.peers });
        return;
      case 'ice':
        emit('ice', message.ice);
        return;
      case 'peers':
        emit('peers', message.peers);
        return;
      case 'signal': {
        // Checked in parallel, handed on in the order they came.
        const verdict = verifySignalWith(ed, message, identity.nodeIdHex);
        incoming = incoming.then(() => verdict).then((genuine) => received(message, genuine));
        return;
      }
      case 'error': {
        const error: SignalingError = { code: message.code, message: message.message };
        if (message.to !== undefined) error.to = message.to;
        emit('error', error);
        return;
      }
    }
  }

  function received(message: Extract<ServerMessage, { t: 'signal' }>, genuine: boolean): void {
    if (closed) return;
    if (!genuine) {
      stats.rejectedSignals++;
      return;
    }
    stats.signalsReceived++;
    emit('signal', {
      from: message.from,
      fromKey: message.fromKey,
      data: message.data,
      ts: message.ts,
      session: message.session,
      seq: message.seq,
    });
  }

  function onDrop(code: number, admitted: boolean): void {
    if (closed) return;
    if (code === RelayCloseCode.REPLACED) {
      // Another tab now holds this identity; reconnecting would push it off and start a tug of war.
      closed = true;
      setStatus('closed');
      emit('error', { code: 'REPLACED', message: 'another connection took over this node id' });
      return;
    }
    setStatus('connecting');
    // A relay that admitted us was working: it gets the first retry (it may only be restarting).
    if (admitted) scheduleReconnect();
    else failedAttempt();
  }

  /** This relay could not be reached (or would not admit us): the next attempt goes to the next one. */
  function failedAttempt(): void {
    const list = relays();
    // A relay no longer listed (a learned one forgotten meanwhile) hands over to the first.
    current = list[(list.indexOf(current) + 1) % list.length]!;
    scheduleReconnect();
  }

  /** The bootstrap list, then the relays learned so far that it does not already name. */
  function relays(): readonly string[] {
    const extra = options.learned?.() ?? [];
    if (extra.length === 0) return urls;
    const all = [...urls];
    for (const url of extra) if (typeof url === 'string' && /^wss?:\/\//.test(url) && !all.includes(url)) all.push(url);
    return all;
  }

  /** Exponential backoff with "equal jitter": between half and all of the capped delay. */
  function scheduleReconnect(): void {
    if (closed) return;
    const capped = Math.min(maxMs, initialMs * 2 ** attempt);
    const delay = capped / 2 + (random() * capped) / 2;
    attempt = Math.min(attempt + 1, 30);
    cancelRetry = clock.setTimer(delay, () => {
      stats.reconnects++;
      connect();
    });
  }

  function send(message: ClientMessage): boolean {
    if (socket === null || socket.readyState !== OPEN) return false;
    const frame = encode(message);
    socket.send(frame);
    return true;
  }

  /** The frame of `message`; throws for data that is not JSON or a frame over the bound. */
  function encode(message: ClientMessage): string {
    const frame = encodeMessage(message);
    if (frame === null) throw invalidArgument('data', 'a JSON-encodable value');
    // UTF-8 needs at most 3 bytes per UTF-16 unit, so most frames skip the exact count.
    if (frame.length * 3 > maxMessageBytes && new TextEncoder().encode(frame).length > maxMessageBytes) {
      throw new MeshError(ErrorCode.TOO_LARGE, `signaling message exceeds ${maxMessageBytes} bytes`);
    }
    return frame;
  }

  connect();

  return {
    get status() {
      return status;
    },
    get url() {
      return current;
    },
    on(type, listener) {
      let set = listeners.get(type);
      if (set === undefined) listeners.set(type, (set = new Set()));
      const entry = listener as (value: never) => void;
      set.add(entry);
      return () => void set.delete(entry);
    },
    sendSignal(to, signal) {
      if (!isIdHex(to)) throw invalidArgument('to', 'a node id (64 lowercase hex characters)', to);
      if (!isSignalStamp(signal)) throw invalidArgument('signal', 'a stamp: integer ts, session hex, seq', signal);
      if (status !== 'open') return false;
      const { data, ts, session, seq } = signal;
      const payload = signalSigningBytes(identity, to, signal);
      if (payload === null) throw invalidArgument('data', 'a JSON-encodable value', data);
      // What would fail once signed fails now, with the frame's size (a signature is 128 hex characters).
      encode({ t: 'signal', to, data, ts, session, seq, signature: '0'.repeat(128) });
      const signed = ed.sign(payload, identity.secretKey);
      // Signed in parallel, sent in the order given: an answer never overtakes its candidates' offer.
      outgoing = outgoing
        .then(() => signed)
        .then((signature) => {
          if (!closed && send({ t: 'signal', to, data, ts, session, seq, signature: toHex(signature) }))
            stats.signalsSent++;
        })
        .catch(() => undefined);
      return true;
    },
    requestPeers() {
      return status === 'open' && send({ t: 'peers' });
    },
    requestIce() {
      return status === 'open' && send({ t: 'ice' });
    },
    stats: () => ({ ...stats }),
    close() {
      if (closed && socket === null) return;
      closed = true;
      cancelRetry?.();
      cancelRetry = null;
      const ws = socket;
      socket = null;
      ws?.close(1000, 'client closed');
      setStatus('closed');
    },
  };
}
