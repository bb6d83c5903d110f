/*
 * The two signatures of the relay protocol (signed-bytes.ts says what they cover), signed
 * and checked synchronously with the pure-JS Ed25519 (core/identity.ts): for the relay, Node
 * and the tests. The page signs and checks through its AsyncEd25519 (signed-bytes.ts), so
 * this module, and @noble/curves with it, stays out of its bundle.
 */
import { hexToBytes } from '@noble/hashes/utils.js';
import { nodeIdFromPublicKey, toHex, type IdHex } from '../core/id.js';
import { sign, verify, type Identity, type Verifier } from '../core/identity.js';
import { isPublicKeyHex, isSignatureHex, type SignalDelivery, type StampedSignal } from './protocol.js';
import { helloPayload, signalSigningBytes, signalToCheck } from './signed-bytes.js';

export {
  HELLO_CONTEXT,
  SIGNAL_CONTEXT,
  helloPayload,
  signalPayload,
  signalSigningBytes,
  signHelloWith,
  verifySignalWith,
} from './signed-bytes.js';

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

/**
 * Sign `signal` (data and stamp) for `to`; null when the stamp is malformed or the data is
 * not JSON-encodable (undefined, a function, a cycle).
 */
export function signSignal(identity: Identity, to: IdHex, signal: StampedSignal): string | null {
  const payload = signalSigningBytes(identity, to, signal);
  return payload === null ? null : toHex(sign(payload, identity.secretKey));
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
