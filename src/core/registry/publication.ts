import { sha256 } from '@noble/hashes/sha2.js';
import { ErrorCode } from '../errors.js';
import { nodeIdFromPublicKey, toHex } from '../id.js';
import { sign, type AsyncSigner, type Identity, type Verifier } from '../identity.js';
import { canonical } from '../records/metadata.js';
import { decodeValue } from '../wire/codec.js';
import type { PublishMsg } from '../wire/messages.js';

/**
 * Signed publications: what a subscriber is told about a message (its id, topic, payload
 * and publisher) is signed by the publisher's Ed25519 key, so a forwarding or hostile peer
 * cannot deliver a message in someone else's name, alter one on the way, or move it to
 * another topic. The payload travels as the MessagePack bytes the publisher encoded, and
 * the signature covers their SHA-256: the receiver checks exactly what was sent, then
 * decodes it. A message is signed once and the same bytes go to every subscriber, routed or
 * not; nothing on the way re-signs it.
 *
 * `at` (the publisher's clock) bounds replays: a receiver drops a message signed more than
 * PUBLISH_FRESHNESS_MS before or after its own clock, and one whose id it has seen (pubsub.ts).
 */

export const PUBLISH_DOMAIN = 'macula-web/publish/v1';
/** How far a publication's `at` may be from the receiver's clock (the signals' allowance). */
export const PUBLISH_FRESHNESS_MS = 10 * 60_000;

/** The fields of a PUBLISH that carry the message and its proof. */
export type Publication = Omit<PublishMsg, 'rid'>;

export function publicationSigningBytes(p: Omit<Publication, 'signature'>): Uint8Array {
  return canonical([PUBLISH_DOMAIN, p.mid, p.topic, sha256(p.payload), p.publicKey, p.at]);
}

/** Sign a message as `identity`: `payload` is its MessagePack encoding, as it will travel. */
export function signPublication(
  identity: Pick<Identity, 'publicKey' | 'secretKey'>,
  fields: { mid: Uint8Array; topic: string; payload: Uint8Array; at: number },
): Publication {
  const unsigned = { ...fields, publicKey: identity.publicKey };
  return { ...unsigned, signature: sign(publicationSigningBytes(unsigned), identity.secretKey) };
}

/** signPublication with an asynchronous signer (the worker's WebCrypto): the same bytes, signed off the thread. */
export async function signPublicationWith(
  signer: AsyncSigner,
  publicKey: Uint8Array,
  fields: { mid: Uint8Array; topic: string; payload: Uint8Array; at: number },
): Promise<Publication> {
  const unsigned = { ...fields, publicKey };
  return { ...unsigned, signature: await signer(publicationSigningBytes(unsigned)) };
}

export type PublicationCheck =
  | { ok: true; publisher: string; payload: unknown }
  | { ok: false; code: typeof ErrorCode.STALE | typeof ErrorCode.BAD_SIGNATURE | typeof ErrorCode.MALFORMED };

/**
 * What a subscriber may believe of a received publication: the publisher's node id (SHA-256
 * of the key that signed it) and the decoded payload. Shape is the codec's business
 * (wire/codec.ts); this checks freshness first (no verification spent on a stale one), then
 * the signature, then decodes.
 */
export function checkPublication(p: Publication, now: number, verify: Verifier): PublicationCheck {
  if (!(Math.abs(p.at - now) <= PUBLISH_FRESHNESS_MS)) return { ok: false, code: ErrorCode.STALE };
  let valid: boolean;
  try {
    valid = verify(p.signature, publicationSigningBytes(p), p.publicKey);
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, code: ErrorCode.BAD_SIGNATURE };
  const payload = decodeValue(p.payload);
  if (!payload.ok) return { ok: false, code: ErrorCode.MALFORMED };
  return { ok: true, publisher: toHex(nodeIdFromPublicKey(p.publicKey)), payload: payload.value };
}
