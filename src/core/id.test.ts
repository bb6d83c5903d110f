import { describe, expect, it } from 'vitest';
import { seededRandom } from './environment.js';
import {
  bitAt,
  bucketIndex,
  commonPrefixLength,
  compareDistance,
  fromHex,
  isIdHex,
  keyForName,
  nodeIdFromPublicKey,
  randomIdInBucket,
  sortByDistance,
  toHex,
  xorDistance,
} from './id.js';

const rnd = seededRandom(7);

describe('ids', () => {
  it('hex round-trips and is 64 lowercase chars', () => {
    const id = rnd.bytes(32);
    const hex = toHex(id);
    expect(hex).toMatch(/^[0-9a-f]{64}$/);
    expect(fromHex(hex)).toEqual(id);
    expect(isIdHex(hex.toUpperCase())).toBe(false);
    expect(() => fromHex('zz')).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('hex is two lowercase digits per byte, high first, for every byte value and any length', () => {
    const every = Uint8Array.from({ length: 256 }, (_, b) => b);
    const reference = (bytes: Uint8Array): string => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
    for (let at = 0; at < 256; at += 32) {
      const id = every.slice(at, at + 32);
      expect(toHex(id)).toBe(reference(id));
      expect(fromHex(toHex(id))).toEqual(id);
    }
    for (let i = 0; i < 50; i++) {
      const id = rnd.bytes(32);
      expect(toHex(id)).toBe(reference(id));
      expect(fromHex(reference(id))).toEqual(id);
    }
    const good = toHex(rnd.bytes(32));
    // Every character outside 0-9 and a-f, at either digit of a byte, and every other length, is refused.
    for (const bad of ['g', 'G', 'A', 'F', '/', ':', '`', ' ', 'é']) {
      for (const at of [0, 1, 62, 63]) {
        const hex = good.slice(0, at) + bad + good.slice(at + 1);
        expect(() => fromHex(hex)).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
        expect(isIdHex(hex)).toBe(false);
      }
    }
    expect(isIdHex(good)).toBe(true);
    for (const hex of [good.slice(1), `${good}0`, '', 42 as unknown as string]) {
      expect(() => fromHex(hex)).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      expect(isIdHex(hex)).toBe(false);
    }
    expect(isIdHex(undefined)).toBe(false);
    for (const n of [0, 1, 16, 31, 33, 64]) {
      const bytes = rnd.bytes(n);
      expect(toHex(bytes)).toBe(reference(bytes));
    }
  });

  it('keys are SHA-256 of the UTF-8 name', () => {
    // SHA-256("abc"), the FIPS 180-2 test vector.
    expect(toHex(keyForName('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(nodeIdFromPublicKey(new TextEncoder().encode('abc'))).toEqual(keyForName('abc'));
  });

  it('xor distance is symmetric and zero only to itself', () => {
    const a = rnd.bytes(32);
    const b = rnd.bytes(32);
    expect(xorDistance(a, b)).toEqual(xorDistance(b, a));
    expect(xorDistance(a, a).every((x) => x === 0)).toBe(true);
  });

  it('compareDistance orders by XOR distance', () => {
    const target = new Uint8Array(32);
    const near = new Uint8Array(32);
    near[31] = 1;
    const far = new Uint8Array(32);
    far[0] = 0x80;
    expect(compareDistance(target, near, far)).toBeLessThan(0);
    expect(compareDistance(target, far, near)).toBeGreaterThan(0);
    expect(compareDistance(target, near, near)).toBe(0);
    const items = [{ id: far }, { id: near }, { id: target }];
    expect(sortByDistance(target, items).map((i) => i.id)).toEqual([target, near, far]);
  });

  it('bucket index is the shared prefix length; self has none', () => {
    const self = new Uint8Array(32);
    const other = new Uint8Array(32);
    other[0] = 0x80;
    expect(bucketIndex(self, other)).toBe(0);
    other[0] = 0x01;
    expect(bucketIndex(self, other)).toBe(7);
    other[0] = 0;
    other[31] = 1;
    expect(bucketIndex(self, other)).toBe(255);
    expect(bucketIndex(self, self)).toBe(-1);
    expect(commonPrefixLength(self, self)).toBe(256);
  });

  it('randomIdInBucket lands in the asked bucket', () => {
    const self = rnd.bytes(32);
    for (const b of [0, 1, 7, 8, 100, 255]) {
      const id = randomIdInBucket(self, b, (n) => rnd.bytes(n));
      expect(bucketIndex(self, id)).toBe(b);
      expect(bitAt(id, b)).toBe(1 - bitAt(self, b));
    }
  });
});
