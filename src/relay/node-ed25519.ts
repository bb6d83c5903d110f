/**
 * Ed25519 verification with node:crypto (OpenSSL), for the relay. The pure-JS verifier the
 * page uses costs ~1 ms per signature; OpenSSL's is about fifteen times faster once the key is
 * imported, and importing a raw key costs about as much again. So the relay imports each
 * socket's key once, at admission, and verifies that socket's signals with it.
 */
import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';

/** DER prefix of an SPKI Ed25519 public key (RFC 8410): the 32 raw key bytes follow it. */
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The key as node:crypto wants it; null when the bytes are not a valid Ed25519 public key. Never throws. */
export function importEd25519PublicKey(raw: Uint8Array): KeyObject | null {
  if (raw.length !== 32) return null;
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch {
    return null;
  }
}

/** Whether `signature` is `key`'s Ed25519 signature of `message`. Never throws. */
export function verifyEd25519(key: KeyObject, signature: Uint8Array, message: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  try {
    return cryptoVerify(null, message, key, signature);
  } catch {
    return false;
  }
}

/** A verifier with the core's `verify(signature, message, publicKey)` shape, importing the key per call. */
export function nodeVerify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  const key = importEd25519PublicKey(publicKey);
  return key !== null && verifyEd25519(key, signature, message);
}
