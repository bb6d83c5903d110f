import { describe, expect, it } from 'vitest';
import { toHex } from '../../core/id.js';
import { createIdentity } from '../../core/identity.js';
import { newSignalSession } from '../../signaling/protocol.js';
import { openSignal, sealSignal } from './signal-envelope.js';

const T0 = 1_700_000_000_000;

describe('overlay signal envelope', () => {
  const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
  const a = createIdentity(random);
  const b = createIdentity(random);
  const signal = { data: { type: 'offer', sdp: 'v=0' }, ts: T0, session: newSignalSession(), seq: 4 };
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();

  it('carries the stamp under the signature: opened as sealed, refused when any part of it changed', () => {
    const sealed = sealSignal(a, b.nodeIdHex, signal)!;
    expect(openSignal(sealed, b.nodeIdHex, a.nodeIdHex)).toEqual(signal);
    const envelope = JSON.parse(decoder.decode(sealed)) as Record<string, unknown>;
    for (const changed of [
      { ts: T0 + 1 },
      { session: newSignalSession() },
      { seq: 5 },
      { ts: undefined },
      { seq: 2048 },
    ]) {
      const altered = encoder.encode(JSON.stringify({ ...envelope, ...changed }));
      expect(openSignal(altered, b.nodeIdHex, a.nodeIdHex)).toBeNull();
    }
    expect(openSignal(sealed, a.nodeIdHex, a.nodeIdHex)).toBeNull();
    expect(openSignal(sealed, b.nodeIdHex, toHex(random(32)))).toBeNull();
    expect(sealSignal(a, b.nodeIdHex, { ...signal, session: 'not hex' })).toBeNull();
  });
});
