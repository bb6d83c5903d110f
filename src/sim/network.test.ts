import { describe, expect, it } from 'vitest';
import { seededRandom, type ChannelHandler } from '../core/environment.js';
import type { Frame } from '../core/held-frame.js';
import { EventQueue } from './event-queue.js';
import { SimNetwork } from './network.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

/** Two nodes on a network with a fixed 10 ms latency, where a channel opens at once; what each receives, in order. */
function pair() {
  const queue = new EventQueue();
  const network = new SimNetwork(queue, {
    random: seededRandom(1),
    minLatencyMs: 10,
    maxLatencyMs: 10,
    connectLatencies: 0,
  });
  const received: string[] = [];
  const handler = (self: string): ChannelHandler => ({
    onChannelOpen: () => undefined,
    onChannelClose: () => undefined,
    onFrame: (peer: string, frame: Frame) => received.push(`${self}<-${peer.slice(0, 1)}:${frame.length}`),
  });
  const a = network.attach(A, handler('a'));
  network.attach(B, handler('b'));
  network.link(A, B);
  return { queue, network, a, received };
}

describe('SimNetwork: frames in flight when their channel closes', () => {
  it('delivers a frame whose channel is still open', async () => {
    const { queue, network, a, received } = pair();
    await queue.runFor(100);
    expect(a.send(B, new Uint8Array(3))).toBe(true);
    await queue.runFor(100);
    expect(received).toEqual(['b<-a:3']);
    expect(network.stats.closedInFlight).toBe(0);
  });

  it('does not deliver a frame whose channel closed on its way', async () => {
    const { queue, network, a, received } = pair();
    await queue.runFor(100);
    a.send(B, new Uint8Array(3));
    network.disconnect(B, A);
    await queue.runFor(100);
    expect(received).toEqual([]);
    expect(network.stats.closedInFlight).toBe(1);
    expect(a.send(B, new Uint8Array(3))).toBe(false);
  });

  it('delivers a frame whose channel closed and opened again between the same two nodes before it arrived', async () => {
    const { queue, network, a, received } = pair();
    await queue.runFor(100);
    // Opened again before the frame arrives: the new channel carries it, as the receiver's map of channels says.
    a.send(B, new Uint8Array(3));
    network.disconnect(A, B);
    network.link(A, B);
    await queue.runFor(100);
    expect(received).toEqual(['b<-a:3']);
    expect(network.stats.closedInFlight).toBe(0);
  });

  it('counts a frame to a node that left on its way as sent to the dead', async () => {
    const { queue, network, a, received } = pair();
    await queue.runFor(100);
    a.send(B, new Uint8Array(3));
    network.leave(B);
    await queue.runFor(100);
    expect(received).toEqual([]);
    expect(network.stats.toDead).toBe(1);
  });
});
