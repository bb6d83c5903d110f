import { describe, expect, it } from 'vitest';
import { createIdentity } from '../../core/identity.js';
import type { FailureReason } from '../../transport/channel-diagnostics.js';
import type { PeerChannel } from '../../transport/peer-channel.js';
import { ChannelRoutes } from './channel-routes.js';
import { ConnectionManager } from './connection-manager.js';
import { manualClock } from '../../core/manual-clock.js';

class FakeChannel implements PeerChannel {
  closed = false;
  reason: FailureReason = 'noAnswer';
  onSignal: (data: unknown) => void = () => undefined;
  onOpen: () => void = () => undefined;
  onData: (frame: Uint8Array) => void = () => undefined;
  onClose: () => void = () => undefined;
  signal(): void {}
  send(): boolean {
    return !this.closed;
  }
  close(): void {
    this.closed = true;
  }
  failureReason(): FailureReason {
    return this.reason;
  }
}

const peerId = (i: number): string => i.toString(16).padStart(64, '0');

function setup(maxChannels = 2) {
  const clock = manualClock();
  const channels: FakeChannel[] = [];
  const closedEvents: Array<[string, boolean]> = [];
  const busyDials: string[] = [];
  const identity = createIdentity((n) => crypto.getRandomValues(new Uint8Array(n)));
  const manager = new ConnectionManager(
    identity,
    clock,
    {
      createChannel: () => {
        const c = new FakeChannel();
        channels.push(c);
        return c;
      },
      sendViaOverlay: async () => false,
      sendViaRelay: () => true,
      channelOpened: () => undefined,
      channelClosed: (peer, wasOpen) => void closedEvents.push([peer, wasOpen]),
      dialBusy: (peer) => void busyDials.push(peer),
      frame: () => undefined,
      created: () => undefined,
    },
    { maxChannels, openTimeoutMs: 12_000 },
  );
  return { clock, channels, closedEvents, busyDials, manager };
}

describe('failed connections', () => {
  it('an attempt that does not open is closed at the bound, counted with its reason and how long it held its slot', () => {
    const { clock, channels, closedEvents, busyDials, manager } = setup();
    expect(manager.connect(peerId(1))).toBe(true);
    expect(manager.connect(peerId(2))).toBe(true);
    channels[1]!.reason = 'noLocalCandidates';
    // Both slots are taken while they negotiate (a refused dial is reported busy at once, not as a failure).
    expect(manager.connect(peerId(3))).toBe(false);
    expect(busyDials).toEqual([peerId(3)]);
    expect(closedEvents).toEqual([]);
    clock.advance(11_999);
    expect(manager.failures.total).toBe(0);
    clock.advance(1);
    expect(channels.every((c) => c.closed)).toBe(true);
    expect(closedEvents).toEqual([
      [peerId(1), false],
      [peerId(2), false],
    ]);
    const stats = manager.failures.toStats();
    expect(stats['connections.failed']).toBe(2);
    expect(stats['connections.failed.noAnswer']).toBe(1);
    expect(stats['connections.failed.noLocalCandidates']).toBe(1);
    expect(stats['connections.failedHeldMsMax']).toBe(12_000);
    expect(manager.stats.openTimeouts).toBe(2);
    // The slots are free again.
    expect(manager.connect(peerId(3))).toBe(true);
    expect(manager.connect(peerId(1))).toBe(true);
  });

  it('a channel whose ICE fails before the bound is counted at once, with the reason it gives', () => {
    const { clock, channels, manager } = setup();
    manager.connect(peerId(1));
    clock.advance(4_000);
    channels[0]!.reason = 'iceFailed';
    channels[0]!.onClose();
    expect(manager.failures.toStats()['connections.failed.iceFailed']).toBe(1);
    expect(manager.failures.toStats()['connections.failedHeldMsMax']).toBe(4_000);
    clock.advance(20_000);
    expect(manager.failures.total).toBe(1);
    expect(manager.stats.openTimeouts).toBe(0);
  });

  it('channels that opened, and attempts we dropped on purpose, are not failures', () => {
    const { clock, channels, manager } = setup();
    manager.connect(peerId(1));
    channels[0]!.onOpen();
    clock.advance(20_000);
    channels[0]!.onClose();
    manager.connect(peerId(2));
    manager.disconnect(peerId(2));
    clock.advance(20_000);
    expect(manager.failures.total).toBe(0);
  });

  it('a failure reason passes through the route-watching wrapper; a wrapped channel without diagnostics counts as its cause', () => {
    const routes = new ChannelRoutes();
    const inner = new FakeChannel();
    inner.reason = 'iceFailed';
    expect(routes.wrap(inner).failureReason?.()).toBe('iceFailed');
    const bare: PeerChannel = {
      signal: () => undefined,
      send: () => true,
      close: () => undefined,
      onSignal: () => undefined,
      onOpen: () => undefined,
      onData: () => undefined,
      onClose: () => undefined,
    };
    expect(routes.wrap(bare).failureReason).toBeUndefined();

    const clock = manualClock();
    const manager = new ConnectionManager(
      createIdentity((n) => crypto.getRandomValues(new Uint8Array(n))),
      clock,
      {
        createChannel: () => routes.wrap({ ...bare }),
        sendViaOverlay: async () => false,
        sendViaRelay: () => true,
        channelOpened: () => undefined,
        channelClosed: () => undefined,
        dialBusy: () => undefined,
        frame: () => undefined,
        created: () => undefined,
      },
      { openTimeoutMs: 10_000 },
    );
    manager.connect(peerId(1));
    clock.advance(10_000);
    expect(manager.failures.toStats()['connections.failed.timeout']).toBe(1);
  });
});
