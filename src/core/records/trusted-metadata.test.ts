import { describe, expect, it } from 'vitest';
import { MAX_METADATA_BYTES, MAX_METADATA_ENTRIES } from '../constants.js';
import { normalizeMetadata, trustedMetadata } from './metadata.js';

/**
 * A restore of this node's own snapshot skips the canonical round trip when it can prove
 * the size bound without it (metadata.ts, trustedMetadata): whatever it accepts must be what
 * normalizeMetadata would have made of it, and whatever normalizeMetadata refuses, it refuses.
 */
describe('trustedMetadata', () => {
  const cases: Array<[string, unknown]> = [
    ['empty', {}],
    ['scalars', { unit: 'W', watts: 1234, ratio: 0.25, on: true, none: null }],
    ['sixteen short entries', Object.fromEntries(Array.from({ length: MAX_METADATA_ENTRIES }, (_, i) => [`k${i}`, i]))],
    ['undefined becomes null', { a: undefined, b: 1 }],
    ['near the byte bound', { text: 'x'.repeat(MAX_METADATA_BYTES - 20) }],
    ['over the byte bound', { text: 'x'.repeat(MAX_METADATA_BYTES) }],
    ['wide characters', { text: '€'.repeat(700) }],
    ['nested', { a: { b: 1 } }],
    ['an array', [1, 2]],
    ['too many keys', Object.fromEntries(Array.from({ length: MAX_METADATA_ENTRIES + 1 }, (_, i) => [`k${i}`, i]))],
    ['bytes', { b: new Uint8Array(3) }],
    ['null', null],
  ];

  for (const [name, metadata] of cases) {
    it(`agrees with normalizeMetadata: ${name}`, () => {
      const full = normalizeMetadata(metadata);
      const fast = trustedMetadata(metadata);
      if ('code' in full) {
        expect(fast).toMatchObject({ code: full.code });
      } else {
        expect('code' in fast).toBe(false);
        expect((fast as { metadata: unknown }).metadata).toEqual(full.metadata);
      }
    });
  }

  it('never throws on a hostile getter', () => {
    const hostile = {};
    Object.defineProperty(hostile, 'x', {
      enumerable: true,
      get() {
        throw new Error('gotcha');
      },
    });
    expect(trustedMetadata(hostile)).toMatchObject({ code: 'MALFORMED' });
  });
});
