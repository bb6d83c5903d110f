import { nodeIdFromPublicKey, toHex } from '../core/id.js';
import { identityFromSecretKey, sign, verify, type Identity } from '../core/identity.js';

/**
 * Ed25519 through the platform's WebCrypto (Chromium 137+, Firefox 129+, Safari 17, Node
 * 20), with the pure-JS one (core/identity.ts) where it is missing. Why: a freshly loaded
 * page pays pure JS's first use dearly (V8 has not compiled it yet, and the first key or
 * signature builds a table of 4,096 base-point multiples): ~100 ms for the tab's key, tens
 * of ms more for the first signature checked, all on the way from page load to the first
 * channel (BENCHMARKS.md, Browser). The platform's is native and costs ~0.1 ms from the
 * start. Ed25519 signatures are deterministic, so both make the same bytes, and a peer
 * cannot tell which one signed.
 *
 * Results are promises: the relay client keeps its signals in order around them
 * (client.ts). Where the platform fails (an algorithm it does not know, a key it refuses)
 * the pure-JS one answers, so what is accepted never depends on which one ran.
 */
export interface AsyncEd25519 {
  sign(message: Uint8Array, secretKey: Uint8Array): Promise<Uint8Array>;
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): Promise<boolean>;
  /** The identity of a 32-byte secret key (public key and node id), as identityFromSecretKey makes it. */
  identity(secretKey: Uint8Array): Promise<Identity>;
}

/** PKCS#8 wrapping of a 32-byte Ed25519 seed (RFC 8410): this prefix, then the seed. */
const PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);
const ED25519 = { name: 'Ed25519' };
/** Verification keys kept imported: peers met while joining, not every peer ever seen. */
const MAX_CACHED_KEYS = 64;

type Subtle = Pick<SubtleCrypto, 'importKey' | 'exportKey' | 'sign' | 'verify'>;

export function webEd25519(subtle: Subtle | undefined = globalThis.crypto?.subtle): AsyncEd25519 {
  let usable = subtle !== undefined;
  const signing = new Map<string, Promise<CryptoKey>>();
  const verifying = new Map<string, Promise<CryptoKey>>();

  /**
   * The platform's answer, or else the pure-JS one: for this call when the platform refused
   * this input (a peer's key it will not import), for good when it lacks the algorithm.
   */
  async function either<T>(native: (s: Subtle) => Promise<T>, fallback: () => T): Promise<T> {
    if (!usable || subtle === undefined) return fallback();
    try {
      return await native(subtle);
    } catch (e) {
      if (!(e instanceof Error) || e.name === 'NotSupportedError' || e.name === 'TypeError') usable = false;
      return fallback();
    }
  }

  const pkcs8 = (secretKey: Uint8Array): Uint8Array => {
    const der = new Uint8Array(PKCS8_PREFIX.length + 32);
    der.set(PKCS8_PREFIX);
    der.set(secretKey, PKCS8_PREFIX.length);
    return der;
  };

  function signingKey(s: Subtle, secretKey: Uint8Array): Promise<CryptoKey> {
    const id = toHex(secretKey);
    let key = signing.get(id);
    if (key === undefined) {
      key = s.importKey('pkcs8', pkcs8(secretKey) as BufferSource, ED25519, false, ['sign']);
      // A tab signs with one key; a second one replaces it rather than accumulating.
      signing.clear();
      signing.set(id, key);
    }
    return key;
  }

  function verifyingKey(s: Subtle, publicKey: Uint8Array): Promise<CryptoKey> {
    const id = toHex(publicKey);
    let key = verifying.get(id);
    if (key === undefined) {
      if (verifying.size >= MAX_CACHED_KEYS) verifying.delete(verifying.keys().next().value!);
      key = s.importKey('raw', publicKey as BufferSource, ED25519, false, ['verify']);
      verifying.set(id, key);
    }
    return key;
  }

  return {
    sign: (message, secretKey) =>
      either(
        async (s) => {
          if (secretKey.length !== 32) throw new RangeError('secret key: 32 bytes');
          const key = await signingKey(s, secretKey);
          return new Uint8Array(await s.sign(ED25519, key, message as BufferSource));
        },
        () => sign(message, secretKey),
      ),
    verify: (signature, message, publicKey) => {
      // Malformed input is a plain no, not a reason to give up the platform's implementation.
      if (signature.length !== 64 || publicKey.length !== 32) return Promise.resolve(false);
      return either(
        async (s) => {
          const key = await verifyingKey(s, publicKey).catch((e: unknown) => {
            verifying.delete(toHex(publicKey));
            throw e;
          });
          return s.verify(ED25519, key, signature as BufferSource, message as BufferSource);
        },
        () => verify(signature, message, publicKey),
      );
    },
    identity: (secretKey) =>
      either(
        async (s) => {
          // Imported extractable once, only to read the public key back: JWK carries it as `x`.
          const key = await s.importKey('pkcs8', pkcs8(secretKey) as BufferSource, ED25519, true, ['sign']);
          const jwk = await s.exportKey('jwk', key);
          const publicKey = fromBase64Url(jwk.x);
          const nodeId = nodeIdFromPublicKey(publicKey);
          return { secretKey, publicKey, nodeId, nodeIdHex: toHex(nodeId) };
        },
        () => identityFromSecretKey(secretKey),
      ),
  };
}

function fromBase64Url(s: string | undefined): Uint8Array {
  if (typeof s !== 'string') throw new TypeError('jwk: no public key');
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/');
  const bytes = Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
  if (bytes.length !== 32) throw new RangeError('jwk: public key of 32 bytes');
  return bytes;
}
