import { toHex } from '../core/id.js';
import type { AsyncSigner } from '../core/identity.js';

/**
 * Ed25519 through WebCrypto (`crypto.subtle`, 'Ed25519'), where the runtime has it:
 * Chromium 137+, Firefox 129+, Safari 17, Node 20. In a page, @noble/curves (pure JS) takes
 * ~0.8 ms to verify and ~0.4 ms to sign; WebCrypto ~0.05 ms and ~0.04 ms (BENCHMARKS.md,
 * Browser: where the time goes). The core stays synchronous and keeps @noble/curves (the
 * simulator runs on it, deterministically); the worker uses this to check signatures before
 * the core sees them (peer/worker/preverify.ts) and to sign what it publishes, and the page
 * through async-ed25519.ts for its key and the relay's signals.
 *
 * Whether the runtime has it is found out once, on a test vector of RFC 8032 (section 7.1,
 * test 1): the key must import, the known signature must come out of signing and verify, and
 * a corrupted one must not. Anything less (no subtle, no Ed25519, a wrong answer) and
 * `webEd25519` resolves undefined: the worker stays on @noble/curves.
 */
export interface WebEd25519 {
  /** Never rejects: junk input, an unimportable key or an error is `false`. */
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): Promise<boolean>;
  /** A signer for this 32-byte seed; rejects on a seed of another length. */
  signer(secretKey: Uint8Array): Promise<AsyncSigner>;
  /** The public key of a 32-byte seed; rejects on a seed of another length. */
  publicKeyOf(secretKey: Uint8Array): Promise<Uint8Array>;
}

const VECTOR = {
  secretKey: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
  publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
  signature:
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
};
/** Imported public keys kept (a mesh has a few hundred peers in sight; past this, start over). */
const KEY_CACHE = 1_024;
const ED25519 = { name: 'Ed25519' } as const;

/** PKCS#8 wrapping of a 32-byte Ed25519 seed (RFC 8410): this prefix, then the seed. */
const PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

function pkcs8(secretKey: Uint8Array): Uint8Array<ArrayBuffer> {
  if (secretKey.length !== 32) throw new RangeError('an Ed25519 seed has 32 bytes');
  const der = new Uint8Array(PKCS8_PREFIX.length + 32);
  der.set(PKCS8_PREFIX);
  der.set(secretKey, PKCS8_PREFIX.length);
  return der;
}

function fromBase64Url(s: string | undefined): Uint8Array {
  if (typeof s !== 'string') throw new TypeError('jwk: no public key');
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/');
  const bytes = Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
  if (bytes.length !== 32) throw new RangeError('jwk: public key of 32 bytes');
  return bytes;
}

/** Hex of any length (id.ts's fromHex takes node ids only). */
const bytesOf = (hex: string): Uint8Array => Uint8Array.from(hex.match(/../g)!, (b) => parseInt(b, 16));

/** The bytes as an ArrayBuffer-backed view, which every WebCrypto implementation takes. */
const own = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(bytes);

export function webEd25519With(subtle: SubtleCrypto): WebEd25519 {
  const keys = new Map<string, Promise<CryptoKey>>();
  const publicKeyOf = (publicKey: Uint8Array): Promise<CryptoKey> => {
    const hex = toHex(publicKey);
    let key = keys.get(hex);
    if (key === undefined) {
      if (keys.size >= KEY_CACHE) keys.clear();
      key = subtle.importKey('raw', own(publicKey), ED25519, false, ['verify']);
      // A key that would not import is not kept: the next try imports (and refuses) again.
      key.catch(() => keys.delete(hex));
      keys.set(hex, key);
    }
    return key;
  };
  return {
    async verify(signature, message, publicKey) {
      if (signature.length !== 64 || publicKey.length !== 32) return false;
      try {
        return await subtle.verify(ED25519, await publicKeyOf(publicKey), own(signature), own(message));
      } catch {
        return false;
      }
    },
    async signer(secretKey) {
      const key = await subtle.importKey('pkcs8', pkcs8(secretKey), ED25519, false, ['sign']);
      return async (message) => new Uint8Array(await subtle.sign(ED25519, key, own(message)));
    },
    async publicKeyOf(secretKey) {
      // Imported extractable once, only to read the public key back: JWK carries it as `x`.
      const key = await subtle.importKey('pkcs8', pkcs8(secretKey), ED25519, true, ['sign']);
      return fromBase64Url((await subtle.exportKey('jwk', key)).x);
    },
  };
}

/** WebCrypto's Ed25519 when `runtime.subtle` has it and passes the test vector; undefined otherwise. */
export async function webEd25519(
  runtime: { subtle?: SubtleCrypto } | undefined = globalThis.crypto,
): Promise<WebEd25519 | undefined> {
  const subtle = runtime?.subtle;
  if (subtle === undefined) return undefined;
  try {
    const web = webEd25519With(subtle);
    const publicKey = bytesOf(VECTOR.publicKey);
    const expected = bytesOf(VECTOR.signature);
    const message = new Uint8Array(0);
    const corrupted = expected.slice();
    corrupted[0]! ^= 1;
    // The three checks at once: each WebCrypto answer is a task on the thread that asked, and a
    // page asks this on its way to its first channel (BENCHMARKS.md, Browser: join).
    const [signed, verified, forged] = await Promise.all([
      web.signer(bytesOf(VECTOR.secretKey)).then((sign) => sign(message)),
      web.verify(expected, message, publicKey),
      web.verify(corrupted, message, publicKey),
    ]);
    return toHex(signed) === VECTOR.signature && verified && !forged ? web : undefined;
  } catch {
    return undefined;
  }
}
