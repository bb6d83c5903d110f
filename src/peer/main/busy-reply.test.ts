import { describe, expect, it } from 'vitest';
import { toHex } from '../../core/id.js';
import { createIdentity } from '../../core/identity.js';
import { freshSignal, type StampedSignal } from '../../signaling/protocol.js';
import { EventQueue } from '../../sim/event-queue.js';
import type { PeerChannel } from '../../transport/peer-channel.js';
import { BusyReplies, busySignal, DEFAULT_BUSY_REPLY_LIMITS } from './busy-reply.js';
import type { ConnectionLimits } from './connection.js';
import { ConnectionManager } from './connection-manager.js';

/**
 * Two pages' connection managers joined by a stand-in relay (one that delivers every signal
 * after a millisecond): a tab at its cap answers an offer "busy", and the dialling tab gives
 * its attempt up at once, as busy, not as a failure after the open timeout.
 */

const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
const freshId = (): string => toHex(random(32));

/** A channel that offers when it dials, and otherwise only remembers what it was given. */
class FakeChannel implements PeerChannel {
  readonly received: unknown[] = [];
  closed = false;
  onSignal: (data: unknown) => void = () => undefined;
  onOpen: () => void = () => undefined;
  onData: (frame: Uint8Array) => void = () => undefined;
  onClose: () => void = () => undefined;
  constructor(initiator: boolean) {
    if (initiator) queueMicrotask(() => this.onSignal({ type: 'offer', sdp: 'v=0 an offer' }));
  }
  signal(data: unknown): void {
    this.received.push(data);
  }
  send(): boolean {
    return false;
  }
  close(): void {
    this.closed = true;
  }
}

interface Page {
  id: string;
  cm: ConnectionManager;
  channels: FakeChannel[];
  busy: string[];
  ended: string[];
  viaOverlay: StampedSignal[];
  viaRelay: StampedSignal[];
}

function pages(limits: Partial<ConnectionLimits> = {}, overlay = false) {
  const clock = new EventQueue(1_700_000_000_000);
  const all = new Map<string, Page>();
  const page = (): Page => {
    const identity = createIdentity(random);
    const p: Omit<Page, 'cm'> = {
      id: identity.nodeIdHex,
      channels: [],
      busy: [],
      ended: [],
      viaOverlay: [],
      viaRelay: [],
    };
    const carry = (to: string, signal: StampedSignal, relayed: boolean): void =>
      void clock.setTimer(1, () => all.get(to)?.cm.signal(p.id, signal, relayed));
    const cm = new ConnectionManager(
      identity,
      clock,
      {
        createChannel: (initiator) => {
          const c = new FakeChannel(initiator);
          p.channels.push(c);
          return c;
        },
        sendViaOverlay: (to, signal) => {
          if (!overlay) return Promise.resolve(false);
          p.viaOverlay.push(signal);
          carry(to, signal, false);
          return Promise.resolve(true);
        },
        sendViaRelay: (to, signal) => {
          p.viaRelay.push(signal);
          carry(to, signal, true);
          return true;
        },
        channelOpened: () => undefined,
        created: () => undefined,
        channelClosed: (peer, wasOpen) => void (wasOpen ? undefined : p.ended.push(peer)),
        dialBusy: (peer) => void p.busy.push(peer),
        frame: () => undefined,
      },
      limits,
    );
    const full: Page = { ...p, cm };
    all.set(p.id, full);
    return full;
  };
  /** Let the offers out (they leave after a promise settles), then run the clock. */
  const run = async (ms: number): Promise<void> => {
    await clock.runFor(0);
    await clock.runFor(ms);
  };
  return { clock, page, run };
}

describe('busy: an offer to a tab at its cap', () => {
  it('is answered busy the way it came, and the dialler gives up at once: no timeout, no failure', async () => {
    const { run, page } = pages({ maxChannels: 2 });
    const [a, b] = [page(), page()];
    // b holds its cap: two dials of its own, still negotiating.
    expect(b.cm.connect(freshId()) && b.cm.connect(freshId())).toBe(true);
    expect(a.cm.connect(b.id)).toBe(true);
    await run(10);
    expect(b.cm.counters()).toMatchObject({ 'connections.refusedAtCap': 1, 'connections.busySent': 1 });
    expect(b.viaRelay.at(-1)).toMatchObject({ data: { type: 'busy' }, seq: 0, session: a.viaRelay[0]!.session });
    expect(a.busy).toEqual([b.id]);
    expect(a.ended).toEqual([]);
    expect(a.channels[0]!.closed).toBe(true);
    expect(a.channels[0]!.received).toEqual([]);
    expect(a.cm.isOpen(b.id) || a.cm.pendingInbound > 0).toBe(false);
    await run(20_000);
    expect(a.cm.counters()).toMatchObject({
      'connections.busyReceived': 1,
      'connections.failed': 0,
      'connections.openTimeouts': 0,
      'signals.relayFallbacks': 0,
    });
  });

  it('through the overlay when the offer came that way; too many negotiations at once is busy too', async () => {
    const { run, page } = pages({ inbound: { maxPending: 1 } }, true);
    const [a, b, c] = [page(), page(), page()];
    expect(c.cm.connect(b.id)).toBe(true);
    await run(10);
    expect(b.cm.pendingInbound).toBe(1);
    expect(a.cm.connect(b.id)).toBe(true);
    await run(10);
    expect(b.cm.offersRefused.busy).toBe(1);
    expect(b.viaOverlay.map((s) => s.data)).toEqual([{ type: 'busy' }]);
    expect(b.viaRelay).toEqual([]);
    expect(a.busy).toEqual([b.id]);
    expect(c.busy).toEqual([]);
  });

  it('a busy that does not answer our own dial in its session changes nothing', async () => {
    const { clock, page } = pages();
    const [a] = [page()];
    const peer = freshId();
    a.cm.connect(peer);
    await clock.runFor(0);
    const ours = a.viaRelay[0]!;
    // Another session's busy, and a busy from someone we never dialled.
    a.cm.signal(peer, busySignal('e'.repeat(32), clock.now()), true);
    a.cm.signal(freshId(), busySignal(ours.session, clock.now()), true);
    // A busy to an offer we are answering.
    const caller = freshId();
    const offer = freshSignal({ type: 'offer', sdp: 'v=0' }, clock.now());
    a.cm.signal(caller, offer, true);
    a.cm.signal(caller, { ...busySignal(offer.session, clock.now()), seq: 1 }, true);
    expect(a.busy).toEqual([]);
    expect(a.cm.pendingInbound).toBe(1);
    expect(a.channels.every((ch) => !ch.closed)).toBe(true);
    // Ours, once: the dial ends as busy; the same signal again is a duplicate.
    a.cm.signal(peer, busySignal(ours.session, clock.now()), true);
    a.cm.signal(peer, busySignal(ours.session, clock.now()), true);
    expect(a.busy).toEqual([peer]);
    expect(a.cm.counters()['signals.duplicate']).toBe(1);
  });

  it('replies are paced: one per sender per few seconds, and a bucket shared by all', async () => {
    const { clock, page } = pages({ maxChannels: 0 });
    const [b] = [page()];
    const { burst, perSenderMs } = DEFAULT_BUSY_REPLY_LIMITS;
    const one = freshId();
    for (let i = 0; i < 5; i++) b.cm.signal(one, freshSignal({ type: 'offer', sdp: 'v=0' }, clock.now()), true);
    expect(b.cm.stats.busySent).toBe(1);
    for (let i = 0; i < 100; i++) b.cm.signal(freshId(), freshSignal({ type: 'offer', sdp: 'v=0' }, clock.now()), true);
    expect(b.cm.stats.busySent).toBe(burst);
    expect(b.cm.stats.refusedAtCap).toBe(105);
    await clock.runFor(perSenderMs);
    b.cm.signal(one, freshSignal({ type: 'offer', sdp: 'v=0' }, clock.now()), true);
    expect(b.cm.stats.busySent).toBe(burst + 1);
  });

  it('the bucket refills at its rate', () => {
    let now = 0;
    const replies = new BusyReplies(
      { now: () => now, setTimer: () => () => undefined },
      { burst: 2, perSecond: 1, perSenderMs: 0 },
    );
    expect([replies.take('a'), replies.take('b'), replies.take('c')]).toEqual([true, true, false]);
    now = 999;
    expect(replies.take('c')).toBe(false);
    now = 1_000;
    expect(replies.take('c')).toBe(true);
  });
});
