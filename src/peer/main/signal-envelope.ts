import { toHex, type IdHex } from '../../core/id.js';
import type { Identity } from '../../core/identity.js';
import { signSignal, verifySignal } from '../../signaling/auth.js';

/**
 * WebRTC signals that travel through the overlay pass through other peers' hands, so
 * they carry the same proof as relayed ones: the sender's public key (which hashes to
 * its node id) and its signature over sender, receiver and data. A forwarding peer can
 * drop a signal but not forge or alter one.
 */
interface OverlaySignal {
  from: IdHex;
  fromKey: string;
  to: IdHex;
  data: unknown;
  signature: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function sealSignal(identity: Identity, to: IdHex, data: unknown): Uint8Array | null {
  const signature = signSignal(identity, to, data);
  if (signature === null) return null;
  const envelope: OverlaySignal = { from: identity.nodeIdHex, fromKey: toHex(identity.publicKey), to, data, signature };
  return encoder.encode(JSON.stringify(envelope));
}

/** The signal's data when it is addressed to `self`, comes from `claimedFrom` and its signature holds; else null. */
export function openSignal(payload: Uint8Array, self: IdHex, claimedFrom: IdHex): unknown | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(payload));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const m = parsed as Partial<OverlaySignal>;
  if (m.from !== claimedFrom || typeof m.fromKey !== 'string' || typeof m.signature !== 'string' || m.to !== self) return null;
  const ok = verifySignal({ t: 'signal', from: m.from, fromKey: m.fromKey, to: m.to, data: m.data, signature: m.signature }, self);
  return ok ? m.data : null;
}
