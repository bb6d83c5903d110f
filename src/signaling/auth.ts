/**
 * The two signatures of the relay protocol (DESIGN.md §3):
 * - hello: proves to the relay that a socket holds the key of the node id it claims;
 * - signal: proves to the receiving peer that the sender, not the relay, wrote the data.
 * Each payload starts with its own context string so one can never be replayed as the other.
 */
import { hexToBytes } from '@noble/hashes/utils.js';
import { nodeIdFromPublicKey, toHex, type IdHex } from '../core/id.js';
import { sign, verify, type Identity, type Verifier } from '../core/identity.js';
import { isPublicKeyHex, isSignatureHex, type SignalDelivery } from './protocol.js';

export const HELLO_CONTEXT = 'macula-web/relay-hello/v1';
export const SIGNAL_CONTEXT = 'macula-web/signal/v1';

const encoder = new TextEncoder();

/** The nonce and node id are fixed-length hex, so the realm (last) cannot shift a boundary. */
export const helloPayload = (nonce: string, nodeIdHex: IdHex, realm: string): Uint8Array =>
  encoder.encode(`${HELLO_CONTEXT}|${nonce}|${nodeIdHex}|${realm}`);

/**
 * `dataJson` is JSON.stringify(data). JSON.parse followed by JSON.stringify reproduces it
 * exactly (key order and number formatting are deterministic), so sender, relay and
 * receiver all arrive at the same bytes without a canonical encoding.
 */
export const signalPayload = (from: IdHex, to: IdHex, dataJson: string): Uint8Array =>
  encoder.encode(`${SIGNAL_CONTEXT}|${from}|${to}|${dataJson}`);

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

/** Sign `data` for `to`; null when `data` is not JSON-encodable (undefined, a function, a cycle). */
export function signSignal(identity: Identity, to: IdHex, data: unknown): string | null {
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch {
    return null;
  }
  if (json === undefined) return null;
  return toHex(sign(signalPayload(identity.nodeIdHex, to, json), identity.secretKey));
}

/**
 * A delivered signal is genuine when it is addressed to `self`, `fromKey` hashes to
 * `from`, and `from`'s key signed exactly this data for exactly this recipient. A relay
 * that rewrites the data, the sender or the recipient fails one of these. Never throws.
 */
export function verifySignal(message: SignalDelivery, self: IdHex, verifier: Verifier = verify): boolean {
  if (message.to !== self) return false;
  if (!isPublicKeyHex(message.fromKey) || !isSignatureHex(message.signature)) return false;
  const publicKey = hexToBytes(message.fromKey);
  if (toHex(nodeIdFromPublicKey(publicKey)) !== message.from) return false;
  let json: string | undefined;
  try {
    json = JSON.stringify(message.data);
  } catch {
    return false;
  }
  if (json === undefined) return false;
  return verifier(hexToBytes(message.signature), signalPayload(message.from, message.to, json), publicKey);
}
