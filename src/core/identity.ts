import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { nodeIdFromPublicKey, toHex, type NodeId } from './id.js';

/** A node's Ed25519 key pair; its node id is SHA-256 of the public key (docs/ARCHITECTURE.md, Identity and trust). */
export interface Identity {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly nodeId: NodeId;
  readonly nodeIdHex: string;
}

export function identityFromSecretKey(secretKey: Uint8Array): Identity {
  const publicKey = ed25519.getPublicKey(secretKey);
  const nodeId = nodeIdFromPublicKey(publicKey);
  return { secretKey, publicKey, nodeId, nodeIdHex: toHex(nodeId) };
}

/** `randomBytes` is injected so the simulator can derive identities from its seed. */
export const createIdentity = (randomBytes: (n: number) => Uint8Array): Identity =>
  identityFromSecretKey(randomBytes(32));

export const sign = (message: Uint8Array, secretKey: Uint8Array): Uint8Array => ed25519.sign(message, secretKey);

/** Signature checks: the default verifies with Ed25519; it never throws on junk input. */
export type Verifier = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;

export const verify: Verifier = (signature, message, publicKey) => {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    return ed25519.verify(signature, message, publicKey);
  } catch {
    return false;
  }
};

/**
 * Signs `message` with this node's key, asynchronously (WebCrypto in a worker). Ed25519 is
 * deterministic: the bytes are those `sign` gives for the same key and message.
 */
export type AsyncSigner = (message: Uint8Array) => Promise<Uint8Array>;

/** A Verifier that remembers its results, and can be told one checked elsewhere. */
export interface MemoizedVerifier extends Verifier {
  /**
   * A signature found valid by another Ed25519 implementation (WebCrypto, crypto/web-ed25519.ts).
   * Only valid ones are taken: what RFC 8032 accepts, the ZIP-215 rules of @noble/curves
   * accept too, so remembering them changes no outcome; a refusal is left to `inner`.
   */
  rememberValid(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): void;
}

/**
 * A verifier that remembers results. Verification is a pure function of its inputs, so a
 * process holding many nodes (the simulator) can share one cache without changing outcomes.
 */
export function memoizedVerifier(inner: Verifier = verify, capacity = 200_000): MemoizedVerifier {
  const cache = new Map<string, boolean>();
  const keyOf = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): string =>
    toHex(signature) + toHex(publicKey) + toHex(sha256(message));
  const put = (key: string, ok: boolean): void => {
    if (cache.size >= capacity) cache.clear();
    cache.set(key, ok);
  };
  const check: Verifier = (signature, message, publicKey) => {
    const key = keyOf(signature, message, publicKey);
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const ok = inner(signature, message, publicKey);
    put(key, ok);
    return ok;
  };
  return Object.assign(check, {
    rememberValid(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): void {
      if (signature.length === 64 && publicKey.length === 32) put(keyOf(signature, message, publicKey), true);
    },
  });
}
