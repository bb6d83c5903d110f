import { describe, expect, it } from 'vitest';
import type { CounterName } from '../counters.js';
import type { Transport } from '../environment.js';
import { HeldFrame } from '../held-frame.js';
import { manualClock } from '../manual-clock.js';
import { encodeFrame, holdFrame } from '../wire/codec.js';
import { outgoingTransport } from './outgoing.js';

/** A transport that records what it was handed, bytes and held frames apart; `held` gives it sendHeld. */
function recording(held: boolean) {
  const bytes: Uint8Array[] = [];
  const heldFrames: HeldFrame[] = [];
  const transport: Transport = {
    send: (_peer, frame) => bytes.push(frame) > 0,
    connect: () => undefined,
    disconnect: () => undefined,
  };
  if (held) transport.sendHeld = (_peer, frame) => heldFrames.push(frame) > 0;
  const counted: CounterName[] = [];
  const out = outgoingTransport(transport, undefined, new Map(), manualClock(), (n) => counted.push(n));
  return { out, bytes, heldFrames, counted };
}

describe('outgoing transport: held frames only where the transport carries them', () => {
  it('a transport without sendHeld (browsers, Node) gets bytes, even for a held frame handed on', () => {
    const { out, bytes, heldFrames, counted } = recording(false);
    const frame = out.frame('PING', { rid: 5 });
    expect(frame).toBeInstanceOf(Uint8Array);
    expect(out.send('a', frame)).toBe(true);
    expect(out.send('a', holdFrame('PONG', { rid: 6 }))).toBe(true);
    expect(bytes).toEqual([encodeFrame('PING', { rid: 5 }), encodeFrame('PONG', { rid: 6 })]);
    expect(heldFrames).toEqual([]);
    expect(counted).toEqual(['messages.out', 'messages.out.PING', 'messages.out', 'messages.out.PONG']);
  });

  it('a transport with sendHeld gets the node’s messages held, counted by type as bytes are', () => {
    const { out, bytes, heldFrames, counted } = recording(true);
    const frame = out.frame('PING', { rid: 5 });
    expect(frame).toBeInstanceOf(HeldFrame);
    expect(frame.length).toBe(encodeFrame('PING', { rid: 5 }).length);
    expect(out.send('a', frame)).toBe(true);
    // Bytes that came from elsewhere (a hostile peer's, a forwarded junk envelope's) still go as bytes.
    expect(out.send('a', encodeFrame('PONG', { rid: 6 }))).toBe(true);
    expect(heldFrames).toEqual([frame]);
    expect(bytes).toEqual([encodeFrame('PONG', { rid: 6 })]);
    expect(counted).toEqual(['messages.out', 'messages.out.PING', 'messages.out', 'messages.out.PONG']);
  });
});
