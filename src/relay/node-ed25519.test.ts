import { describe, expect, it } from 'vitest';
import { seededRandom } from '../core/environment.js';
import { createIdentity, sign, verify } from '../core/identity.js';
import { importEd25519PublicKey, nodeVerify, verifyEd25519 } from './node-ed25519.js';

describe('node:crypto Ed25519', () => {
  const random = seededRandom(7);
  const identity = createIdentity((n) => random.bytes(n));
  const message = new TextEncoder().encode('macula-web/relay-hello/v1|test');
  const signature = sign(message, identity.secretKey);

  it('agrees with the core verifier on genuine and altered signatures', () => {
    expect(nodeVerify(signature, message, identity.publicKey)).toBe(true);
    expect(verify(signature, message, identity.publicKey)).toBe(true);
    for (let i = 0; i < 64; i += 7) {
      const bad = signature.slice();
      bad[i]! ^= 1;
      expect(nodeVerify(bad, message, identity.publicKey)).toBe(verify(bad, message, identity.publicKey));
    }
    const other = createIdentity((n) => random.bytes(n));
    expect(nodeVerify(signature, message, other.publicKey)).toBe(false);
  });

  it('never throws on malformed keys or signatures', () => {
    expect(importEd25519PublicKey(new Uint8Array(31))).toBeNull();
    expect(nodeVerify(signature, message, new Uint8Array(33))).toBe(false);
    expect(nodeVerify(new Uint8Array(10), message, identity.publicKey)).toBe(false);
    const key = importEd25519PublicKey(identity.publicKey)!;
    expect(verifyEd25519(key, new Uint8Array(64), message)).toBe(false);
    // Not a point on the curve: either refused at import or never verifies.
    const junkKey = importEd25519PublicKey(new Uint8Array(32).fill(0xff));
    expect(junkKey === null || !verifyEd25519(junkKey, signature, message)).toBe(true);
  });
});
