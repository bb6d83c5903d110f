/**
 * A frame handed from node to node inside one process (the simulator's network) without
 * being written as bytes: the message itself, and the exact length its bytes would have
 * (wire/encoded-size.ts), so traffic is still counted to the byte. A node makes them only
 * for a transport that says it carries them (environment.ts, Transport.sendHeld); browsers
 * and Node send bytes. The receiving node reads one through decodeFrame (wire/codec.ts) as it reads bytes:
 * the same schema checks and size limit, so what it sees is what it would have decoded.
 *
 * A class, so that nothing decoded from bytes can pass for one (MessagePack yields plain
 * objects): `instanceof HeldFrame` is the check, and it cannot be forged from the wire.
 * The body is shared with the sender, as a decoded message's parts are never changed by
 * its receiver (the core builds new arrays and objects rather than editing what came in).
 */
export class HeldFrame {
  constructor(
    /** The header's type byte (wire/messages.ts, MessageType). */
    readonly typeId: number,
    /** The body as the sender built it, before the receiver's schema check. */
    readonly body: unknown,
    /** Header and MessagePack payload, in bytes, as encodeFrame would write them. */
    readonly length: number,
    /**
     * Set by the codec (holdFrame) for an envelope whose body's own fields were found to be
     * exactly its schema's (encoded-size.ts, exactRouteSize): its receiver checks the values
     * and reads the body itself rather than a checked copy of it. Any other frame is copied.
     */
    readonly exactShape = false,
  ) {}

  /**
   * The codec's reading of it (wire/codec.ts, decodeFrame), kept: an envelope's body goes
   * from hop to hop unchanged, and each hop reads it (to answer or forward it), so it is
   * checked once. Every hop is then handed the same message, which none of them edits.
   */
  read: unknown = undefined;
}

/** What a transport carries: bytes, or a held frame where the transport says it can. */
export type Frame = Uint8Array | HeldFrame;
