import type { IdHex } from '../../core/id.js';
import type { StampedSignal } from '../../signaling/protocol.js';
import type { PeerChannel } from '../../transport/peer-channel.js';
import type { BusyReplyLimits } from './busy-reply.js';
import type { FreshnessLimits } from './signal-freshness.js';
import type { InboundLimits } from './inbound-gate.js';

/**
 * What the connection manager (connection-manager.ts) and the parts it delegates to share:
 * what the page wires in (hooks), the bounds it is given (limits), and the state kept for
 * one connection from its first signal until it closes.
 */

export interface ConnectionHooks {
  /** `prepared`: a dial's connection made before its peer is known (ConnectionManager.prepareDial). */
  createChannel(initiator: boolean, prepared?: boolean): PeerChannel;
  /** Route a signal through the overlay; resolves false when the node has no channel to route through. */
  sendViaOverlay(to: IdHex, signal: StampedSignal): Promise<boolean>;
  /** Send a signal through the relay; false when the relay is not connected. */
  sendViaRelay(to: IdHex, signal: StampedSignal): boolean;
  channelOpened(peer: IdHex): void;
  /** A connection was created: `total` so far, the count the browser's limit applies to. */
  created(total: number): void;
  /** The channel closed, or an attempt to open one ended (`wasOpen` false). */
  channelClosed(peer: IdHex, wasOpen: boolean): void;
  /** A dial ended without a channel because one side held its cap: the peer answered busy, or this page had no room. */
  dialBusy(peer: IdHex): void;
  frame(peer: IdHex, frame: Uint8Array): void;
}

export interface ConnectionLimits {
  maxChannels: number;
  budget: number;
  /** How long an overlay-signalled connection may wait for an answer before the relay is tried. */
  overlayAnswerMs: number;
  /** A connection that has not opened by then is abandoned. */
  openTimeoutMs: number;
  /** Bounds on inbound offers (inbound-gate.ts); `reserve` defaults to a quarter of the budget. */
  inbound: Partial<InboundLimits>;
  /** Clock skew and memory of signals had (signal-freshness.ts). */
  freshness: Partial<FreshnessLimits>;
  /** How often offers are answered busy (busy-reply.ts). */
  busyReplies: Partial<BusyReplyLimits>;
}

export interface Connection {
  channel: PeerChannel;
  initiator: boolean;
  /** An inbound connection the gate admitted: it reports how the negotiation ended. */
  gated: boolean;
  open: boolean;
  createdAt: number;
  /** The negotiation (signal-fit.ts): drawn by the side that offered, the same in both sides' stamps. */
  session: string;
  /** The latest stamp time of the peer's signals in this session (the peer's clock). */
  peerTs: number;
  /** The next sequence number of our signals in this session. */
  nextSeq: number;
  /** Signals sent so far, sent again (same stamps) through the relay if the overlay stays silent. */
  sent: StampedSignal[];
  answered: boolean;
  viaRelay: boolean;
  cancelTimers: Array<() => void>;
}
