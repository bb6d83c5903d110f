import { toHex, type IdHex } from '../../core/id.js';
import type { Identity } from '../../core/identity.js';
import { signalSigningBytes, verifySignalWith } from '../../signaling/signed-bytes.js';
import type { SignalDelivery, StampedSignal } from '../../signaling/protocol.js';
import type { AsyncEd25519 } from '../../crypto/async-ed25519.js';

/**
 * WebRTC signals that travel through the overlay pass through other peers' hands, so
 * they carry the same proof as relayed ones: the sender's public key (which hashes to
 * its node id) and its signature over sender, receiver, stamp and data. A forwarding
 * peer can drop a signal but not forge or alter one; routing the same one again later
 * is caught by its stamp (signal-freshness.ts).
 *
 * Signed and checked through the page's AsyncEd25519 (crypto/async-ed25519.ts: WebCrypto
 * where the browser has it, the pure-JS one loaded on demand otherwise), so the signature
 * is the one signSignal (signaling/auth.ts) makes and the verdict verifySignal's.
 */
interface OverlaySignal extends StampedSignal {
  from: IdHex;
  fromKey: string;
  to: IdHex;
  signature: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The envelope of `signal` for `to`, signed through `ed`; null when the stamp is malformed or the data not JSON. Never rejects. */
export async function sealSignal(
  ed: AsyncEd25519,
  identity: Identity,
  to: IdHex,
  signal: StampedSignal,
): Promise<Uint8Array | null> {
  const payload = signalSigningBytes(identity, to, signal);
  if (payload === null) return null;
  const signature = await ed.sign(payload, identity.secretKey).catch(() => null);
  return signature === null ? null : sealedWith(identity, to, signal, toHex(signature));
}

/** The envelope of `signal` with a signature made elsewhere (a bench signs synchronously with signSignal). */
export function sealedWith(identity: Identity, to: IdHex, signal: StampedSignal, signature: string): Uint8Array {
  const { data, ts, session, seq } = signal;
  const sealed: OverlaySignal = {
    from: identity.nodeIdHex,
    fromKey: toHex(identity.publicKey),
    to,
    data,
    ts,
    session,
    seq,
    signature,
  };
  return encoder.encode(JSON.stringify(sealed));
}

/** The signal (data and stamp) when it is addressed to `self`, comes from `claimedFrom` and its signature holds; else null. Never rejects. */
export async function openSignal(
  ed: AsyncEd25519,
  payload: Uint8Array,
  self: IdHex,
  claimedFrom: IdHex,
): Promise<StampedSignal | null> {
  const delivery = parse(payload, self, claimedFrom);
  return delivery !== null && (await verifySignalWith(ed, delivery, self)) ? stamped(delivery) : null;
}

function parse(payload: Uint8Array, self: IdHex, claimedFrom: IdHex): SignalDelivery | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(payload));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const m = parsed as Partial<OverlaySignal>;
  if (m.from !== claimedFrom || typeof m.fromKey !== 'string' || typeof m.signature !== 'string' || m.to !== self)
    return null;
  const { from, fromKey, to, data, ts, session, seq, signature } = m;
  // verifySignal checks the stamp's shape, so what it passes has numbers and hex where they belong.
  return { t: 'signal', from, fromKey, to, data, ts, session, seq, signature } as SignalDelivery;
}

const stamped = ({ data, ts, session, seq }: SignalDelivery): StampedSignal => ({ data, ts, session, seq });
