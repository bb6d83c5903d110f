import { toHex, type IdHex } from '../../core/id.js';
import type { Identity } from '../../core/identity.js';
import { signSignal, verifySignal } from '../../signaling/auth.js';
import type { StampedSignal } from '../../signaling/protocol.js';

/**
 * WebRTC signals that travel through the overlay pass through other peers' hands, so
 * they carry the same proof as relayed ones: the sender's public key (which hashes to
 * its node id) and its signature over sender, receiver, stamp and data. A forwarding
 * peer can drop a signal but not forge or alter one; routing the same one again later
 * is caught by its stamp (signal-freshness.ts).
 */
interface OverlaySignal extends StampedSignal {
  from: IdHex;
  fromKey: string;
  to: IdHex;
  signature: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function sealSignal(identity: Identity, to: IdHex, signal: StampedSignal): Uint8Array | null {
  const signature = signSignal(identity, to, signal);
  if (signature === null) return null;
  const { data, ts, session, seq } = signal;
  const envelope: OverlaySignal = {
    from: identity.nodeIdHex,
    fromKey: toHex(identity.publicKey),
    to,
    data,
    ts,
    session,
    seq,
    signature,
  };
  return encoder.encode(JSON.stringify(envelope));
}

/** The signal (data and stamp) when it is addressed to `self`, comes from `claimedFrom` and its signature holds; else null. */
export function openSignal(payload: Uint8Array, self: IdHex, claimedFrom: IdHex): StampedSignal | null {
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
  const delivery = { t: 'signal', from, fromKey, to, data, ts, session, seq, signature } as const;
  if (!verifySignal(delivery as typeof delivery & StampedSignal, self)) return null;
  return { data, ts: ts!, session: session!, seq: seq! };
}
