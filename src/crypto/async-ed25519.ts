import { nodeIdFromPublicKey, toHex } from '../core/id.js';
import type { Identity } from '../core/identity.js';
import { webEd25519, type WebEd25519 } from './web-ed25519.js';

/**
 * Ed25519 that always answers, for the page's side: its key at start and the relay's
 * signals. The platform's WebCrypto where web-ed25519.ts found it, the pure-JS one
 * (core/identity.ts) otherwise. Why: a freshly loaded page pays pure JS's first use dearly
 * (V8 has not compiled it yet, and the first key or signature builds a table of 4,096
 * base-point multiples): ~100 ms for the tab's key, tens of ms more for the first signature
 * checked, all on the way from page load to the first channel (BENCHMARKS.md, Browser).
 *
 * What is accepted never depends on which one ran: Ed25519 signatures are deterministic, so
 * both sign the same bytes; where the platform fails (a seed it refuses) the pure-JS one
 * answers; and a signature the platform finds invalid is checked again in pure JS before
 * it is refused, as the worker leaves such a one to the core (peer/worker/preverify.ts).
 * Results are promises: the relay client keeps its signals in order around them (client.ts).
 *
 * The pure-JS one is loaded only when it is needed (pure-ed25519.ts, a dynamic import): in
 * a browser with WebCrypto's Ed25519 the page never parses @noble/curves' 34 kB (BENCHMARKS.md,
 * Package size).
 */
export interface AsyncEd25519 {
  sign(message: Uint8Array, secretKey: Uint8Array): Promise<Uint8Array>;
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): Promise<boolean>;
  /** The identity of a 32-byte secret key (public key and node id), as identityFromSecretKey makes it. */
  identity(secretKey: Uint8Array): Promise<Identity>;
}

/** The pure-JS Ed25519, loaded on first need and shared by every user of this module. */
let pure: Promise<typeof import('./pure-ed25519.js')> | undefined;

/** The pure-JS Ed25519 (pure-ed25519.ts), imported the first time a fallback needs it. */
const pureEd25519 = (): Promise<typeof import('./pure-ed25519.js')> => (pure ??= import('./pure-ed25519.js'));

/** The platform's Ed25519, looked for once per thread and shared by every user of this module. */
let platform: Promise<WebEd25519 | undefined> | undefined;

/** The platform's WebCrypto Ed25519 (web-ed25519.ts), looked for once per thread; undefined where it has none. */
export const platformEd25519 = (): Promise<WebEd25519 | undefined> => (platform ??= webEd25519());

export function asyncEd25519(found: Promise<WebEd25519 | undefined> = platformEd25519()): AsyncEd25519 {
  /** The signer of the last seed used: a tab signs with one key. */
  let signing: { hex: string; signer: ReturnType<WebEd25519['signer']> } | undefined;

  async function platformOr<T>(
    native: (web: WebEd25519) => Promise<T>,
    fallback: (js: Awaited<ReturnType<typeof pureEd25519>>) => T,
  ): Promise<T> {
    const web = await found;
    if (web !== undefined) {
      try {
        return await native(web);
      } catch {
        // The platform refused (a seed it will not import): the pure-JS one answers.
      }
    }
    return fallback(await pureEd25519());
  }

  return {
    sign: (message, secretKey) =>
      platformOr(
        async (web) => {
          const hex = toHex(secretKey);
          if (signing?.hex !== hex) signing = { hex, signer: web.signer(secretKey) };
          const signer = signing.signer;
          return (await signer)(message);
        },
        (js) => js.sign(message, secretKey),
      ),
    verify: async (signature, message, publicKey) => {
      if (signature.length !== 64 || publicKey.length !== 32) return false;
      const web = await found;
      if (web !== undefined && (await web.verify(signature, message, publicKey))) return true;
      return (await pureEd25519()).verify(signature, message, publicKey);
    },
    identity: (secretKey) =>
      platformOr(
        async (web) => {
          const publicKey = await web.publicKeyOf(secretKey);
          const nodeId = nodeIdFromPublicKey(publicKey);
          return { secretKey, publicKey, nodeId, nodeIdHex: toHex(nodeId) };
        },
        (js) => js.identityFromSecretKey(secretKey),
      ),
  };
}
