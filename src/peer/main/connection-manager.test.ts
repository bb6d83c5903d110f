import { describe, expect, it } from 'vitest';
import { toHex } from '../../core/id.js';
import { createIdentity } from '../../core/identity.js';
import { EventQueue } from '../../sim/event-queue.js';
import type { PeerChannel } from '../../transport/peer-channel.js';
import { ConnectionManager, type ConnectionLimits } from './connection-manager.js';
import { DEFAULT_INBOUND_LIMITS } from './inbound-gate.js';

/**
 * The connection budget under hostile offers (README, Security model): every offer that
 * gets a connection costs one of the page's RTCPeerConnections for good, so what senders
 * can make the manager spend must stay bounded, while the node's own dials go on.
 */

const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
const freshId = (): string => toHex(random(32));
const JUNK = { type: 'offer', sdp: 'junk' };
const GOOD = { type: 'offer', sdp: 'v=0 a genuine offer' };

/** A channel that negotiates as simple-peer would: an offer whose SDP does not parse makes it fail (a tick later); others wait. */
class FakeChannel implements PeerChannel {
  closed = false;
  onSignal: (data: unknown) => void = () => undefined;
  onOpen: () => void = () => undefined;
  onData: (frame: Uint8Array) => void = () => undefined;
  onClose: () => void = () => undefined;

  constructor(readonly initiator: boolean) {}

  signal(data: unknown): void {
    if (this.closed) return;
    if ((data as { sdp?: unknown }).sdp === 'junk') queueMicrotask(() => this.fail());
  }

  send(): boolean {
    return false;
  }

  close(): void {
    this.closed = true;
  }

  open(): void {
    if (!this.closed) this.onOpen();
  }

  private fail(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
  }
}

function manager(limits: Partial<ConnectionLimits> = {}) {
  const clock = new EventQueue(0);
  const channels = new Map<string, FakeChannel>();
  const reported: number[] = [];
  const endedDials: string[] = [];
  let last: FakeChannel | undefined;
  const cm = new ConnectionManager(createIdentity(random), clock, {
    createChannel: (initiator) => (last = new FakeChannel(initiator)),
    sendViaOverlay: async () => false,
    sendViaRelay: () => true,
    channelOpened: () => undefined,
    created: (total) => reported.push(total),
    channelClosed: (peer, wasOpen) => {
      if (!wasOpen) endedDials.push(peer);
    },
    frame: () => undefined,
  }, limits);
  /** Deliver a verified offer from `from`, remembering the channel it got, if any. */
  const offer = (from: string, data: unknown = JUNK): FakeChannel | undefined => {
    last = undefined;
    cm.signal(from, data, true);
    if (last !== undefined) channels.set(from, last);
    return last;
  };
  return { cm, clock, channels, reported, endedDials, offer };
}

describe('connection manager: inbound offers and the connection budget', () => {
  it('one sender flooding signed junk offers costs one connection per cooldown, and the cooldown doubles', async () => {
    const { cm, clock, offer } = manager();
    // 100 offers a second (what the relay lets one socket send) for 10 s, each failing before the next arrives.
    for (let i = 0; i < 1_000; i++) {
      offer(attacker);
      await clock.runFor(10);
    }
    expect(cm.stats.created).toBe(1);
    expect(cm.stats.inboundFailed).toBe(1);
    expect(cm.offersRefused.cooling).toBe(999);
    // The first cooldown (1 min) ends: one more try, then 2 min.
    await clock.runFor(50_000);
    offer(attacker);
    await clock.runFor(0);
    expect(cm.stats.created).toBe(2);
    await clock.runFor(119_000);
    offer(attacker);
    expect(cm.stats.created).toBe(2);
    await clock.runFor(1_000);
    offer(attacker);
    expect(cm.stats.created).toBe(3);
    expect(cm.budgetLeft).toBe(480 - 3);
  });

  it('throw-away ids: pending offers never take the dial slots, and failures drain a bucket that refills slowly', async () => {
    const { cm, clock, offer, endedDials } = manager();
    const { maxPending, failureBurst, failureRefillMs } = DEFAULT_INBOUND_LIMITS;
    // 200 offers that look genuine and are never followed up: each would hold a slot for the open timeout.
    for (let i = 0; i < 200; i++) offer(freshId(), GOOD);
    expect(cm.pendingInbound).toBe(maxPending);
    expect(cm.offersRefused.busy).toBe(200 - maxPending);
    // The node's own dials still get channels.
    const wanted = Array.from({ length: 40 }, freshId);
    for (const peer of wanted) expect(cm.connect(peer)).toBe(true);
    expect(endedDials).toEqual([]);
    await clock.runFor(15_000);
    expect(cm.stats.openTimeouts).toBe(maxPending + 40);

    // Junk from fresh ids, as fast as it comes: what is left of the burst, then nothing until a token comes back.
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 50; i++) offer(freshId());
      await clock.runFor(500);
    }
    expect(cm.stats.inboundFailed).toBe(failureBurst);
    expect(cm.offersRefused.throttled).toBeGreaterThan(900);
    await clock.runFor(failureRefillMs);
    for (let i = 0; i < 50; i++) offer(freshId());
    await clock.runFor(0);
    expect(cm.stats.inboundFailed).toBe(failureBurst + 1);
    expect(cm.stats.created).toBe(failureBurst + 1 + 40);
  });

  it("the worker's verdicts: a refused peer gets no connection either way while the verdict lasts", async () => {
    const { cm, clock, offer, endedDials } = manager();
    const banned = freshId();
    cm.refuse(banned, 60_000);
    for (let i = 0; i < 100; i++) offer(banned, GOOD);
    expect(cm.connect(banned)).toBe(false);
    expect(endedDials).toEqual([banned]);
    expect(cm.stats.created).toBe(0);
    expect(cm.offersRefused.verdict).toBe(100);
    await clock.runFor(60_000);
    expect(offer(banned, GOOD)).toBeDefined();
    expect(cm.stats.created).toBe(1);
  });

  it('honest inbound channels that open cost their connection only: no cooldown, no draining of the failure bucket', async () => {
    const { cm, clock, offer, reported } = manager();
    const friend = freshId();
    for (let i = 0; i < 60; i++) {
      const peer = i % 2 === 0 ? friend : freshId();
      offer(peer, GOOD)!.open();
      cm.disconnect(peer);
      await clock.runFor(100);
    }
    expect(cm.stats.created).toBe(60);
    expect(cm.stats.inboundFailed).toBe(0);
    expect(Object.values(cm.offersRefused).every((n) => n === 0)).toBe(true);
    // The worker hears every creation, so both threads count the same budget.
    expect(reported).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
  });

  it("inbound offers never spend the budget's reserve: the node's own dials keep it", async () => {
    const { cm, clock, offer } = manager({ budget: 40, inbound: { reserve: 10 } });
    for (let i = 0; i < 40; i++) {
      offer(freshId(), GOOD)?.open();
      await clock.runFor(10);
    }
    expect(cm.stats.created).toBe(30);
    expect(cm.offersRefused.reserved).toBe(10);
    for (let i = 0; i < 10; i++) expect(cm.connect(freshId())).toBe(true);
    expect(cm.budgetLeft).toBe(0);
  });
});

const attacker = freshId();
