import { describe, expect, it } from 'vitest';
import { seededRandom } from '../core/environment.js';
import { createIdentity, sign, verify } from '../core/identity.js';
import { webEd25519 } from './web-ed25519.js';

/**
 * WebCrypto's Ed25519 and the fallback to @noble/curves. Node 20 has Ed25519 in WebCrypto,
 * as Chromium 137+ and Firefox 129+ do; runtimes without it are stood in for by a subtle
 * that lacks it, and by one that gives wrong answers.
 */

const random = seededRandom(7);
const identity = createIdentity(random.bytes);
const message = new TextEncoder().encode('macula-web/publish/v1 and the rest');

describe('WebCrypto Ed25519', () => {
  it('is found in this runtime, and agrees with @noble/curves: same signatures, same verdicts', async () => {
    const web = await webEd25519();
    expect(web).toBeDefined();
    const signWeb = await web!.signer(identity.secretKey);
    expect(await web!.publicKeyOf(identity.secretKey)).toEqual(identity.publicKey);
    const signature = await signWeb(message);
    expect(signature).toEqual(sign(message, identity.secretKey));
    expect(await web!.verify(signature, message, identity.publicKey)).toBe(true);
    const corrupted = signature.slice();
    corrupted[10]! ^= 0x40;
    expect(verify(corrupted, message, identity.publicKey)).toBe(false);
    expect(await web!.verify(corrupted, message, identity.publicKey)).toBe(false);
    const other = createIdentity(random.bytes);
    expect(await web!.verify(signature, message, other.publicKey)).toBe(false);
  });

  it('never rejects on junk: wrong lengths, a key that is no curve point', async () => {
    const web = (await webEd25519())!;
    expect(await web.verify(new Uint8Array(63), message, identity.publicKey)).toBe(false);
    expect(await web.verify(new Uint8Array(64), message, new Uint8Array(31))).toBe(false);
    const notAPoint = new Uint8Array(32).fill(0xff);
    expect(await web.verify(new Uint8Array(64), message, notAPoint)).toBe(false);
    // Asked again: a key that would not import is tried (and refused) again, not kept.
    expect(await web.verify(new Uint8Array(64), message, notAPoint)).toBe(false);
    // A seed of the wrong length is refused, not signed with.
    await expect(web.signer(new Uint8Array(31))).rejects.toThrow(RangeError);
    await expect(web.publicKeyOf(new Uint8Array(33))).rejects.toThrow(RangeError);
  });

  it('falls back (undefined) where the runtime has no subtle, no Ed25519, or one that answers wrongly', async () => {
    expect(await webEd25519({})).toBeUndefined();
    const unsupported = (): Promise<never> =>
      Promise.reject(new DOMException('Unrecognized name.', 'NotSupportedError'));
    const noEd25519 = { importKey: unsupported, sign: unsupported, verify: unsupported } as unknown as SubtleCrypto;
    expect(await webEd25519({ subtle: noEd25519 })).toBeUndefined();
    const real = globalThis.crypto.subtle;
    const yesMan = {
      importKey: real.importKey.bind(real),
      sign: real.sign.bind(real),
      verify: () => Promise.resolve(true),
    } as unknown as SubtleCrypto;
    expect(await webEd25519({ subtle: yesMan })).toBeUndefined();
  });
});
