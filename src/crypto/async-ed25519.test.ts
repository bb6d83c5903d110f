import { describe, expect, it, vi } from 'vitest';
import { seededRandom } from '../core/environment.js';
import { toHex } from '../core/id.js';
import { createIdentity, identityFromSecretKey, sign } from '../core/identity.js';
import { asyncEd25519 } from './async-ed25519.js';
import { webEd25519, webEd25519With, type WebEd25519 } from './web-ed25519.js';

const alice = createIdentity(seededRandom(41).bytes);
const message = new TextEncoder().encode('macula-web/test|a message');

describe('asyncEd25519', () => {
  it("makes the pure-JS one's keys and signatures, and checks what it signs", async () => {
    const ed = asyncEd25519();
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

  it('answers the same where the platform has no Ed25519 (the pure-JS one throughout)', async () => {
    const ed = asyncEd25519(webEd25519({}));
    expect((await ed.identity(alice.secretKey)).nodeIdHex).toBe(identityFromSecretKey(alice.secretKey).nodeIdHex);
    const signature = await ed.sign(message, alice.secretKey);
    expect(toHex(signature)).toBe(toHex(sign(message, alice.secretKey)));
    expect(await ed.verify(signature, message, alice.publicKey)).toBe(true);
    expect(await ed.verify(new Uint8Array(64), message, alice.publicKey)).toBe(false);
  });

  it('where the platform refuses or says no, the pure-JS one decides: what is accepted does not depend on which ran', async () => {
    const real = webEd25519With(globalThis.crypto.subtle);
    let asked = 0;
    const refusing: WebEd25519 = {
      verify: () => (asked++, Promise.resolve(false)),
      signer: () => (asked++, Promise.reject(new Error('refused'))),
      publicKeyOf: () => (asked++, Promise.reject(new Error('refused'))),
    };
    const ed = asyncEd25519(Promise.resolve(refusing));
    const signature = await ed.sign(message, alice.secretKey);
    expect(toHex(signature)).toBe(toHex(sign(message, alice.secretKey)));
    expect(await ed.verify(signature, message, alice.publicKey)).toBe(true);
    expect((await ed.identity(alice.secretKey)).nodeIdHex).toBe(alice.nodeIdHex);
    expect(asked).toBe(3);
    // And the platform's own answers are the pure-JS one's.
    expect(await real.verify(signature, message, alice.publicKey)).toBe(true);
  });
});

describe('the pure-JS Ed25519, loaded on demand', () => {
  it('is not loaded while the platform answers, and loads once, then verifies, where it has none', async () => {
    vi.resetModules();
    let loads = 0;
    vi.doMock('./pure-ed25519.js', async (importOriginal) => {
      loads++;
      return importOriginal();
    });
    try {
      const fresh = await import('./async-ed25519.js');
      const native = fresh.asyncEd25519();
      const signature = await native.sign(message, alice.secretKey);
      expect(await native.verify(signature, message, alice.publicKey)).toBe(true);
      expect((await native.identity(alice.secretKey)).nodeIdHex).toBe(alice.nodeIdHex);
      expect(loads).toBe(0);

      const none = fresh.asyncEd25519(webEd25519({}));
      expect(await none.verify(signature, message, alice.publicKey)).toBe(true);
      expect(loads).toBe(1);
      expect(toHex(await none.sign(message, alice.secretKey))).toBe(toHex(signature));
      expect(await none.verify(new Uint8Array(64), message, alice.publicKey)).toBe(false);
      expect((await none.identity(alice.secretKey)).nodeIdHex).toBe(alice.nodeIdHex);
      expect(loads).toBe(1);
    } finally {
      vi.doUnmock('./pure-ed25519.js');
      vi.resetModules();
    }
  });
});
