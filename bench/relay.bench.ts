/**
 * `npm run bench:relay`: the bootstrap relay under 1,000 authenticated sockets, on
 * 127.0.0.1 only. Three processes, so that each figure belongs to one of them:
 *
 * - relay (a child): startRelay(), answering requests for its own memory, CPU and
 *   event-loop figures over IPC, so its memory is measured apart from the clients';
 * - load (a child): 1,000 raw `ws` clients speaking the relay protocol, then the signal load;
 * - this process: orchestration and the latency probes (a fresh client's hello → welcome,
 *   a signal round trip through the relay).
 *
 * Limits raised for the benchmark (every client shares one address, and the load is
 * driven as fast as the relay takes it): socketsPerAddress 2,000, messagesPerSecond
 * 10,000 and burstMessages 20,000 per socket. The report says how far below the default
 * limits (100/s, burst 200) each socket actually stayed.
 *
 * The relay runs its own DHT peer, as the command line starts it (src/cli/relay-own-peer.ts:
 * a Node peer through @roamhq/wrtc, holding a link to this relay); BENCH_RELAY_PEER=0
 * measures the relay signaling only. The raw load clients never open WebRTC channels, so
 * the peer's share is its memory and its idle maintenance, and the introductions that
 * name it.
 *
 * Run one role alone with `tsx bench/relay.bench.ts relay|load` (they expect an IPC parent).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createPrivateKey, sign as nodeSign, type KeyObject } from 'node:crypto';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import WebSocket, { type RawData } from 'ws';
import { seededRandom, type Random } from '../src/core/environment.js';
import { toHex } from '../src/core/id.js';
import { createIdentity, type Identity } from '../src/core/identity.js';
import { helloPayload, signalPayload, signHello, signSignal, verifySignal } from '../src/signaling/auth.js';
import { DEFAULT_RELAY_LIMITS, type RelayLimits } from '../src/relay/limits.js';
import {
  encodeMessage,
  freshSignal,
  newSignalSession,
  parseServerMessage,
  type SignalDelivery,
  type StampedSignal,
} from '../src/signaling/protocol.js';
import { startRelay, type Relay, type RelayStats } from '../src/relay/relay.js';
import { startRelayOwnPeer } from '../src/cli/relay-own-peer.js';
import { createSignalingClient, type SignalingClient } from '../src/signaling/client.js';
import { asyncEd25519 } from '../src/crypto/async-ed25519.js';
import { startFloorServer, type FloorServer } from './relay-floor.js';
import { mean, percentile, table, writeSection } from './report.js';

const SOCKETS = 1_000;
/** Whether the relay runs its own DHT peer (the command line's default); BENCH_RELAY_PEER=0: signaling only. */
const WITH_PEER = process.env['BENCH_RELAY_PEER'] !== '0';
const LOAD_MS = 5_000;
/** The issue's target rate: the steady phase offers exactly this. */
const STEADY_RATE = 5_000;
/** Signals sent but not yet delivered (or refused), across all load clients: the load is closed-loop. */
const IN_FLIGHT = 1_000;
/** Distinct recipients each load client sends to (each with its own pre-signed frame). */
const TARGETS_PER_SENDER = 4;
/** The realm every peer is in unless its app names one, the relay's own peer's too: the welcomes name that peer. */
const REALM = 'default';
/** An Ed25519 signature in hex: the end of every delivery frame. */
const SIGNATURE_HEX = 128;
const BENCH_LIMITS: Partial<RelayLimits> = {
  socketsPerAddress: 2_000,
  messagesPerSecond: 10_000,
  burstMessages: 20_000,
};
/** A probe's bound: generous, since a loaded shared machine can starve a probe for seconds without anything being broken. */
const PROBE_TIMEOUT_MS = 30_000;
/** Every wait in this file is bounded by this, so a broken relay fails the run instead of hanging it. */
const STEP_TIMEOUT_MS = 60_000;

// ---- IPC between this process and its children: one request, one reply ----

interface Request {
  id: number;
  op: string;
  args?: unknown;
}
type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
type Handlers = Record<string, (args: unknown) => Promise<unknown> | unknown>;

/** A child's side: answer requests until `stop`, then let go of the IPC channel and end. */
function serve(handlers: Handlers): void {
  if (process.send === undefined) throw new Error('this role runs as a child of `npm run bench:relay`');
  const send = process.send.bind(process);
  process.on('message', (raw: unknown) => {
    const req = raw as Request;
    void (async () => {
      let reply: Reply;
      try {
        const handler = handlers[req.op];
        if (handler === undefined) throw new Error(`unknown op ${req.op}`);
        reply = { id: req.id, ok: true, result: await handler(req.args) };
      } catch (e) {
        reply = { id: req.id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
      }
      send(reply, undefined, undefined, () => {
        if (req.op === 'stop') process.disconnect?.();
      });
    })();
  });
}

interface Child {
  call<T>(op: string, args?: unknown): Promise<T>;
  exited: Promise<number | null>;
}

function spawnRole(role: 'relay' | 'load'): Child {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [role], {
    execArgv: [...process.execArgv, '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (raw: unknown) => {
    const reply = raw as Reply;
    const waiter = pending.get(reply.id);
    if (waiter === undefined) return;
    pending.delete(reply.id);
    if (reply.ok) waiter.resolve(reply.result);
    else waiter.reject(new Error(`${role}: ${reply.error}`));
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      for (const waiter of pending.values())
        waiter.reject(new Error(`${role} exited (${code}) with a request pending`));
      pending.clear();
      resolve(code);
    }),
  );
  return {
    exited,
    call: <T>(op: string, args?: unknown) =>
      withTimeout(
        new Promise<T>((resolve, reject) => {
          const id = next++;
          pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
          child.send({ id, op, args } satisfies Request);
        }),
        STEP_TIMEOUT_MS,
        `${role}.${op}`,
      ),
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---- the relay process ----

interface Memory {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}
interface LoadSample {
  wallMs: number;
  cpuMs: number;
  /** Fraction of the window the event loop was busy (performance.eventLoopUtilization). */
  utilization: number;
  delayP50Ms: number;
  delayP99Ms: number;
  maxRssBytes: number;
  stats: RelayStats;
}

function relayRole(): void {
  let relay: Relay | undefined;
  let floor: FloorServer | undefined;
  const delay = monitorEventLoopDelay({ resolution: 5 });
  let mark = { at: performance.now(), cpu: process.cpuUsage(), elu: performance.eventLoopUtilization() };
  const gc = (globalThis as { gc?: () => void }).gc;
  serve({
    start: async () => {
      relay = await startRelay({
        port: 0,
        host: '127.0.0.1',
        limits: BENCH_LIMITS,
        ...(WITH_PEER ? { federation: { peer: startRelayOwnPeer } } : {}),
      });
      await relay.peerStarted;
      return { address: relay.address, peerId: relay.peerId ?? null };
    },
    floorStart: async () => {
      floor = await startFloorServer();
      return floor.url;
    },
    floorStop: async () => {
      await floor?.close();
      floor = undefined;
    },
    memory: (): Memory => {
      gc?.();
      gc?.();
      const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
      return { rss, heapUsed, external, arrayBuffers };
    },
    mark: () => {
      delay.reset();
      delay.enable();
      mark = { at: performance.now(), cpu: process.cpuUsage(), elu: performance.eventLoopUtilization() };
    },
    sample: (): LoadSample => {
      delay.disable();
      const cpu = process.cpuUsage(mark.cpu);
      return {
        wallMs: performance.now() - mark.at,
        cpuMs: (cpu.user + cpu.system) / 1000,
        utilization: performance.eventLoopUtilization(mark.elu).utilization,
        delayP50Ms: delay.percentile(50) / 1e6,
        delayP99Ms: delay.percentile(99) / 1e6,
        maxRssBytes: process.resourceUsage().maxRSS * 1024,
        stats: relay!.stats(),
      };
    },
    stop: async () => {
      await relay?.close();
      return relay?.stats();
    },
  });
}

// ---- the load process ----

interface LoadClient {
  readonly index: number;
  readonly identity: Identity;
  /** The same Ed25519 key as node:crypto's KeyObject: native signing keeps the clients from being the bottleneck. */
  readonly key: KeyObject;
  readonly publicKeyHex: string;
  ws: WebSocket | undefined;
  openedAt: number;
  admittedAt: number;
  /** Pre-signed signal frames to this client's recipients. */
  frames: string[];
  sent: number;
}

interface OpenResult {
  identitiesMs: number;
  admitMs: number;
  perSocketP50Ms: number;
  perSocketP95Ms: number;
  perSocketMaxMs: number;
  admitted: number;
  failed: number;
}

interface LoadResult {
  /** CPU the load process spent in the window, ms. */
  cpuMs: number;
  meanFrameBytes: number;
  windowMs: number;
  sentInWindow: number;
  deliveredInWindow: number;
  refusedInWindow: number;
  refusals: Record<string, number>;
  deliveredAfter: number;
  /** Refusals that came back after the window (those in it are refusedInWindow). */
  refusedAfter: number;
  /** sent − delivered − refused once the drain ended: signals that never landed. */
  inFlightAtEnd: number;
  /**
   * Signals the load clients received that none of this phase's sends produced: an earlier
   * phase's stragglers, or the relay's own peer dialling the clients it was introduced to.
   * Not counted as deliveries (they would make more land than was sent).
   */
  stray: number;
  maxPerSocketPerS: number;
  meanPerSocketPerS: number;
  /** Deliveries checked in full with verifySignal (the relay must pass frames on intact). */
  verified: number;
  verifiedOk: number;
}

const base64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

function nodeKey(identity: Identity): KeyObject {
  return createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', d: base64url(identity.secretKey), x: base64url(identity.publicKey) },
    format: 'jwk',
  });
}

const nativeSign = (key: KeyObject, payload: Uint8Array): string => toHex(nodeSign(null, payload, key));

/** Signal data shaped like simple-peer's: now and then an SDP offer, mostly ICE candidates. */
function signalData(i: number, random: Random): unknown {
  const port = 40_000 + Math.floor(random.next() * 20_000);
  if (i % TARGETS_PER_SENDER === 0) {
    const ufrag = toHex(random.bytes(4));
    const fingerprint = Array.from(random.bytes(32), (b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
    const sdp = [
      'v=0',
      `o=- ${Math.floor(random.next() * 1e18)} 2 IN IP4 127.0.0.1`,
      's=-',
      't=0 0',
      'a=group:BUNDLE 0',
      'a=extmap-allow-mixed',
      'a=msid-semantic: WMS',
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
      'c=IN IP4 0.0.0.0',
      `a=ice-ufrag:${ufrag}`,
      `a=ice-pwd:${toHex(random.bytes(12))}`,
      'a=ice-options:trickle',
      `a=fingerprint:sha-256 ${fingerprint}`,
      'a=setup:actpass',
      'a=mid:0',
      'a=sctp-port:5000',
      'a=max-message-size:262144',
      '',
    ].join('\r\n');
    return { type: 'offer', sdp };
  }
  const candidate = `candidate:${Math.floor(random.next() * 4e9)} 1 udp 2113937151 ${toHex(random.bytes(8))}.local ${port} typ host generation 0 ufrag ${toHex(random.bytes(2))} network-cost 999`;
  return { type: 'candidate', candidate: { candidate, sdpMLineIndex: 0, sdpMid: '0' } };
}

function loadRole(): void {
  const clients: LoadClient[] = [];
  const random = seededRandom(42);
  const counters = { running: false, sent: 0, delivered: 0, refused: 0, stray: 0 };
  /** The signatures of the frames the current phase sends: a delivery is one of them, or stray. */
  let phaseSignatures = new Set<string>();
  let phases = 0;
  const refusals: Record<string, number> = {};
  const samples: string[] = [];
  let pump: () => void = () => undefined;

  // Frames start `{"t":"<type>"`: byte 6 tells a delivery from an error without parsing the rest.
  const S = 's'.charCodeAt(0);
  const E = 'e'.charCodeAt(0);

  function onLoadFrame(c: LoadClient, data: RawData): void {
    const buf = data as Buffer;
    if (buf[6] === S) {
      // A delivery ends `"signature":"<hex>"}` (relay-auth.ts, deliveryFrame): the signature names the frame sent.
      const signature = buf.toString('latin1', buf.length - 2 - SIGNATURE_HEX, buf.length - 2);
      if (!phaseSignatures.has(signature)) {
        counters.stray++;
        return;
      }
      counters.delivered++;
      if (samples.length < 20) samples.push(`${c.identity.nodeIdHex}|${buf.toString('utf8')}`);
    } else if (buf[6] === E) {
      counters.refused++;
      const m = parseServerMessage(buf.toString('utf8'));
      if (m?.t === 'error') refusals[m.code] = (refusals[m.code] ?? 0) + 1;
    }
    if (counters.running) pump();
  }

  function admit(url: string, c: LoadClient): Promise<boolean> {
    return new Promise((resolve) => {
      c.openedAt = performance.now();
      const ws = new WebSocket(url, { perMessageDeflate: false });
      c.ws = ws;
      let done = false;
      const finish = (ok: boolean): void => {
        if (done) return;
        done = true;
        resolve(ok);
      };
      ws.on('error', () => finish(false));
      ws.on('close', () => finish(false));
      ws.on('message', (data: RawData) => {
        if (c.admittedAt > 0) return onLoadFrame(c, data);
        const m = parseServerMessage(String(data));
        if (m?.t === 'challenge') {
          const signature = nativeSign(c.key, helloPayload(m.nonce, c.identity.nodeIdHex, REALM));
          ws.send(encodeMessage({ t: 'hello', publicKey: c.publicKeyHex, realm: REALM, signature })!);
        } else if (m?.t === 'welcome') {
          c.admittedAt = performance.now();
          finish(true);
        } else {
          finish(false);
        }
      });
    });
  }

  /** Each client signs one frame for each of its recipients, once; the load replays them. */
  /** Fresh frames for every phase, so that a signal of an earlier one landing late is told apart. */
  function presign(live: LoadClient[]): void {
    phaseSignatures = new Set();
    for (const c of live) {
      c.frames = [];
      for (let i = 0; i < TARGETS_PER_SENDER; i++) {
        let target = live[Math.floor(random.next() * live.length)]!;
        while (target === c) target = live[Math.floor(random.next() * live.length)]!;
        const to = target.identity.nodeIdHex;
        const data = signalData(i, random);
        const stamp = { ts: Date.now(), session: newSignalSession(), seq: i };
        const signature = nativeSign(c.key, signalPayload(c.identity.nodeIdHex, to, stamp, JSON.stringify(data)));
        if (signature.length !== SIGNATURE_HEX) throw new Error(`a signature of ${signature.length} hex digits`);
        phaseSignatures.add(signature);
        c.frames.push(encodeMessage({ t: 'signal', to, data, ...stamp, signature })!);
      }
    }
    // One check with the project's own signer: the frames are what a real client sends.
    const first = live[0]!;
    const frame = JSON.parse(first.frames[1]!) as StampedSignal & { to: string; signature: string };
    if (signSignal(first.identity, frame.to, frame) !== frame.signature)
      throw new Error('node:crypto and signSignal disagree');
  }

  serve({
    open: async (args) => {
      const { url, count } = args as { url: string; count: number };
      const t0 = performance.now();
      for (let i = 0; i < count; i++) {
        const identity = createIdentity(seededRandom(i + 1).bytes);
        clients.push({
          index: i,
          identity,
          key: nodeKey(identity),
          publicKeyHex: toHex(identity.publicKey),
          ws: undefined,
          openedAt: 0,
          admittedAt: 0,
          frames: [],
          sent: 0,
        });
      }
      const identitiesMs = performance.now() - t0;
      // Native signing must give exactly the signatures the project's own functions give.
      const probe = clients[0]!;
      const nonce = 'ab'.repeat(32);
      if (
        nativeSign(probe.key, helloPayload(nonce, probe.identity.nodeIdHex, REALM)) !==
        signHello(probe.identity, nonce, REALM)
      ) {
        throw new Error('node:crypto and signHello disagree');
      }
      const start = performance.now();
      const results = await Promise.all(clients.map((c) => admit(url, c)));
      const admitMs = performance.now() - start;
      const each = clients.filter((c) => c.admittedAt > 0).map((c) => c.admittedAt - c.openedAt);
      return {
        identitiesMs,
        admitMs,
        perSocketP50Ms: percentile(each, 50),
        perSocketP95Ms: percentile(each, 95),
        perSocketMaxMs: Math.max(...each),
        admitted: results.filter(Boolean).length,
        failed: results.filter((ok) => !ok).length,
      } satisfies OpenResult;
    },
    /** The same clients through the same handshake against the bare floor server, all at once; then closed. */
    floor: async (args) => {
      const { url } = args as { url: string };
      const sockets: WebSocket[] = [];
      const start = performance.now();
      const results = await Promise.all(
        clients.map(
          (c) =>
            new Promise<boolean>((resolve) => {
              const ws = new WebSocket(url, { perMessageDeflate: false });
              sockets.push(ws);
              ws.on('error', () => resolve(false));
              ws.on('close', () => resolve(false));
              ws.on('message', (data: RawData) => {
                const m = parseServerMessage(String(data));
                if (m?.t === 'challenge') {
                  const signature = nativeSign(c.key, helloPayload(m.nonce, c.identity.nodeIdHex, REALM));
                  ws.send(encodeMessage({ t: 'hello', publicKey: c.publicKeyHex, realm: REALM, signature })!);
                } else resolve(m?.t === 'welcome');
              });
            }),
        ),
      );
      const admitMs = performance.now() - start;
      const closed = sockets.map((ws) => new Promise<void>((resolve) => ws.once('close', () => resolve())));
      for (const ws of sockets) ws.close();
      await Promise.all(closed);
      return { admitMs, admitted: results.filter(Boolean).length };
    },
    prepare: () => {
      const t0 = performance.now();
      presign(clients.filter((c) => c.admittedAt > 0));
      return performance.now() - t0;
    },
    load: async (args) => {
      const { durationMs, inFlight, ratePerS } = args as { durationMs: number; inFlight: number; ratePerS?: number };
      const live = clients.filter((c) => c.admittedAt > 0 && c.ws?.readyState === WebSocket.OPEN);
      // The first phase uses the frames 'prepare' signed (and timed); later ones sign their own.
      if (phases++ > 0 || live.some((c) => c.frames.length === 0)) presign(live);
      const bytes = live.reduce((sum, c) => sum + c.frames.reduce((n, f) => n + Buffer.byteLength(f), 0), 0);
      Object.assign(counters, { sent: 0, delivered: 0, refused: 0, stray: 0 });
      for (const code of Object.keys(refusals)) delete refusals[code];
      for (const c of live) c.sent = 0;

      const sendOne = (): void => {
        const c = live[Math.floor(random.next() * live.length)]!;
        c.ws!.send(c.frames[Math.floor(random.next() * c.frames.length)]!);
        c.sent++;
        counters.sent++;
      };
      const inFlightNow = (): number => counters.sent - counters.delivered - counters.refused;
      const start = performance.now();
      const cpuBefore = process.cpuUsage();
      let ticker: ReturnType<typeof setInterval> | undefined;
      counters.running = true;
      if (ratePerS === undefined) {
        // As fast as the relay takes them: every delivery or refusal frees a slot for the next signal.
        pump = () => {
          while (counters.running && inFlightNow() < inFlight) sendOne();
        };
        pump();
      } else {
        // A steady offered rate, paced every 5 ms (the in-flight bound only guards against a stalled relay).
        pump = () => undefined;
        ticker = setInterval(() => {
          const due = Math.floor(((performance.now() - start) * ratePerS) / 1000) - counters.sent;
          for (let i = 0; i < due && inFlightNow() < inFlight; i++) sendOne();
        }, 5);
      }
      await sleep(durationMs);
      counters.running = false;
      clearInterval(ticker);
      const windowMs = performance.now() - start;
      const cpu = process.cpuUsage(cpuBefore);
      const snapshot = { ...counters };
      // Let what is in flight land, bounded.
      const drainUntil = performance.now() + 3_000;
      while (inFlightNow() > 0 && performance.now() < drainUntil) await sleep(20);
      const perSocket = live.map((c) => (c.sent * 1000) / windowMs);

      let verifiedOk = 0;
      for (const s of samples) {
        const at = s.indexOf('|');
        const m = parseServerMessage(s.slice(at + 1));
        if (m?.t === 'signal' && verifySignal(m as SignalDelivery, s.slice(0, at))) verifiedOk++;
      }
      return {
        cpuMs: (cpu.user + cpu.system) / 1000,
        meanFrameBytes: bytes / (live.length * TARGETS_PER_SENDER),
        windowMs,
        sentInWindow: snapshot.sent,
        deliveredInWindow: snapshot.delivered,
        refusedInWindow: snapshot.refused,
        refusals: { ...refusals },
        deliveredAfter: counters.delivered - snapshot.delivered,
        refusedAfter: counters.refused - snapshot.refused,
        inFlightAtEnd: inFlightNow(),
        stray: counters.stray,
        maxPerSocketPerS: Math.max(...perSocket),
        meanPerSocketPerS: mean(perSocket),
        verified: samples.length,
        verifiedOk,
      } satisfies LoadResult;
    },
    stop: async () => {
      const closed = clients.map((c) =>
        c.ws === undefined || c.ws.readyState === WebSocket.CLOSED
          ? Promise.resolve()
          : new Promise<void>((resolve) => c.ws!.once('close', () => resolve())),
      );
      for (const c of clients) c.ws?.close(1000, 'bench done');
      const grace = setTimeout(() => clients.forEach((c) => c.ws?.terminate()), 3_000);
      await Promise.all(closed);
      clearTimeout(grace);
    },
  });
}

// ---- this process: probes and the report ----

interface HelloTiming {
  /** new WebSocket → welcome: TCP, upgrade, challenge, signing the hello, the relay's check. */
  totalMs: number;
  /** hello sent → welcome received: the relay's verification and its queue. */
  helloMs: number;
}

async function freshClient(url: string, identity: Identity): Promise<HelloTiming> {
  const t0 = performance.now();
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  ws.on('error', () => undefined);
  try {
    return await withTimeout(
      new Promise<HelloTiming>((resolve, reject) => {
        let helloAt = 0;
        ws.on('message', (data: RawData) => {
          const m = parseServerMessage(String(data));
          if (m?.t === 'challenge') {
            const signature = signHello(identity, m.nonce, REALM);
            helloAt = performance.now();
            ws.send(encodeMessage({ t: 'hello', publicKey: toHex(identity.publicKey), realm: REALM, signature })!);
          } else if (m?.t === 'welcome') {
            const now = performance.now();
            resolve({ totalMs: now - t0, helloMs: now - helloAt });
          } else {
            reject(new Error(`fresh client: unexpected ${String(data).slice(0, 80)}`));
          }
        });
      }),
      PROBE_TIMEOUT_MS,
      'fresh client',
    );
  } finally {
    ws.close();
    await closed;
  }
}

/**
 * Two raw sockets: `a` sends a pre-signed signal to `b`, `b` sends one back. Measures the
 * relay (two forwards) and nothing of the clients' own signing and checking.
 */
interface RawPair {
  roundTrip(): Promise<number>;
  close(): Promise<void>;
}

async function rawPair(url: string, a: Identity, b: Identity): Promise<RawPair> {
  const join = (identity: Identity): Promise<WebSocket> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      ws.on('error', reject);
      const onJoin = (data: RawData): void => {
        const m = parseServerMessage(String(data));
        if (m?.t === 'challenge') {
          ws.send(
            encodeMessage({
              t: 'hello',
              publicKey: toHex(identity.publicKey),
              realm: REALM,
              signature: signHello(identity, m.nonce, REALM),
            })!,
          );
        } else if (m?.t === 'welcome') {
          ws.off('message', onJoin);
          resolve(ws);
        }
      };
      ws.on('message', onJoin);
    });
  const [wa, wb] = await Promise.all([join(a), join(b)]);
  const data = {
    type: 'candidate',
    candidate: { candidate: 'candidate:1 1 udp 2113937151 probe.local 50000 typ host', sdpMLineIndex: 0, sdpMid: '0' },
  };
  const frame = (from: Identity, to: Identity): string => {
    const signal = freshSignal(data);
    return encodeMessage({
      t: 'signal',
      to: to.nodeIdHex,
      ...signal,
      signature: signSignal(from, to.nodeIdHex, signal)!,
    })!;
  };
  const toB = frame(a, b);
  const toA = frame(b, a);
  wb.on('message', () => wb.send(toA));
  let waiting: (() => void) | undefined;
  wa.on('message', () => waiting?.());
  return {
    async roundTrip() {
      const t0 = performance.now();
      await withTimeout(
        new Promise<void>((resolve) => {
          waiting = resolve;
          wa.send(toB);
        }),
        PROBE_TIMEOUT_MS,
        'raw round trip',
      );
      waiting = undefined;
      return performance.now() - t0;
    },
    async close() {
      const closed = [wa, wb].map((ws) => new Promise<void>((resolve) => ws.once('close', () => resolve())));
      wa.close();
      wb.close();
      await Promise.all(closed);
    },
  };
}

/** Two createSignalingClient peers, `b` echoing: what a tab sees, including its own signing and checking. */
interface ClientPair {
  roundTrip(): Promise<number>;
  close(): void;
}

async function clientPair(url: string, a: Identity, b: Identity): Promise<ClientPair> {
  const make = (identity: Identity): SignalingClient =>
    createSignalingClient({ url, identity, realm: REALM, WebSocketImpl: WebSocket, ed25519: asyncEd25519() });
  const ca = make(a);
  const cb = make(b);
  const opened = (c: SignalingClient): Promise<void> =>
    new Promise((resolve) => {
      if (c.status === 'open') return resolve();
      const off = c.on('status', (s) => s === 'open' && (off(), resolve()));
    });
  await withTimeout(Promise.all([opened(ca), opened(cb)]), 10_000, 'signaling clients');
  // Echoed with the same stamp: the relay leaves freshness to the receivers, and these only count.
  cb.on('signal', (s) => void cb.sendSignal(s.from, s));
  const waiting = new Map<number, () => void>();
  ca.on('signal', (s) => waiting.get((s.data as { n: number }).n)?.());
  let n = 0;
  return {
    async roundTrip() {
      const id = n++;
      const t0 = performance.now();
      await withTimeout(
        new Promise<void>((resolve) => {
          waiting.set(id, resolve);
          ca.sendSignal(
            b.nodeIdHex,
            freshSignal({
              n: id,
              type: 'candidate',
              candidate: {
                candidate: 'candidate:1 1 udp 2113937151 probe.local 50000 typ host',
                sdpMLineIndex: 0,
                sdpMid: '0',
              },
            }),
          );
        }),
        PROBE_TIMEOUT_MS,
        'client round trip',
      );
      waiting.delete(id);
      return performance.now() - t0;
    },
    close() {
      ca.close();
      cb.close();
    },
  };
}

interface ProbeFigures {
  hello: HelloTiming[];
  raw: number[];
  client: number[];
}

/** Run each probe in its own sequential loop until `untilMs` (performance.now()). */
async function probe(
  url: string,
  untilMs: number,
  identities: () => Identity,
  raw: RawPair,
  client: ClientPair,
): Promise<ProbeFigures> {
  const out: ProbeFigures = { hello: [], raw: [], client: [] };
  const loop = async (everyMs: number, step: () => Promise<void>): Promise<void> => {
    while (performance.now() < untilMs) {
      await step();
      await sleep(everyMs);
    }
  };
  await Promise.all([
    loop(100, async () => void out.hello.push(await freshClient(url, identities()))),
    loop(20, async () => void out.raw.push(await raw.roundTrip())),
    loop(50, async () => void out.client.push(await client.roundTrip())),
  ]);
  return out;
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;
const ms = (v: number): string => `${v.toFixed(1)} ms`;

async function main(): Promise<void> {
  const loadBefore = loadavg()[0] ?? 0;
  const relay = spawnRole('relay');
  const load = spawnRole('load');
  try {
    const { address, peerId } = await relay.call<{ address: string; peerId: string | null }>('start');
    console.log(
      `relay at ${address}${peerId === null ? ', signaling only' : `, its own DHT peer ${peerId.slice(0, 8)}…`}`,
    );
    const before = await relay.call<Memory>('memory');

    console.log(`opening ${SOCKETS} authenticated sockets...`);
    await relay.call('mark');
    const opened = await load.call<OpenResult>('open', { url: address, count: SOCKETS });
    // The relay's own CPU per admission: on a shared machine, a figure the other processes barely move.
    const admission = await relay.call<LoadSample>('sample');
    if (opened.admitted !== SOCKETS) throw new Error(`only ${opened.admitted} of ${SOCKETS} sockets were admitted`);
    const cpuPerAdmissionUs = (admission.cpuMs * 1000) / SOCKETS;
    const after = await relay.call<Memory>('memory');
    console.log(`admitted ${opened.admitted} in ${ms(opened.admitMs)}; relay RSS ${mb(before.rss)} → ${mb(after.rss)}`);

    // The floor: the same clients, the same handshake, a bare server in the relay's process (relay-floor.ts).
    const floorUrl = await relay.call<string>('floorStart');
    await relay.call('mark');
    const floorOpen = await load.call<{ admitMs: number; admitted: number }>('floor', { url: floorUrl });
    const floorSample = await relay.call<LoadSample>('sample');
    await relay.call('floorStop');
    if (floorOpen.admitted !== SOCKETS) throw new Error(`the floor server admitted only ${floorOpen.admitted}`);
    const floorCpuUs = (floorSample.cpuMs * 1000) / SOCKETS;
    console.log(
      `floor: ${SOCKETS} through a bare server in ${ms(floorOpen.admitMs)}, ${floorCpuUs.toFixed(0)} µs CPU each`,
    );

    let probeSeed = 100_000;
    const nextIdentity = (): Identity => createIdentity(seededRandom(probeSeed++).bytes);
    const raw = await rawPair(address, nextIdentity(), nextIdentity());
    const client = await clientPair(address, nextIdentity(), nextIdentity());

    const presignMs = await load.call<number>('prepare');

    console.log('probing the idle relay...');
    const idle = await probe(address, performance.now() + 2_000, nextIdentity, raw, client);

    /** One load phase with the probes running through it. */
    const phase = async (
      ratePerS: number | undefined,
    ): Promise<{ result: LoadResult; relay: LoadSample; probes: ProbeFigures; probeCpuMs: number }> => {
      console.log(
        `signal load for ${LOAD_MS / 1000} s: ${ratePerS === undefined ? `as fast as it goes, ${IN_FLIGHT} in flight` : `${ratePerS} signals/s`}...`,
      );
      await relay.call('mark');
      const cpuBefore = process.cpuUsage();
      const loading = load.call<LoadResult>('load', { durationMs: LOAD_MS, inFlight: IN_FLIGHT, ratePerS });
      const probes = await probe(address, performance.now() + LOAD_MS - 300, nextIdentity, raw, client);
      const sample = await relay.call<LoadSample>('sample');
      const cpu = process.cpuUsage(cpuBefore);
      const result = await loading;
      console.log(
        `  sent ${result.sentInWindow}: delivered ${result.deliveredInWindow} in the window + ${result.deliveredAfter} after, refused ${result.refusedInWindow} + ${result.refusedAfter}, never ${result.inFlightAtEnd}; stray ${result.stray}`,
      );
      return { result, relay: sample, probes, probeCpuMs: (cpu.user + cpu.system) / 1000 };
    };
    const steady = await phase(STEADY_RATE);
    const saturated = await phase(undefined);
    const peak = await relay.call<Memory>('memory');

    await raw.close();
    client.close();
    await load.call('stop');
    const final = await relay.call<RelayStats>('stop');
    await Promise.all([relay.exited, load.exited]);

    const rate = (r: LoadResult): number => (r.deliveredInWindow * 1000) / r.windowMs;
    const sat = saturated.result;
    const rssPerSocket = (after.rss - before.rss) / SOCKETS;
    const heapPerSocket = (after.heapUsed - before.heapUsed) / SOCKETS;
    const pp = (values: number[]): string => `${ms(percentile(values, 50))} / ${ms(percentile(values, 95))}`;
    const rows = (label: string, pick: (f: ProbeFigures) => number[]): Array<string | number> => [
      label,
      pp(pick(idle)),
      pp(pick(steady.probes)),
      pp(pick(saturated.probes)),
    ];
    const count = (f: ProbeFigures): string =>
      `${f.hello.length} fresh clients, ${f.raw.length} raw and ${f.client.length} client round trips`;
    const refusals = (r: LoadResult): string =>
      Object.entries(r.refusals)
        .map(([code, n]) => `${code} ${n}`)
        .join(', ') || 'none';
    const share = (cpuMs: number, wallMs: number): string => `${((cpuMs / wallMs) * 100).toFixed(0)}%`;
    const relayBusy = (p: typeof steady): string =>
      `relay event loop busy ${(p.relay.utilization * 100).toFixed(0)}%, relay CPU ${share(p.relay.cpuMs, p.relay.wallMs)} of one core (load clients ${share(p.result.cpuMs, p.result.windowMs)}, probes ${share(p.probeCpuMs, p.relay.wallMs)}), relay event-loop delay p50 ${ms(p.relay.delayP50Ms)} / p99 ${ms(p.relay.delayP99Ms)}`;

    const body = [
      table(
        ['figure', 'value', 'target'],
        [
          [
            `time to admit ${SOCKETS} concurrent sockets`,
            `${ms(opened.admitMs)} (${Math.round((SOCKETS * 1000) / opened.admitMs)} admissions/s)`,
            '≥ 5,000 admissions/s',
          ],
          [
            'relay CPU per admission during that burst (upgrade, challenge, hello check, welcome)',
            `${cpuPerAdmissionUs.toFixed(0)} µs (${Math.round(1e6 / cpuPerAdmissionUs)} admissions per second of relay CPU)`,
            '≤ 200 µs',
          ],
          [
            `floor, same run: a bare WebSocket server admitting the same ${SOCKETS} (same frames, no signature check)`,
            `${ms(floorOpen.admitMs)} (${Math.round((SOCKETS * 1000) / floorOpen.admitMs)} admissions/s); ${floorCpuUs.toFixed(0)} µs CPU each`,
            '',
          ],
          ['relay against the floor: CPU per admission', `${(cpuPerAdmissionUs / floorCpuUs).toFixed(2)}×`, ''],
          [`relay RSS with ${SOCKETS} sockets`, mb(after.rss), '≤ 200 MB'],
          ['relay memory per socket: RSS delta / sockets', kb(rssPerSocket), ''],
          ['relay memory per socket: heapUsed delta / sockets', kb(heapPerSocket), ''],
          ['signals forwarded per second (delivered at receivers, saturated)', Math.round(rate(sat)), '≥ 5,000'],
        ],
      ),
      '',
      table(
        [
          'latency p50 / p95',
          'idle',
          `steady ${STEADY_RATE} signals/s`,
          `saturated (${Math.round(rate(sat))} signals/s)`,
        ],
        [
          rows('fresh client: hello → welcome', (f) => f.hello.map((h) => h.helloMs)),
          rows('fresh client: new WebSocket → welcome', (f) => f.hello.map((h) => h.totalMs)),
          rows('signal round trip, raw sockets', (f) => f.raw),
          rows('signal round trip, createSignalingClient', (f) => f.client),
        ],
      ),
      '',
      WITH_PEER
        ? "- The relay runs its own DHT peer, as the command line starts it (a Node peer in the relay's process, holding a link to this relay, introduced to every newcomer): its memory and CPU are in the relay's figures. The load clients are raw sockets that never open WebRTC channels, so this measures the relay with its peer idle in the mesh, not the peer serving 1,000 tabs. BENCH_RELAY_PEER=0: signaling only."
        : '- The relay runs signaling only (BENCH_RELAY_PEER=0).',
      `- Processes: the relay runs in a child process of its own, so memory and CPU figures are its alone; the ${SOCKETS} load clients (raw \`ws\`, speaking the relay protocol) in a second; the probes in the parent. Everything on 127.0.0.1; ${SOCKETS + 4} relay sockets during the load, plus one fresh probe socket at a time.`,
      `- Relay limits raised for the benchmark: socketsPerAddress ${BENCH_LIMITS.socketsPerAddress}, messagesPerSecond ${BENCH_LIMITS.messagesPerSecond} and burstMessages ${BENCH_LIMITS.burstMessages} per socket. Saturated, one socket sent at most ${sat.maxPerSocketPerS.toFixed(1)} signals/s (mean ${sat.meanPerSocketPerS.toFixed(1)}/s), ${sat.maxPerSocketPerS <= DEFAULT_RELAY_LIMITS.messagesPerSecond ? 'within' : 'above'} the default ${DEFAULT_RELAY_LIMITS.messagesPerSecond}/s: the aggregate comes from many sockets, not from a raised per-socket limit.`,
      `- Admission: all ${SOCKETS} sockets opened at once; per socket (new WebSocket → welcome) p50 ${ms(opened.perSocketP50Ms)}, p95 ${ms(opened.perSocketP95Ms)}, max ${ms(opened.perSocketMaxMs)}. Each hello costs the relay one Ed25519 verification with node:crypto, run on libuv's thread pool beside the event loop (src/relay/relay-auth.ts), the socket's key imported once (as a JWK) and kept for its signals; the relay's CPU figures include the pool's threads. The load clients sign hellos and signals with node:crypto (checked byte-identical to signHello/signSignal) so that client-side signing does not hold the relay back; deriving the ${SOCKETS} identities beforehand took ${opened.identitiesMs.toFixed(0)} ms, pre-signing their signals ${presignMs.toFixed(0)} ms.`,
      `- Memory (after a forced GC): relay RSS ${mb(before.rss)} before the sockets (Node and the tsx loader), ${mb(after.rss)} with ${SOCKETS}; heapUsed ${mb(before.heapUsed)} → ${mb(after.heapUsed)}. After both loads RSS ${mb(peak.rss)}; peak RSS ${mb(saturated.relay.maxRssBytes)}.`,
      `- Signals: each load client sends to ${TARGETS_PER_SENDER} random recipients (one frame in ${TARGETS_PER_SENDER} an SDP offer, the rest ICE candidates, ${sat.meanFrameBytes.toFixed(0)} bytes per frame on average, genuinely signed); deliveries are counted at the receivers. Steady: ${steady.result.deliveredInWindow} delivered in ${(steady.result.windowMs / 1000).toFixed(2)} s (${Math.round(rate(steady.result))}/s; refused: ${refusals(steady.result)}). Saturated (closed loop, ${IN_FLIGHT} in flight): ${sat.deliveredInWindow} delivered of ${sat.sentInWindow} sent in ${(sat.windowMs / 1000).toFixed(2)} s (refused: ${refusals(sat)}); ${sat.deliveredAfter} more landed after the window${sat.refusedAfter > 0 ? `, ${sat.refusedAfter} more were refused` : ''}, ${sat.inFlightAtEnd} never did${sat.stray > 0 ? `; ${sat.stray} signals that no send of this phase made (the steady phase's stragglers, the relay's own peer dialling the clients) are not counted` : ''}. ${sat.verifiedOk}/${sat.verified} sampled deliveries pass verifySignal.`,
      `- Steady: ${relayBusy(steady)}. Saturated: ${relayBusy(saturated)}. The machine's ${cpus().length} cores are shared by the relay, the load clients, the probes and whatever else runs (load average ${loadBefore.toFixed(2)} when the benchmark started); a relay event loop busy well beyond its CPU share means it was waiting for a core, so its ceiling on a core of its own is higher.`,
      `- Saturated latency is mostly queueing the benchmark chose: with ${IN_FLIGHT} signals in flight, each waits behind the others (Little's law: ${IN_FLIGHT} / ${Math.round(rate(sat))} per s ≈ ${ms((IN_FLIGHT * 1000) / rate(sat))} per forward). The steady column is the relay at the target rate.`,
      `- Probes: a fresh client every 100 ms (its own identity, signing with @noble/curves), a raw-socket signal round trip every 20 ms (two relay forwards) and one between two createSignalingClient peers every 50 ms (two forwards plus each side's signing and verifySignal). Samples: idle ${count(idle)}; steady ${count(steady.probes)}; saturated ${count(saturated.probes)}.`,
      `- Relay totals at shutdown: ${final.signalsForwarded} signals forwarded, errors ${
        Object.entries(final.errors)
          .filter(([, n]) => n > 0)
          .map(([c, n]) => `${c} ${n}`)
          .join(', ') || 'none'
      }.`,
    ].join('\n');
    console.log(body);
    writeSection('Relay', 'npm run bench:relay', body);
  } catch (e) {
    // Do not leave children behind on failure.
    await Promise.allSettled([relay.call('stop'), load.call('stop')]);
    throw e;
  }
}

const role = process.argv[2];
if (role === 'relay') relayRole();
else if (role === 'load') loadRole();
else await main();
