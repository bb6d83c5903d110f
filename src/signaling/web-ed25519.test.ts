import { describe, expect, it } from 'vitest';
import { seededRandom } from '../core/environment.js';
import { toHex } from '../core/id.js';
import { createIdentity, identityFromSecretKey, sign } from '../core/identity.js';
import { webEd25519 } from './web-ed25519.js';

const alice = createIdentity(seededRandom(41).bytes);
const message = new TextEncoder().encode('macula-web/test|a message');

describe('webEd25519', () => {
  it("makes the pure-JS one's keys and signatures, and checks what it signs", async () => {
    const ed = webEd25519();
    const identity = await ed.identity(alice.secretKey);
    expect(identity.nodeIdHex).toBe(alice.nodeIdHex);
    expect(toHex(identity.publicKey)).toBe(toHex(alice.publicKey));
    const signature = await ed.sign(message, alice.secretKey);
    expect(toHex(signature)).toBe(toHex(sign(message, alice.secretKey)));
    expect(await ed.verify(signature, message, alice.publicKey)).toBe(true);
    const altered = new Uint8Array(signature);
    altered[5]! ^= 1;
    expect(await ed.verify(altered, message, alice.publicKey)).toBe(false);
    expect(await ed.verify(signature, new Uint8Array(3), alice.publicKey)).toBe(false);
    expect(await ed.verify(signature.subarray(1), message, alice.publicKey)).toBe(false);
  });

  it('answers the same without WebCrypto, and when the platform does not know Ed25519', async () => {
    const unsupported = (): Promise<never> =>
      Promise.reject(Object.assign(new Error('Unrecognized name'), { name: 'NotSupportedError' }));
    const subtle = { importKey: unsupported, exportKey: unsupported, sign: unsupported, verify: unsupported };
    for (const ed of [webEd25519(undefined), webEd25519(subtle as unknown as SubtleCrypto)]) {
      expect((await ed.identity(alice.secretKey)).nodeIdHex).toBe(identityFromSecretKey(alice.secretKey).nodeIdHex);
      const signature = await ed.sign(message, alice.secretKey);
      expect(toHex(signature)).toBe(toHex(sign(message, alice.secretKey)));
      expect(await ed.verify(signature, message, alice.publicKey)).toBe(true);
      expect(await ed.verify(new Uint8Array(64), message, alice.publicKey)).toBe(false);
    }
  });

  it("a key the platform refuses gets the pure-JS answer, and the platform's stays in use", async () => {
    let refused = 0;
    let verified = 0;
    let signed = 0;
    const real = globalThis.crypto.subtle;
    const subtle = {
      importKey: (...args: Parameters<SubtleCrypto['importKey']>) => {
        if (args[0] === 'raw') {
          refused++;
          return Promise.reject(Object.assign(new Error('invalid key'), { name: 'DataError' }));
        }
        return real.importKey(...args);
      },
      exportKey: real.exportKey.bind(real),
      sign: (...args: Parameters<SubtleCrypto['sign']>) => (signed++, real.sign(...args)),
      verify: (...args: Parameters<SubtleCrypto['verify']>) => (verified++, real.verify(...args)),
    };
    const ed = webEd25519(subtle as unknown as SubtleCrypto);
    const signature = await ed.sign(message, alice.secretKey);
    expect(await ed.verify(signature, message, alice.publicKey)).toBe(true);
    expect(refused).toBe(1);
    expect(toHex(await ed.sign(message, alice.secretKey))).toBe(toHex(signature));
    expect(signed).toBe(2);
    expect(verified).toBe(0);
  });
});
