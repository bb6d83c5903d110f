/*
 * The signed bytes of the relay protocol (docs/ARCHITECTURE.md, Identity and trust), and
 * signing and checking them through an AsyncEd25519 (crypto/async-ed25519.ts):
 * - hello: proves to the relay that a socket holds the key of the node id it claims;
 * - signal: proves to the receiving peer that the sender, not the relay, wrote the data,
 *   for this receiver, at this time, in this connection attempt (the stamp: see SignalStamp).
 * Each payload starts with its own context string so one can never be replayed as the other.
 *
 * Apart from auth.ts, which adds the synchronous pure-JS signing and checking, so that the
 * page, which signs and checks through its AsyncEd25519 only, does not carry @noble/curves.
 */
import { hexToBytes } from '@noble/hashes/utils.js';
import { nodeIdFromPublicKey, toHex, type IdHex } from '../core/id.js';
import type { Identity } from '../core/identity.js';
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

/** What signing `signal` for `to` covers; null when the stamp is malformed or the data not JSON-encodable. */
export function signalSigningBytes(identity: Identity, to: IdHex, signal: StampedSignal): Uint8Array | null {
  if (!isSignalStamp(signal)) return null;
  const json = jsonOf(signal.data);
  return json === undefined ? null : signalPayload(identity.nodeIdHex, to, signal, json);
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
export function signalToCheck(
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

/** verifySignal through `ed`. Never rejects. */
export async function verifySignalWith(ed: AsyncEd25519, message: SignalDelivery, self: IdHex): Promise<boolean> {
  const check = signalToCheck(message, self);
  return check !== null && (await ed.verify(check.signature, check.payload, check.publicKey).catch(() => false));
}

export function jsonOf(data: unknown): string | undefined {
  try {
    return JSON.stringify(data);
  } catch {
    return undefined;
  }
}
