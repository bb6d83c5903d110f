import { MAX_CHANNEL_MESSAGE_BYTES, MAX_FRAME_BYTES } from '../core/constants.js';

/**
 * Data-channel messages stay at or below 16 KiB, the size every WebRTC stack delivers
 * (docs/ARCHITECTURE.md, Wire). A larger frame is cut into chunks; because channels are reliable and
 * ordered and a sender writes a frame's chunks back to back, the receiver only ever
 * reassembles one frame at a time per channel.
 *
 * A whole frame starts with the protocol version (1); a chunk starts with 0xff:
 *   0xff | frame id (uint32) | index (uint16) | count (uint16) | bytes
 */
const CHUNK_MARK = 0xff;
const CHUNK_HEADER = 9;
const CHUNK_BODY = MAX_CHANNEL_MESSAGE_BYTES - CHUNK_HEADER;
const MAX_CHUNKS = Math.ceil(MAX_FRAME_BYTES / CHUNK_BODY);

export function toChunks(frame: Uint8Array, frameId: number): Uint8Array[] {
  if (frame.length <= MAX_CHANNEL_MESSAGE_BYTES && frame[0] !== CHUNK_MARK) return [frame];
  const count = Math.ceil(frame.length / CHUNK_BODY);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const body = frame.subarray(i * CHUNK_BODY, (i + 1) * CHUNK_BODY);
    const chunk = new Uint8Array(CHUNK_HEADER + body.length);
    const view = new DataView(chunk.buffer);
    chunk[0] = CHUNK_MARK;
    view.setUint32(1, frameId >>> 0);
    view.setUint16(5, i);
    view.setUint16(7, count);
    chunk.set(body, CHUNK_HEADER);
    out.push(chunk);
  }
  return out;
}

export type ReassembleResult =
  { kind: 'frame'; frame: Uint8Array } | { kind: 'partial' } | { kind: 'dropped'; reason: string };

/** One per channel. Malformed or oversize input is dropped and reported, never thrown. */
export class Reassembler {
  private current: { id: number; count: number; parts: Uint8Array[]; bytes: number } | undefined;

  push(message: Uint8Array): ReassembleResult {
    if (message.length === 0) return { kind: 'dropped', reason: 'empty' };
    if (message[0] !== CHUNK_MARK) {
      this.current = undefined;
      return { kind: 'frame', frame: message };
    }
    if (message.length <= CHUNK_HEADER) return this.drop('short chunk');
    const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
    const id = view.getUint32(1);
    const index = view.getUint16(5);
    const count = view.getUint16(7);
    if (count < 2 || count > MAX_CHUNKS || index >= count) return this.drop('bad chunk header');
    if (index === 0) this.current = { id, count, parts: [], bytes: 0 };
    const c = this.current;
    if (c === undefined || c.id !== id || c.count !== count || c.parts.length !== index)
      return this.drop('chunk out of sequence');
    c.parts.push(message.subarray(CHUNK_HEADER));
    c.bytes += message.length - CHUNK_HEADER;
    if (c.bytes > MAX_FRAME_BYTES) return this.drop('frame too large');
    if (c.parts.length < count) return { kind: 'partial' };
    this.current = undefined;
    const frame = new Uint8Array(c.bytes);
    let at = 0;
    for (const p of c.parts) {
      frame.set(p, at);
      at += p.length;
    }
    return { kind: 'frame', frame };
  }

  private drop(reason: string): ReassembleResult {
    this.current = undefined;
    return { kind: 'dropped', reason };
  }
}
