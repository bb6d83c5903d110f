import type { ChannelRoute, FailureReason } from './channel-diagnostics.js';

/**
 * One WebRTC data channel to one peer, as the connection manager drives it: signals in and
 * out, frames in and out, and its life events. `webrtc-channel.ts` implements it with
 * simple-peer; tests implement it in memory.
 */
export interface PeerChannel {
  signal(data: unknown): void;
  /** False when the channel cannot take the frame now (closed, or its buffer is full). */
  send(frame: Uint8Array): boolean;
  close(): void;
  onSignal: (data: unknown) => void;
  onOpen: () => void;
  onData: (frame: Uint8Array) => void;
  onClose: () => void;
  /** Why a channel that never opened failed; asked when it is given up (channels without it count as 'timeout'). */
  failureReason?(): FailureReason;
  /** The candidate pair an open channel uses (direct or through TURN), or null when unknown. */
  route?(): Promise<ChannelRoute | null>;
}
