import { afterEach, describe, expect, it } from 'vitest';
import wrtc from '@roamhq/wrtc';
import { createWebRtcChannel } from './webrtc-channel.js';

/** libwebrtc in Node, as the Node peer (src/node) uses it: simple-peer takes it unchanged. */
type Channel = ReturnType<typeof createWebRtcChannel>;
const open: Channel[] = [];

/** Resolves when the channel opens; rejects when it closes first. */
const opened = (c: Channel): Promise<void> =>
  new Promise((resolve, reject) => {
    c.onOpen = resolve;
    c.onClose = () => reject(new Error('closed before open'));
  });

/** Two channels signaled to each other (asynchronously, as over a relay). */
async function openPair(): Promise<[Channel, Channel]> {
  const a = createWebRtcChannel({ initiator: true, wrtc });
  const b = createWebRtcChannel({ initiator: false, wrtc });
  a.onSignal = (d) => setTimeout(() => b.signal(d), 0);
  b.onSignal = (d) => setTimeout(() => a.signal(d), 0);
  open.push(a, b);
  await Promise.all([opened(a), opened(b)]);
  a.onClose = () => undefined;
  b.onClose = () => undefined;
  return [a, b];
}

afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

describe('WebRTC channel (simple-peer over @roamhq/wrtc)', () => {
  it('opens, carries a small frame and a chunked 100 KiB frame intact, and reports close', async () => {
    const [a, b] = await openPair();
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
    const closed = new Promise<void>((resolve) => {
      b.onClose = resolve;
    });
    a.close();
    await closed;
    expect(b.send(small)).toBe(false);
  }, 20_000);
  it('queues under back-pressure with a bound, then drains every accepted frame intact and in order', async () => {
    const [a, b] = await openPair();
    const frame = (n: number): Uint8Array => {
      const f = new Uint8Array(1_048_576).fill(n & 255);
      f[0] = 1;
      f[1] = n;
      return f;
    };
    // Far more than the channel buffers at once: the queue fills, then refuses.
    let accepted = 0;
    while (a.send(frame(accepted))) accepted++;
    expect(accepted).toBeGreaterThan(2);
    expect(a.stats.dropped).toBe(1);
    expect(a.stats.queuedBytes).toBeGreaterThan(0);
    const received: Uint8Array[] = [];
    await new Promise<void>((resolve) => {
      b.onData = (f) => {
        received.push(f);
        if (received.length === accepted) resolve();
      };
    });
    expect(received.map((f) => f[1])).toEqual([...Array(accepted).keys()]);
    for (const f of received) expect(f.length === 1_048_576 && f[2] === f[1] && f[f.length - 1] === f[1]).toBe(true);
    expect(a.stats.queuedBytes).toBe(0);
    expect(b.stats.framesIn).toBe(accepted);
    expect(b.stats.dropped).toBe(0);
  }, 30_000);

  it('says why an attempt failed: an offer nobody answers is noAnswer, once it has candidates to offer', async () => {
    const a = createWebRtcChannel({ initiator: true, wrtc });
    open.push(a);
    const candidates = new Promise<void>((resolve) => {
      a.onSignal = (d) => {
        if ((d as { type?: string }).type === 'candidate') resolve();
      };
    });
    await candidates;
    expect(a.failureReason()).toBe('noAnswer');
  }, 20_000);

  it('reports an open pair on one host as direct (host candidates), never relayed', async () => {
    const [a] = await openPair();
    const route = await a.route();
    expect(route?.local).toBe('host');
    expect(route?.relayed).toBe(false);
    a.close();
    expect(await a.route()).toBeNull();
  }, 20_000);
});
