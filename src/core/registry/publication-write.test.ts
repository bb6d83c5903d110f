import { describe, expect, it } from 'vitest';
import { seededRandom } from '../environment.js';
import { encodeFrame, encodeValue } from '../wire/codec.js';
import { publicationPayload, publishFrame } from './publication-write.js';

/** The page's PUBLISH (publication-write.ts) is the worker's, byte for byte, and its payload check the worker's. */

const random = seededRandom(21);

describe('a PUBLISH written by the page', () => {
  it('is the bytes the codec writes for the same publication', () => {
    for (const payload of [null, 'hi', { text: 'hi', n: [1, 2.5, -3], ok: true }, new Uint8Array(300)]) {
      const bytes = publicationPayload(payload)!;
      expect(bytes).toEqual(encodeValue(payload));
      // What is signed does not matter here: only how the fields are written.
      const publication = {
        mid: random.bytes(16),
        topic: 'a.b',
        payload: bytes,
        at: 1e12 + 0.5,
        publicKey: random.bytes(32),
        signature: random.bytes(64),
      };
      for (const rid of [0, 300, 0xffffffff])
        expect(publishFrame(rid, publication)).toEqual(encodeFrame('PUBLISH', { rid, ...publication }));
    }
  });

  it('refuses what the worker refuses: a payload that is not MessagePack, or over 1 MiB encoded', () => {
    expect(publicationPayload(() => 1)).toBeNull();
    expect(publicationPayload(new Uint8Array(1 << 20))).toBeNull();
    expect(publicationPayload(new Uint8Array((1 << 20) - 5))).not.toBeNull();
    expect(publicationPayload({ a: undefined })).toEqual(encodeValue({}));
  });
});
