import { encode } from '@msgpack/msgpack';
import { MessageType } from '../wire/messages.js';
import { MAX_PAYLOAD_BYTES, messageFrame } from './call-reply.js';
import type { Publication } from './publication.js';

/**
 * A PUBLISH as the publisher's page writes it itself, when the worker's copy of a topic's
 * subscribers says where it goes (main/page-publishes.ts; docs/ARCHITECTURE.md, Threads):
 * with MessagePack's encoder alone (the page carries no codec), the same bytes as the
 * worker's codec writes (wire/codec.ts, encodeFrame; publication-write.test.ts holds the two
 * side by side), so a subscriber cannot tell which thread of the publisher sent it.
 */

/** The fields of a publication in the order the worker writes them (pubsub.ts: `{ rid, ...publication }`). */
export function publishFrame(rid: number, p: Publication): Uint8Array {
  return messageFrame(MessageType.PUBLISH, {
    rid,
    mid: p.mid,
    topic: p.topic,
    payload: p.payload,
    at: p.at,
    publicKey: p.publicKey,
    signature: p.signature,
  });
}

/**
 * A publication's payload as it travels (wire/codec.ts, encodeValue: the same bytes), or null
 * when the worker would refuse it (rpc.ts, checkPayload: not MessagePack, or over 1 MiB
 * encoded): the publish then goes the worker's way and gets its typed error there.
 */
export function publicationPayload(value: unknown): Uint8Array | null {
  try {
    const bytes = encode(value, { ignoreUndefined: true });
    return bytes.length > MAX_PAYLOAD_BYTES ? null : bytes;
  } catch {
    return null;
  }
}
