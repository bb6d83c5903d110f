import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { toHex } from '../src/core/id.js';
import { createIdentity } from '../src/core/identity.js';
import { verifyHello } from '../src/signaling/auth.js';
import {
  encodeMessage,
  parseClientMessage,
  type ServerMessage,
  type SignalDelivery,
} from '../src/signaling/protocol.js';

/**
 * A relay that speaks the real protocol (src/relay/protocol.ts) and admits sockets only
 * after a valid hello, as the real one does, but may tamper with the signals it forwards:
 * - 'honest': forwards them as they are (the control: channels must open through it);
 * - 'rewrite-sdp': swaps the DTLS fingerprint in every offer or answer for its own, what
 *   a relay that wants to sit in the middle of the connection would do;
 * - 'spoof-sender': stamps every signal as coming from another node id (with that node's
 *   real public key), keeping the data and the original signature;
 * - 'replay-offers': forwards honestly, and delivers every offer a second time, byte for
 *   byte, `replayAfterMs` later: what a peer that once forwarded an offer can do.
 */
export type TamperMode = 'honest' | 'rewrite-sdp' | 'spoof-sender' | 'replay-offers';

export interface TamperingRelay {
  readonly url: string;
  /** Signals forwarded to each node id, and how many of them were tampered with. */
  delivered(to: string): { total: number; tampered: number };
  /** Signals of a given `type` (offer, answer, candidate) that passed through, from anyone. */
  seen(type: string): number;
  /** Offers delivered a second time ('replay-offers'). */
  readonly replayed: number;
  close(): Promise<void>;
}

const FAKE_FINGERPRINT = `a=fingerprint:sha-256 ${Array.from({ length: 32 }, () => 'AB').join(':')}`;

export async function startTamperingRelay(mode: TamperMode, replayAfterMs = 3_000): Promise<TamperingRelay> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const impostor = createIdentity((n) => new Uint8Array(randomBytes(n)));
  const sockets = new Map<string, { socket: WebSocket; publicKey: string }>();
  const deliveries = new Map<string, { total: number; tampered: number }>();
  const types = new Map<string, number>();
  let replayed = 0;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const send = (socket: WebSocket, m: ServerMessage): void => socket.send(encodeMessage(m)!);
  const others = (self: string): string[] => [...sockets.keys()].filter((id) => id !== self);

  wss.on('connection', (socket) => {
    const nonce = randomBytes(32).toString('hex');
    let self: string | null = null;
    send(socket, { t: 'challenge', nonce });
    socket.on('close', () => {
      if (self !== null && sockets.get(self)?.socket === socket) sockets.delete(self);
    });
    socket.on('message', (raw) => {
      const m = parseClientMessage(String(raw));
      if (m === null) return;
      if (m.t === 'hello') {
        const id = verifyHello(nonce, m.publicKey, m.realm, m.signature);
        if (id === null) return socket.close(1008);
        self = id;
        sockets.set(id, { socket, publicKey: m.publicKey });
        return send(socket, { t: 'welcome', nodeId: id, peers: others(id) });
      }
      if (self === null) return;
      if (m.t === 'peers') return send(socket, { t: 'peers', peers: others(self) });
      if (m.t === 'ice') return send(socket, { t: 'ice', ice: { iceServers: [] } });
      const target = sockets.get(m.to);
      if (target === undefined) return send(socket, { t: 'error', code: 'UNREACHABLE', message: 'gone', to: m.to });
      const type = String((m.data as { type?: unknown } | null)?.type ?? 'candidate');
      types.set(type, (types.get(type) ?? 0) + 1);
      const honest: SignalDelivery = {
        t: 'signal',
        from: self,
        fromKey: sockets.get(self)!.publicKey,
        to: m.to,
        data: m.data,
        ts: m.ts,
        session: m.session,
        seq: m.seq,
        signature: m.signature,
      };
      const forwarded = tamper(honest);
      const count = deliveries.get(m.to) ?? { total: 0, tampered: 0 };
      count.total++;
      if (forwarded !== honest) count.tampered++;
      deliveries.set(m.to, count);
      send(target.socket, forwarded);
      if (mode === 'replay-offers' && type === 'offer') {
        const timer = setTimeout(() => {
          timers.delete(timer);
          replayed++;
          send(target.socket, honest);
        }, replayAfterMs);
        timers.add(timer);
      }
    });
  });

  function tamper(signal: SignalDelivery): SignalDelivery {
    if (mode === 'spoof-sender') return { ...signal, from: impostor.nodeIdHex, fromKey: toHex(impostor.publicKey) };
    const data = signal.data as { sdp?: unknown } | null;
    if (mode === 'rewrite-sdp' && typeof data?.sdp === 'string') {
      return { ...signal, data: { ...data, sdp: data.sdp.replace(/a=fingerprint:[^\r\n]*/g, FAKE_FINGERPRINT) } };
    }
    return signal;
  }

  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/relay`,
    delivered: (to) => ({ ...(deliveries.get(to) ?? { total: 0, tampered: 0 }) }),
    seen: (type) => types.get(type) ?? 0,
    get replayed() {
      return replayed;
    },
    close: () =>
      new Promise((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        for (const { socket } of sockets.values()) socket.terminate();
        wss.close(() => resolve());
      }),
  };
}
