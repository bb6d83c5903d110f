import { MAX_SERVICE_NAME_CHARS } from '../constants.js';
import { MessageType, type PublishMsg } from '../wire/messages.js';
import { readMap } from './call-answer.js';

/**
 * A PUBLISH frame read by the page, which takes a publication straight from a neighbour
 * itself (docs/ARCHITECTURE.md, Threads; peer/main/page-publications.ts). As call-answer.ts
 * does for REPLYs (and with its reader), it reads with MessagePack's decoder alone and the codec's PUBLISH check,
 * field for field (publication-read.test.ts holds the two side by side): the page carries
 * no codec. What it refuses goes to the worker, which decides as ever; it never accepts what
 * the codec would refuse.
 */

/** True when `frame`'s header says PUBLISH (nothing decoded): the page looks no further into other frames. */
export const isPublishFrame = (frame: Uint8Array): boolean => frame.length >= 8 && frame[1] === MessageType.PUBLISH;

const bytesOf = (v: unknown, length?: number): v is Uint8Array =>
  v instanceof Uint8Array && (length === undefined || v.length === length);

/** The body of a PUBLISH frame, checked as the codec checks it; null for anything else or anything malformed. */
export function readPublish(frame: Uint8Array): PublishMsg | null {
  const b = readMap(frame, MessageType.PUBLISH);
  if (b === null) return null;
  const rid = b.rid;
  if (typeof rid !== 'number' || !Number.isInteger(rid) || rid < 0 || rid > 0xffffffff) return null;
  const topic = b.topic;
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > MAX_SERVICE_NAME_CHARS) return null;
  if (!bytesOf(b.mid, 16) || !bytesOf(b.payload) || !bytesOf(b.publicKey, 32) || !bytesOf(b.signature, 64)) return null;
  if (typeof b.at !== 'number' || !Number.isFinite(b.at)) return null;
  return { rid, mid: b.mid, topic, payload: b.payload, publicKey: b.publicKey, at: b.at, signature: b.signature };
}
