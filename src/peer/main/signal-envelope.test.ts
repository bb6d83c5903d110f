import { describe, expect, it } from 'vitest';
import { toHex } from '../../core/id.js';
import { createIdentity } from '../../core/identity.js';
import { newSignalSession } from '../../signaling/protocol.js';
import { asyncEd25519 } from '../../crypto/async-ed25519.js';
import { webEd25519 } from '../../crypto/web-ed25519.js';
import { signSignal } from '../../signaling/auth.js';
import { openSignal, sealedWith, sealSignal } from './signal-envelope.js';

const T0 = 1_700_000_000_000;

describe('overlay signal envelope', () => {
  const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
  const a = createIdentity(random);
  const b = createIdentity(random);
  const signal = { data: { type: 'offer', sdp: 'v=0' }, ts: T0, session: newSignalSession(), seq: 4 };
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();

  it('carries the stamp under the signature: opened as sealed, refused when any part of it changed', async () => {
    const ed = asyncEd25519();
    const sealed = (await sealSignal(ed, a, b.nodeIdHex, signal))!;
    expect(await openSignal(ed, sealed, b.nodeIdHex, a.nodeIdHex)).toEqual(signal);
    const envelope = JSON.parse(decoder.decode(sealed)) as Record<string, unknown>;
    for (const changed of [
      { ts: T0 + 1 },
      { session: newSignalSession() },
      { seq: 5 },
      { ts: undefined },
      { seq: 2048 },
    ]) {
      const altered = encoder.encode(JSON.stringify({ ...envelope, ...changed }));
      expect(await openSignal(ed, altered, b.nodeIdHex, a.nodeIdHex)).toBeNull();
    }
    expect(await openSignal(ed, sealed, a.nodeIdHex, a.nodeIdHex)).toBeNull();
    expect(await openSignal(ed, sealed, b.nodeIdHex, toHex(random(32)))).toBeNull();
    expect(await sealSignal(ed, a, b.nodeIdHex, { ...signal, session: 'not hex' })).toBeNull();
    expect(await openSignal(ed, encoder.encode('not json'), b.nodeIdHex, a.nodeIdHex)).toBeNull();
  });

  it('seals the bytes signSignal signs, and opens them the same, with the platform Ed25519 or the pure-JS one', async () => {
    const expected = sealedWith(a, b.nodeIdHex, signal, signSignal(a, b.nodeIdHex, signal)!);
    for (const ed of [asyncEd25519(), asyncEd25519(webEd25519({}))]) {
      const sealed = (await sealSignal(ed, a, b.nodeIdHex, signal))!;
      expect(decoder.decode(sealed)).toBe(decoder.decode(expected));
      expect(await openSignal(ed, expected, b.nodeIdHex, a.nodeIdHex)).toEqual(signal);
    }
  });
});
