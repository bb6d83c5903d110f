import type { IdHex } from '../../core/id.js';
import type { StampedSignal } from '../../signaling/protocol.js';
import type { ConnectionStats } from './connection-stats.js';
import type { InboundGate } from './inbound-gate.js';
import type { SignalSender } from './signal-sender.js';

/** What an offer's admission reads of the page's connections when it arrives. */
export interface Room {
  /** Inbound negotiations in progress. */
  pending: number;
  /** Connections the page may still create. */
  budgetLeft: number;
  /** Whether the page holds its cap of connections already. */
  full: boolean;
}

/**
 * Whether an offer from a peer this page has no connection with gets one (connection-manager.ts
 * then makes it). A stranger's offer passes the inbound gate first (inbound-gate.ts: it costs a
 * connection before anyone can tell whether it is genuine); the answer to a dial that crossed
 * ours does not, since we asked for that channel. Either way the page's cap applies. An offer
 * refused for being too many at once or past the cap is answered busy (busy-reply.ts), so the
 * dialler neither waits for a timeout nor takes this live tab for dead; the gate's other
 * refusals stay silent. Returns undefined when refused, else whether the gate admitted it (a
 * gated connection reports to the gate how its negotiation ended).
 */
export function admitOffer(
  parts: { gate: InboundGate; counted: ConnectionStats; sender: SignalSender },
  from: IdHex,
  signal: StampedSignal,
  viaRelay: boolean,
  crossed: boolean,
  room: Room,
): { gated: boolean } | undefined {
  const { gate, counted, sender } = parts;
  let gated = false;
  if (!crossed) {
    const admission = gate.admit(from, room.pending, room.budgetLeft);
    if (admission !== 'ok') {
      counted.offersRefused[admission]++;
      if (admission === 'busy') sender.replyBusy(from, signal, viaRelay);
      return undefined;
    }
    gated = true;
  }
  if (room.full) {
    counted.counts.refusedAtCap++;
    if (gated) gate.release();
    sender.replyBusy(from, signal, viaRelay);
    return undefined;
  }
  return { gated };
}
