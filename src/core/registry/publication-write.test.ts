import { describe, expect, it } from 'vitest';
import { seededRandom } from '../environment.js';
import { createIdentity } from '../identity.js';
import { encodeFrame, encodeValue } from '../wire/codec.js';
import { signPublication } from './publication.js';
import { publicationPayload, publishFrame } from './publication-write.js';

/** The page's PUBLISH (publication-write.ts) is the worker's, byte for byte, and its payload check the worker's. */

const random = seededRandom(21);
const identity = createIdentity(random.bytes);

describe('a PUBLISH written by the page', () => {
  it('is the bytes the codec writes for the same publication', () => {
    for (const payload of [null, 'hi', { text: 'hi', n: [1, 2.5, -3], ok: true }, new Uint8Array(40_000)]) {
      const bytes = publicationPayload(payload)!;
      expect(bytes).toEqual(encodeValue(payload));
      const publication = signPublication(identity, { mid: random.bytes(16), topic: 'a.b', payload: bytes, at: 1e12 });
      for (const rid of [0, 7, 300, 70_000, 0xffffffff])
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
