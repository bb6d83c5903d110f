import { messageCounter, type CounterName } from '../counters.js';
import type { Clock, Transport } from '../environment.js';
import type { FrameTransport } from '../wire/frame-transport.js';
import type { FloodGuard } from '../defence/rate-limit.js';
import type { MessageBodies, MessageName } from '../wire/messages.js';
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
  const carried = inner.sendHeld === undefined ? new BytesTransport(inner) : new HeldTransport(inner);
  const shaped = flood === undefined ? carried : new ShapedTransport(carried, flood, neighbours, clock, count);
  return new CountedTransport(shaped, count);
}

/*
 * The layers below are classes rather than objects of closures: a simulator runs thousands
 * of nodes in one process, and a dozen closures with their contexts per node were some 4 KB
 * each (BENCHMARKS.md, Simulator memory).
 */

/**
 * The transport given, taking frames of either kind. Whether it carries held frames
 * (Transport.sendHeld: the simulator's network) is looked at once, in outgoingTransport:
 * then the node's messages go out held, with no MessagePack on either side (HeldTransport);
 * otherwise as bytes (BytesTransport), and a held frame that reaches it anyway (an envelope
 * being forwarded) is encoded on the way out.
 */
class BytesTransport implements FrameTransport {
  constructor(protected readonly inner: Transport) {}

  frame<N extends MessageName>(type: N, body: MessageBodies[N]): Frame {
    return encodeFrame(type, body);
  }

  send(peer: string, frame: Frame): boolean {
    return this.inner.send(peer, frameBytes(frame));
  }

  connect(peer: string): void {
    this.inner.connect(peer);
  }

  disconnect(peer: string): void {
    this.inner.disconnect(peer);
  }
}

class HeldTransport extends BytesTransport {
  override frame<N extends MessageName>(type: N, body: MessageBodies[N]): Frame {
    return holdFrame(type, body);
  }

  override send(peer: string, frame: Frame): boolean {
    return frame instanceof HeldFrame ? this.inner.sendHeld!(peer, frame) : this.inner.send(peer, frame);
  }
}

/**
 * `inner`, with sends that would exceed what a neighbour admits from us shed (counted as
 * `flood.shed`; the router then tries another hop). Only open channels are shaped.
 */
class ShapedTransport implements FrameTransport {
  constructor(
    private readonly inner: FrameTransport,
    private readonly guard: FloodGuard,
    private readonly neighbours: ReadonlyMap<string, unknown>,
    private readonly clock: Clock,
    private readonly count: (name: CounterName) => void,
  ) {}

  frame<N extends MessageName>(type: N, body: MessageBodies[N]): Frame {
    return this.inner.frame(type, body);
  }

  send(peer: string, frame: Frame): boolean {
    if (this.neighbours.has(peer) && !this.guard.allowSend(peer, frame, this.clock.now())) {
      this.count('flood.shed');
      return false;
    }
    return this.inner.send(peer, frame);
  }

  connect(peer: string): void {
    this.inner.connect(peer);
  }

  disconnect(peer: string): void {
    this.inner.disconnect(peer);
  }
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
  return flood === undefined ? undefined : new RoutedAdmission(flood, neighbours, clock, count, intake);
}

/** routedAdmission's object: methods on a prototype rather than two closures per node. */
class RoutedAdmission {
  constructor(
    private readonly flood: FloodGuard,
    private readonly neighbours: ReadonlyMap<string, unknown>,
    private readonly clock: Clock,
    private readonly count: (name: CounterName) => void,
    private readonly intake: () => ChannelIntake,
  ) {}

  delivered(from: string, inner: Frame): boolean {
    return this.intake().admitDelivered(this.flood, from, inner);
  }

  handOver(next: string, inner: Frame): boolean {
    if (!this.neighbours.has(next) || this.flood.allowHandOver(next, inner, this.clock.now())) return true;
    this.count('flood.shed');
    return false;
  }
}

/**
 * `inner`, with every frame it accepts counted in `messages.out` and `messages.out.<TYPE>`:
 * requests, replies, routed envelopes, acknowledgements and pings alike, whichever part
 * sent them, so that what one node counts out its neighbours count in (or dropped).
 */
class CountedTransport implements FrameTransport {
  constructor(
    private readonly inner: FrameTransport,
    private readonly count: (name: CounterName) => void,
  ) {}

  frame<N extends MessageName>(type: N, body: MessageBodies[N]): Frame {
    return this.inner.frame(type, body);
  }

  send(peer: string, frame: Frame): boolean {
    // Read before sending: the worker's transport transfers the frame's buffer away.
    // Our own frames always carry a known type (the codec wrote it).
    const type = peekType(frame);
    if (!this.inner.send(peer, frame)) return false;
    this.count('messages.out');
    if (type !== undefined) this.count(messageCounter('out', type));
    return true;
  }

  connect(peer: string): void {
    this.inner.connect(peer);
  }

  disconnect(peer: string): void {
    this.inner.disconnect(peer);
  }
}
