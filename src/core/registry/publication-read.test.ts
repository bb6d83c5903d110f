import { describe, expect, it } from 'vitest';
import { encode } from '@msgpack/msgpack';
import { seededRandom } from '../environment.js';
import { createIdentity } from '../identity.js';
import { decodeFrame, decodeValue, encodeFrame, encodeValue } from '../wire/codec.js';
import { MessageType } from '../wire/messages.js';
import { signPublication } from './publication.js';
import { isPublishFrame, readPublish } from './publication-read.js';
import { readValue as readPayload } from './call-answer.js';

/** The page's reading of a PUBLISH (publication-read.ts) against the codec's, side by side. */

const random = seededRandom(20);
const identity = createIdentity(random.bytes);
const publication = signPublication(identity, {
  mid: random.bytes(16),
  topic: 'chat.lobby',
  payload: encodeValue({ text: 'hi' }),
  at: 1_000,
});

/** A frame with `body` as its MessagePack body and `type` in its header. */
function frameOf(body: unknown, type: number = MessageType.PUBLISH): Uint8Array {
  const payload = encode(body);
  const frame = new Uint8Array(8 + payload.length);
  frame[0] = 1;
  frame[1] = type;
  new DataView(frame.buffer).setUint32(4, payload.length);
  frame.set(payload, 8);
  return frame;
}

const codecReads = (frame: Uint8Array): unknown => {
  const d = decodeFrame(frame);
  return d.ok && d.message.type === 'PUBLISH' ? d.message.body : null;
};

describe("the page's reading of a PUBLISH", () => {
  it('reads what the codec reads, field for field', () => {
    const frame = encodeFrame('PUBLISH', { rid: 7, ...publication });
    expect(isPublishFrame(frame)).toBe(true);
    expect(readPublish(frame)).toEqual(codecReads(frame));
    expect(readPublish(frame)).toEqual({ rid: 7, ...publication });
  });

  it('refuses everything the codec refuses (and other frames)', () => {
    const good = { rid: 7, ...publication };
    const bodies: unknown[] = [
      { ...good, rid: -1 },
      { ...good, rid: 2 ** 32 },
      { ...good, rid: 1.5 },
      { ...good, mid: new Uint8Array(15) },
      { ...good, mid: 'x'.repeat(16) },
      { ...good, topic: '' },
      { ...good, topic: 'a'.repeat(257) },
      { ...good, topic: 5 },
      { ...good, payload: 'not bytes' },
      { ...good, publicKey: new Uint8Array(31) },
      { ...good, signature: new Uint8Array(63) },
      { ...good, at: 'now' },
      { ...good, at: Infinity },
      [good],
      null,
      new Uint8Array(3),
    ];
    for (const body of bodies) {
      const frame = frameOf(body);
      expect(codecReads(frame)).toBeNull();
      expect(readPublish(frame)).toBeNull();
    }
    const frame = encodeFrame('PUBLISH', good);
    const cut = frame.slice(0, frame.length - 1);
    const wrongVersion = frame.slice();
    wrongVersion[0] = 2;
    const wrongLength = frame.slice();
    wrongLength[7] = (wrongLength[7]! + 1) & 0xff;
    for (const bad of [cut, wrongVersion, wrongLength, frame.slice(0, 5), frameOf(good, MessageType.CALL)]) {
      expect(codecReads(bad)).toBeNull();
      expect(readPublish(bad)).toBeNull();
    }
    // Junk MessagePack after a good header.
    const junk = frameOf(null);
    junk[8] = 0xc1;
    expect(readPublish(junk)).toBeNull();
    expect(isPublishFrame(frameOf(good, MessageType.PUBSUB_ROUTE))).toBe(false);
  });

  it("reads a payload as the codec's decodeValue does", () => {
    const bytes = encodeValue({ a: [1, 'b'] });
    expect(readPayload(bytes)).toEqual({ value: (decodeValue(bytes) as { value: unknown }).value });
    expect(readPayload(Uint8Array.of(0xc1))).toBeUndefined();
    expect(decodeValue(Uint8Array.of(0xc1)).ok).toBe(false);
  });
});
