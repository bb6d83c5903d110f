import { afterEach, describe, expect, it } from 'vitest';
import polyfill from 'node-datachannel/polyfill';
import { createWebRtcChannel } from './webrtc-channel.js';

/**
 * node-datachannel returns RTCSessionDescription objects whose `sdp` is read-only, and
 * simple-peer rewrites `sdp` in place: hand it plain objects instead.
 */
class PlainSdpPeerConnection extends polyfill.RTCPeerConnection {
  override async createOffer(): Promise<RTCSessionDescriptionInit> {
    const d = await super.createOffer();
    return { type: d.type, sdp: d.sdp };
  }

  override async createAnswer(): Promise<RTCSessionDescriptionInit> {
    const d = await super.createAnswer();
    return { type: d.type, sdp: d.sdp };
  }
}
const wrtc = { ...polyfill, RTCPeerConnection: PlainSdpPeerConnection };

type Channel = ReturnType<typeof createWebRtcChannel>;
const open: Channel[] = [];

function pair(): [Channel, Channel] {
  const a = createWebRtcChannel({ initiator: true, wrtc });
  const b = createWebRtcChannel({ initiator: false, wrtc });
  a.onSignal = (d) => b.signal(d);
  b.onSignal = (d) => a.signal(d);
  open.push(a, b);
  return [a, b];
}

const opened = (c: Channel): Promise<void> => new Promise((resolve) => { c.onOpen = resolve; });

afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

describe('WebRTC channel (simple-peer over node-datachannel)', () => {
  it('opens, carries a small frame and a chunked 100 KiB frame intact, and reports close', async () => {
    const [a, b] = pair();
    await Promise.all([opened(a), opened(b)]);
    const received: Uint8Array[] = [];
    const got = new Promise<void>((resolve) => {
      b.onData = (f) => {
        received.push(f);
        if (received.length === 2) resolve();
      };
    });
    const small = Uint8Array.of(1, 2, 3);
    const big = new Uint8Array(100 * 1024).map((_, i) => (i * 7) & 255);
    big[0] = 1;
    expect(a.send(small)).toBe(true);
    expect(a.send(big)).toBe(true);
    await got;
    expect(received[0]).toEqual(small);
    expect(received[1]!.length).toBe(big.length);
    expect(received[1]!.every((x, i) => x === big[i])).toBe(true);
    expect(a.stats.chunksOut).toBeGreaterThan(1);
    const closed = new Promise<void>((resolve) => { b.onClose = resolve; });
    a.close();
    await closed;
    expect(b.send(small)).toBe(false);
  }, 20_000);
});
