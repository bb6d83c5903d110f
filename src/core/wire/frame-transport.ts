import type { Frame } from '../held-frame.js';
import type { MessageBodies, MessageName } from './messages.js';

/**
 * The node's transport as its parts use it (node/outgoing.ts builds it from the Transport it
 * was given, environment.ts): it makes the frames it carries, held (core/held-frame.ts) where the
 * transport given carries them and bytes otherwise, and sends either kind.
 */
export interface FrameTransport {
  /** The frame of a message, held or bytes as this transport carries them. */
  frame<N extends MessageName>(type: N, body: MessageBodies[N]): Frame;
  send(peer: string, frame: Frame): boolean;
  connect(peer: string): void;
  disconnect(peer: string): void;
}
