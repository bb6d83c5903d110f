import { messageCounter, type CounterName } from '../counters.js';
import type { Clock, Transport } from '../environment.js';
import type { FrameTransport } from '../wire/frame-transport.js';
import { shapedTransport, type FloodGuard } from '../defence/rate-limit.js';
import { encodeFrame, frameBytes, HeldFrame, holdFrame, peekType, type Frame } from '../wire/codec.js';
import type { ChannelIntake } from './channel-intake.js';

/**
 * What leaves the node: the transport the parts send through, carrying held frames where the
 * transport given can (carriedTransport below), within what each neighbour admits from us
 * (rate-limit.ts shapes it; absent when flood protection is off) and counted
 * (countedTransport below).
 */
export function outgoingTransport(
  inner: Transport,
  flood: FloodGuard | undefined,
  neighbours: ReadonlyMap<string, unknown>,
  clock: Clock,
  count: (name: CounterName) => void,
): FrameTransport {
  const carried = carriedTransport(inner);
  const shaped =
    flood === undefined ? carried : shapedTransport(carried, flood, (p) => neighbours.has(p), clock, count);
  return countedTransport(shaped, count);
}

/**
 * The transport given, taking frames of either kind. Whether it carries held frames
 * (Transport.sendHeld: the simulator's network) is looked at once, here: then the node's
 * messages go out held, with no MessagePack on either side; otherwise as bytes, and a held
 * frame that reaches it anyway (an envelope being forwarded) is encoded on the way out.
 */
function carriedTransport(inner: Transport): FrameTransport {
  const connect = (peer: string): void => inner.connect(peer);
  const disconnect = (peer: string): void => inner.disconnect(peer);
  const sendHeld = inner.sendHeld?.bind(inner);
  if (sendHeld === undefined)
    return { frame: encodeFrame, send: (peer, frame) => inner.send(peer, frameBytes(frame)), connect, disconnect };
  return {
    frame: holdFrame,
    send: (peer, frame: Frame) => (frame instanceof HeldFrame ? sendHeld(peer, frame) : inner.send(peer, frame)),
    connect,
    disconnect,
  };
}

/**
 * How routed envelopes are admitted (messenger.ts): one that ends here is charged to the
 * neighbour that handed it over by what it carries (ChannelIntake.admitDelivered), and one
 * handed on to where it may end must stay within what that neighbour admits from us, or the
 * hop is shed and the next-best one tried. Undefined when flood protection is off.
 */
export function routedAdmission(
  flood: FloodGuard | undefined,
  neighbours: ReadonlyMap<string, unknown>,
  clock: Clock,
  count: (name: CounterName) => void,
  intake: () => ChannelIntake,
): { delivered(from: string, inner: Frame): boolean; handOver(next: string, inner: Frame): boolean } | undefined {
  if (flood === undefined) return undefined;
  return {
    delivered: (from, inner) => intake().admitDelivered(flood, from, inner),
    handOver: (next, inner) => {
      if (!neighbours.has(next) || flood.allowHandOver(next, inner, clock.now())) return true;
      count('flood.shed');
      return false;
    },
  };
}

/**
 * `inner`, with every frame it accepts counted in `messages.out` and `messages.out.<TYPE>`:
 * requests, replies, routed envelopes, acknowledgements and pings alike, whichever part
 * sent them, so that what one node counts out its neighbours count in (or dropped).
 */
function countedTransport(inner: FrameTransport, count: (name: CounterName) => void): FrameTransport {
  return {
    frame: (type, body) => inner.frame(type, body),
    send: (peer, frame) => {
      // Read before sending: the worker's transport transfers the frame's buffer away.
      // Our own frames always carry a known type (the codec wrote it).
      const type = peekType(frame);
      if (!inner.send(peer, frame)) return false;
      count('messages.out');
      if (type !== undefined) count(messageCounter('out', type));
      return true;
    },
    connect: (peer) => inner.connect(peer),
    disconnect: (peer) => inner.disconnect(peer),
  };
}
