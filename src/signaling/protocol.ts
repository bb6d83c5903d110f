/**
 * The whole relay vocabulary: JSON text frames between a signaling client and the
 * bootstrap relay (docs/ARCHITECTURE.md, Identity and trust). Shared by both ends so they cannot drift apart.
 *
 * Parsers take untrusted text and return a typed message or null; they never throw,
 * so a receive loop can count junk and carry on.
 */
import { cryptoRandom, type Random } from '../core/environment.js';
import { isIdHex, toHex, type IdHex } from '../core/id.js';
import { parseRelayIce, type RelayIce } from './ice.js';

/** Relay defaults; the relay's own limits are configurable, these are what clients assume. */
export const MAX_RELAY_MESSAGE_BYTES = 64 * 1024;
export const MAX_REALM_CHARS = 64;
export const NONCE_BYTES = 32;
export const SIGNAL_SESSION_BYTES = 16;
/** Signals per side and session: a negotiation sends an offer or answer and a few dozen candidates. */
export const MAX_SIGNAL_SEQ = 1023;

/** Close codes the relay uses, so a client can tell "try again later" from "stop". */
export const RelayCloseCode = {
  /** Relay shutting down: reconnect. */
  GOING_AWAY: 1001,
  /** Junk, bad signature, rate limit, too many sockets: reconnect with backoff. */
  POLICY: 1008,
  /** Another socket authenticated with this node id (a reloaded tab): do not reconnect. */
  REPLACED: 4001,
} as const;

export const RelayErrorCode = {
  MALFORMED: 'MALFORMED',
  TOO_LARGE: 'TOO_LARGE',
  RATE_LIMITED: 'RATE_LIMITED',
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  UNREACHABLE: 'UNREACHABLE',
  NOT_AUTHENTICATED: 'NOT_AUTHENTICATED',
  TOO_MANY_SOCKETS: 'TOO_MANY_SOCKETS',
} as const;
export type RelayErrorCode = (typeof RelayErrorCode)[keyof typeof RelayErrorCode];

// ---- client → relay ----

export interface HelloMessage {
  t: 'hello';
  /** Ed25519 public key, 64 hex characters. */
  publicKey: string;
  realm: string;
  /** Over helloPayload(nonce, nodeIdHex, realm), 128 hex characters. */
  signature: string;
}
export interface PeersRequest {
  t: 'peers';
}
/**
 * What a signal's sender signs beside its data, so that a receiver can tell a fresh signal
 * from an old one routed again (README, Security model): when it was signed, which
 * connection attempt it belongs to and where it stands in that attempt.
 */
export interface SignalStamp {
  /** When the sender signed it: ms since the epoch by the sender's clock. */
  ts: number;
  /** Random per connection attempt (SIGNAL_SESSION_BYTES as hex); the answering side reuses the offer's. */
  session: string;
  /** The sender's count of its signals in this session, from 0. */
  seq: number;
}
/** A signal's data with its stamp: what signSignal signs and what a receiver acts on. */
export interface StampedSignal extends SignalStamp {
  data: unknown;
}

export interface SignalRequest extends StampedSignal {
  t: 'signal';
  to: IdHex;
  /** The sender's signature over signalPayload(from, to, stamp, data). The relay checks it before forwarding. */
  signature: string;
}
/** Ask for fresh ICE servers (TURN credentials expire); answered by an `ice` message. */
export interface IceRequest {
  t: 'ice';
}
export type ClientMessage = HelloMessage | PeersRequest | SignalRequest | IceRequest;

// ---- relay → client ----

export interface ChallengeMessage {
  t: 'challenge';
  nonce: string;
}
export interface WelcomeMessage {
  t: 'welcome';
  nodeId: IdHex;
  peers: IdHex[];
  /** STUN/TURN servers the deployment configured on the relay, with credentials for this node. */
  ice?: RelayIce;
}
export interface IceMessage {
  t: 'ice';
  ice: RelayIce;
}
export interface PeersMessage {
  t: 'peers';
  peers: IdHex[];
}
export interface SignalDelivery extends StampedSignal {
  t: 'signal';
  /** Stamped by the relay from the authenticated socket, never copied from the sender's frame. */
  from: IdHex;
  fromKey: string;
  to: IdHex;
  signature: string;
}
export interface ErrorMessage {
  t: 'error';
  code: RelayErrorCode;
  message: string;
  /** Set on UNREACHABLE: the node id that could not be reached. */
  to?: IdHex;
}
export type ServerMessage =
  ChallengeMessage | WelcomeMessage | PeersMessage | SignalDelivery | ErrorMessage | IceMessage;

// ---- field checks ----

const PUBLIC_KEY_RE = /^[0-9a-f]{64}$/;
const SIGNATURE_RE = /^[0-9a-f]{128}$/;
const NONCE_RE = new RegExp(`^[0-9a-f]{${NONCE_BYTES * 2}}$`);
const SESSION_RE = new RegExp(`^[0-9a-f]{${SIGNAL_SESSION_BYTES * 2}}$`);
const ERROR_CODES = new Set<string>(Object.values(RelayErrorCode));

export const isPublicKeyHex = (v: unknown): v is string => typeof v === 'string' && PUBLIC_KEY_RE.test(v);
export const isSignatureHex = (v: unknown): v is string => typeof v === 'string' && SIGNATURE_RE.test(v);
export const isRealm = (v: unknown): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= MAX_REALM_CHARS;

/** A new connection attempt's session id: random, so no one can guess or reuse it. */
export const newSignalSession = (random: Random = cryptoRandom): string => toHex(random.bytes(SIGNAL_SESSION_BYTES));

/** `data` as the first signal of a new session, signed now: what a one-off sender (a tool, a test) sends. */
export const freshSignal = (data: unknown, now: number = Date.now()): StampedSignal => ({
  data,
  ts: now,
  session: newSignalSession(),
  seq: 0,
});

/** A well-formed stamp; its fields are decimal integers and hex, so none can hold the payload's `|`. */
export function isSignalStamp(v: { ts?: unknown; session?: unknown; seq?: unknown }): v is SignalStamp {
  const { ts, session, seq } = v;
  return (
    Number.isSafeInteger(ts) &&
    (ts as number) >= 0 &&
    typeof session === 'string' &&
    SESSION_RE.test(session) &&
    Number.isInteger(seq) &&
    (seq as number) >= 0 &&
    (seq as number) <= MAX_SIGNAL_SEQ
  );
}

const isIdList = (v: unknown): v is IdHex[] => Array.isArray(v) && v.every(isIdHex);

/** JSON.parse into a plain object with a string `t`, or null. */
function parseObject(text: string): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const obj = value as Record<string, unknown>;
  return typeof obj['t'] === 'string' ? obj : null;
}

/** Only the known fields are copied out, so extra fields (a spoofed `from`) never travel further. */
export function parseClientMessage(text: string): ClientMessage | null {
  const m = parseObject(text);
  if (m === null) return null;
  switch (m['t']) {
    case 'hello': {
      const { publicKey, realm, signature } = m;
      if (!isPublicKeyHex(publicKey) || !isRealm(realm) || !isSignatureHex(signature)) return null;
      return { t: 'hello', publicKey, realm, signature };
    }
    case 'peers':
      return { t: 'peers' };
    case 'ice':
      return { t: 'ice' };
    case 'signal': {
      const { to, data, ts, session, seq, signature } = m;
      if (!isIdHex(to) || data === undefined || !isSignatureHex(signature) || !isSignalStamp({ ts, session, seq }))
        return null;
      return { t: 'signal', to, data, ts: ts as number, session: session as string, seq: seq as number, signature };
    }
    default:
      return null;
  }
}

export function parseServerMessage(text: string): ServerMessage | null {
  const m = parseObject(text);
  if (m === null) return null;
  switch (m['t']) {
    case 'challenge': {
      const { nonce } = m;
      return typeof nonce === 'string' && NONCE_RE.test(nonce) ? { t: 'challenge', nonce } : null;
    }
    case 'welcome': {
      const { nodeId, peers, ice } = m;
      if (!isIdHex(nodeId) || !isIdList(peers)) return null;
      if (ice === undefined) return { t: 'welcome', nodeId, peers };
      const parsed = parseRelayIce(ice);
      return parsed === null ? null : { t: 'welcome', nodeId, peers, ice: parsed };
    }
    case 'ice': {
      const parsed = parseRelayIce(m['ice']);
      return parsed === null ? null : { t: 'ice', ice: parsed };
    }
    case 'peers': {
      const { peers } = m;
      return isIdList(peers) ? { t: 'peers', peers } : null;
    }
    case 'signal': {
      const { from, fromKey, to, data, ts, session, seq, signature } = m;
      if (!isIdHex(from) || !isPublicKeyHex(fromKey) || !isIdHex(to)) return null;
      if (data === undefined || !isSignatureHex(signature) || !isSignalStamp({ ts, session, seq })) return null;
      return {
        t: 'signal',
        from,
        fromKey,
        to,
        data,
        ts: ts as number,
        session: session as string,
        seq: seq as number,
        signature,
      };
    }
    case 'error': {
      const { code, message, to } = m;
      if (typeof code !== 'string' || !ERROR_CODES.has(code) || typeof message !== 'string') return null;
      const error: ErrorMessage = { t: 'error', code: code as RelayErrorCode, message };
      if (isIdHex(to)) error.to = to;
      return error;
    }
    default:
      return null;
  }
}

/**
 * Serialise a message. Returns null instead of throwing when `data` cannot be encoded
 * (a cycle, a BigInt, nesting deep enough to exhaust the stack).
 */
export function encodeMessage(message: ClientMessage | ServerMessage): string | null {
  try {
    return JSON.stringify(message);
  } catch {
    return null;
  }
}
