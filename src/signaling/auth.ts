/**
 * The two signatures of the relay protocol (docs/ARCHITECTURE.md, Identity and trust):
 * - hello: proves to the relay that a socket holds the key of the node id it claims;
 * - signal: proves to the receiving peer that the sender, not the relay, wrote the data,
 *   for this receiver, at this time, in this connection attempt (the stamp: see SignalStamp).
 * Each payload starts with its own context string so one can never be replayed as the other.
 */
import { hexToBytes } from '@noble/hashes/utils.js';
import { nodeIdFromPublicKey, toHex, type IdHex } from '../core/id.js';
import { sign, verify, type Identity, type Verifier } from '../core/identity.js';
import {
  isPublicKeyHex,
  isSignalStamp,
  isSignatureHex,
  type SignalDelivery,
  type SignalStamp,
  type StampedSignal,
} from './protocol.js';
import type { AsyncEd25519 } from '../crypto/async-ed25519.js';

export const HELLO_CONTEXT = 'macula-web/relay-hello/v1';
/** v2: the stamp (time, session, sequence) is signed too. */
export const SIGNAL_CONTEXT = 'macula-web/signal/v2';

const encoder = new TextEncoder();

/** The nonce and node id are fixed-length hex, so the realm (last) cannot shift a boundary. */
export const helloPayload = (nonce: string, nodeIdHex: IdHex, realm: string): Uint8Array =>
  encoder.encode(`${HELLO_CONTEXT}|${nonce}|${nodeIdHex}|${realm}`);

/**
 * `dataJson` is JSON.stringify(data). JSON.parse followed by JSON.stringify reproduces it
 * exactly (key order and number formatting are deterministic), so sender, relay and
 * receiver all arrive at the same bytes without a canonical encoding. Every field before
 * it is fixed-length hex or a decimal integer (isSignalStamp), so none can shift a boundary.
 */
export const signalPayload = (from: IdHex, to: IdHex, stamp: SignalStamp, dataJson: string): Uint8Array =>
  encoder.encode(`${SIGNAL_CONTEXT}|${from}|${to}|${stamp.ts}|${stamp.session}|${stamp.seq}|${dataJson}`);

export function signHello(identity: Identity, nonce: string, realm: string): string {
  return toHex(sign(helloPayload(nonce, identity.nodeIdHex, realm), identity.secretKey));
}

/**
 * The node id a hello proves, or null when the signature does not match. Never throws.
 * `verifier` lets the relay use node:crypto, which is much faster than the pure-JS default.
 */
export function verifyHello(
  nonce: string,
  publicKeyHex: string,
  realm: string,
  signatureHex: string,
  verifier: Verifier = verify,
): IdHex | null {
  if (!isPublicKeyHex(publicKeyHex) || !isSignatureHex(signatureHex)) return null;
  const publicKey = hexToBytes(publicKeyHex);
  const nodeIdHex = toHex(nodeIdFromPublicKey(publicKey));
  return verifier(hexToBytes(signatureHex), helloPayload(nonce, nodeIdHex, realm), publicKey) ? nodeIdHex : null;
}

/** What signing `signal` for `to` covers; null when the stamp is malformed or the data not JSON-encodable. */
export function signalSigningBytes(identity: Identity, to: IdHex, signal: StampedSignal): Uint8Array | null {
  if (!isSignalStamp(signal)) return null;
  const json = jsonOf(signal.data);
  return json === undefined ? null : signalPayload(identity.nodeIdHex, to, signal, json);
}

/**
 * Sign `signal` (data and stamp) for `to`; null when the stamp is malformed or the data is
 * not JSON-encodable (undefined, a function, a cycle).
 */
export function signSignal(identity: Identity, to: IdHex, signal: StampedSignal): string | null {
  const payload = signalSigningBytes(identity, to, signal);
  return payload === null ? null : toHex(sign(payload, identity.secretKey));
}

/** signHello through `ed` (crypto/async-ed25519.ts): the same signature, from the platform's Ed25519 where it has one. */
export async function signHelloWith(
  ed: AsyncEd25519,
  identity: Identity,
  nonce: string,
  realm: string,
): Promise<string> {
  return toHex(await ed.sign(helloPayload(nonce, identity.nodeIdHex, realm), identity.secretKey));
}

/** What a delivered signal's signature must cover and who must have made it; null when it cannot be genuine. */
function signalToCheck(
  message: SignalDelivery,
  self: IdHex,
): { signature: Uint8Array; payload: Uint8Array; publicKey: Uint8Array } | null {
  if (message.to !== self) return null;
  if (!isPublicKeyHex(message.fromKey) || !isSignatureHex(message.signature) || !isSignalStamp(message)) return null;
  const publicKey = hexToBytes(message.fromKey);
  if (toHex(nodeIdFromPublicKey(publicKey)) !== message.from) return null;
  const json = jsonOf(message.data);
  if (json === undefined) return null;
  return {
    signature: hexToBytes(message.signature),
    payload: signalPayload(message.from, message.to, message, json),
    publicKey,
  };
}

/**
 * A delivered signal is genuine when it is addressed to `self`, `fromKey` hashes to
 * `from`, and `from`'s key signed exactly this data and stamp for exactly this recipient.
 * A relay that rewrites the data, the stamp, the sender or the recipient fails one of
 * these. Whether the stamp is fresh is the receiver's judgement (signal-freshness.ts on
 * the page), not this check's. Never throws.
 */
export function verifySignal(message: SignalDelivery, self: IdHex, verifier: Verifier = verify): boolean {
  const check = signalToCheck(message, self);
  return check !== null && verifier(check.signature, check.payload, check.publicKey);
}

/** verifySignal through `ed`. Never rejects. */
export async function verifySignalWith(ed: AsyncEd25519, message: SignalDelivery, self: IdHex): Promise<boolean> {
  const check = signalToCheck(message, self);
  return check !== null && (await ed.verify(check.signature, check.payload, check.publicKey).catch(() => false));
}

function jsonOf(data: unknown): string | undefined {
  try {
    return JSON.stringify(data);
  } catch {
    return undefined;
  }
}
