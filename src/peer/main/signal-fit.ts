import type { StampedSignal } from '../../signaling/protocol.js';

/**
 * Which negotiation a fresh, verified signal belongs to (signal-freshness.ts has judged it
 * new). A negotiation is one session: the side that offers draws its id, the side that
 * answers stamps its own signals with it, so both sides' signals name the same session.
 *
 * - With no connection to the sender, only an offer means anything: it asks for a new one.
 * - In the session in place, answers and candidates go to the connection; a second offer
 *   does not (a negotiation has one offer), so it never starts one over.
 * - Of another session, answers and candidates are dropped: a copy from an older attempt,
 *   or the candidates of the losing side of two crossed offers.
 * - An offer of another session on an open channel means the peer started over (a reload),
 *   if it was signed after the peer's signals that opened the channel; an older one is a
 *   copy held back and routed late, and must not cost the channel.
 * - An offer of another session while we dial the sender: both dialled at once.
 * - An offer of another session while we answer one of the sender's: that negotiation
 *   opens or times out first.
 */

/** What the manager knows of its connection with the sender. */
export interface Negotiation {
  session: string;
  initiator: boolean;
  open: boolean;
  /** The latest stamp time of the sender's signals in this session (the sender's clock). */
  peerTs: number;
}

export type SignalFit =
  /** Hand it to the connection in place. */
  | 'deliver'
  /** An offer for a new connection, through the inbound gate. */
  | 'offer'
  /** The sender started over: close the open channel, then as 'offer'. */
  | 'restart'
  /** Both sides dialled: the larger node id drops its dial and answers (the smaller one keeps its own and ignores this). */
  | 'crossed'
  /** An offer older than the open channel's signals. */
  | 'stale'
  /** An answer or candidate of another session. */
  | 'otherSession'
  /** Nothing to do: a non-offer with no connection, a second offer in a session, another offer while answering. */
  | 'ignore';

export const isOffer = (data: unknown): boolean =>
  typeof data === 'object' && data !== null && (data as { type?: unknown }).type === 'offer';

export function fitSignal(connection: Negotiation | undefined, signal: StampedSignal): SignalFit {
  const offer = isOffer(signal.data);
  if (connection === undefined) return offer ? 'offer' : 'ignore';
  if (signal.session === connection.session) return offer ? 'ignore' : 'deliver';
  if (!offer) return 'otherSession';
  if (connection.open) return signal.ts > connection.peerTs ? 'restart' : 'stale';
  return connection.initiator ? 'crossed' : 'ignore';
}
