import { describe, expect, it } from 'vitest';
import { toHex } from '../../core/id.js';
import { createIdentity } from '../../core/identity.js';
import { freshSignal, type StampedSignal } from '../../signaling/protocol.js';
import { EventQueue } from '../../sim/event-queue.js';
import type { PeerChannel } from '../../transport/peer-channel.js';
import type { ConnectionHooks, ConnectionLimits } from './connection.js';
import { ConnectionManager } from './connection-manager.js';
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
  /** Signals handed to WebRTC. */
  readonly received: unknown[] = [];
  onSignal: (data: unknown) => void = () => undefined;
  onOpen: () => void = () => undefined;
  onData: (frame: Uint8Array) => void = () => undefined;
  onClose: () => void = () => undefined;

  constructor(readonly initiator: boolean) {}

  signal(data: unknown): void {
    if (this.closed) return;
    this.received.push(data);
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

function manager(limits: Partial<ConnectionLimits> = {}, hooks: Partial<ConnectionHooks> = {}) {
  const clock = new EventQueue(1_700_000_000_000);
  const channels = new Map<string, FakeChannel>();
  const reported: number[] = [];
  const endedDials: string[] = [];
  const viaRelay: Array<{ to: string; signal: StampedSignal }> = [];
  let last: FakeChannel | undefined;
  const identity = createIdentity(random);
  const cm = new ConnectionManager(
    identity,
    clock,
    {
      createChannel: (initiator) => (last = new FakeChannel(initiator)),
      sendViaOverlay: async () => false,
      sendViaRelay: (to, signal) => (viaRelay.push({ to, signal }), true),
      channelOpened: () => undefined,
      created: (total) => reported.push(total),
      channelClosed: (peer, wasOpen) => {
        if (!wasOpen) endedDials.push(peer);
      },
      dialBusy: () => undefined,
      frame: () => undefined,
      ...hooks,
    },
    limits,
  );
  /** Deliver a verified signal from `from`, remembering the channel it got, if any. */
  const deliver = (from: string, signal: StampedSignal, relayed = true): FakeChannel | undefined => {
    last = undefined;
    cm.signal(from, signal, relayed);
    if (last !== undefined) channels.set(from, last);
    return last;
  };
  /** A verified offer from `from`, a new session's first signal, signed now. */
  const offer = (from: string, data: unknown = JUNK): FakeChannel | undefined =>
    deliver(from, freshSignal(data, clock.now()));
  return {
    cm,
    self: identity.nodeIdHex,
    clock,
    channels,
    reported,
    endedDials,
    viaRelay,
    offer,
    deliver,
    last: () => last,
  };
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

describe('connection manager: stale and replayed signals', () => {
  const MINUTE = 60_000;
  const offerOf = (sdp: string, ts: number, seq = 0): StampedSignal => ({
    ...freshSignal({ type: 'offer', sdp }, ts),
    seq,
  });

  it('an offer routed again after its channel opened is dropped as a duplicate: the channel stays, no connection is spent', async () => {
    const { cm, clock, deliver, channels } = manager();
    const peer = freshId();
    const offer = offerOf('v=0 the first', clock.now());
    deliver(peer, offer, false)!.open();
    await clock.runFor(30_000);
    // The same signed bytes, through the overlay again and through the relay.
    expect(deliver(peer, offer, false)).toBeUndefined();
    expect(deliver(peer, offer, true)).toBeUndefined();
    expect(cm.isOpen(peer)).toBe(true);
    expect(channels.get(peer)!.closed).toBe(false);
    expect(channels.get(peer)!.received).toEqual([offer.data]);
    expect(cm.stats.created).toBe(1);
    expect(cm.counters()).toMatchObject({ 'signals.duplicate': 2, 'signals.stale': 0 });
  });

  it("an older offer held back and routed late never replaces the open channel; the peer's newer one (it started over) does", async () => {
    const { cm, clock, deliver, channels } = manager();
    const peer = freshId();
    // A forwarder keeps the peer's first offer; the peer tries again, through the relay, and that one opens.
    const withheld = offerOf('v=0 withheld', clock.now());
    await clock.runFor(20_000);
    const second = offerOf('v=0 second', clock.now());
    deliver(peer, second)!.open();
    await clock.runFor(60_000);
    expect(deliver(peer, withheld, false)).toBeUndefined();
    expect(cm.isOpen(peer)).toBe(true);
    expect(cm.signalsRefused.stale).toBe(1);
    // The peer reloads and offers anew: its channel is replaced.
    const again = deliver(peer, offerOf('v=0 after a reload', clock.now()));
    expect(again).toBeDefined();
    expect(channels.get(peer)).toBe(again);
    expect(cm.stats.created).toBe(2);
  });

  it('refuses signals stamped more than 10 minutes from its clock, either way, and takes those within', () => {
    const { cm, clock, offer, deliver } = manager();
    const now = clock.now();
    expect(deliver(freshId(), offerOf('v=0', now - 10 * MINUTE - 1))).toBeUndefined();
    expect(deliver(freshId(), offerOf('v=0', now + 10 * MINUTE + 1))).toBeUndefined();
    expect(cm.signalsRefused.stale).toBe(2);
    expect(deliver(freshId(), offerOf('v=0', now - 9 * MINUTE))).toBeDefined();
    expect(deliver(freshId(), offerOf('v=0', now + 9 * MINUTE))).toBeDefined();
    expect(offer(freshId(), GOOD)).toBeDefined();
    expect(cm.stats.created).toBe(3);
  });

  it('a replayed offer after its channel closed costs no connection: a duplicate while fresh, stale after', async () => {
    const { cm, clock, deliver } = manager();
    const peer = freshId();
    const offer = offerOf('v=0', clock.now());
    deliver(peer, offer)!.open();
    cm.disconnect(peer);
    await clock.runFor(9 * MINUTE);
    expect(deliver(peer, offer)).toBeUndefined();
    await clock.runFor(2 * MINUTE);
    expect(deliver(peer, offer)).toBeUndefined();
    expect(cm.counters()).toMatchObject({ 'signals.duplicate': 1, 'signals.stale': 1, 'connections.created': 1 });
  });

  it('dials: the peer answers in our session; an answer or candidate of another session is dropped', async () => {
    const { cm, clock, deliver, viaRelay, last } = manager();
    const peer = freshId();
    expect(cm.connect(peer)).toBe(true);
    const channel = last()!;
    channel.onSignal({ type: 'offer', sdp: 'v=0 ours' });
    channel.onSignal({ candidate: 'ours 1' });
    await clock.runFor(0);
    const [ourOffer, ourCandidate] = viaRelay.map((v) => v.signal);
    expect(ourOffer).toMatchObject({ seq: 0, ts: clock.now(), data: { type: 'offer' } });
    expect(ourCandidate).toMatchObject({ seq: 1, session: ourOffer!.session });

    const stamp = (data: unknown, seq: number, session = ourOffer!.session): StampedSignal => ({
      data,
      ts: clock.now(),
      session,
      seq,
    });
    deliver(peer, stamp({ type: 'answer', sdp: 'of an older attempt' }, 0, 'e'.repeat(32)));
    deliver(peer, stamp({ candidate: 'of an older attempt' }, 1, 'e'.repeat(32)));
    expect(channel.received).toEqual([]);
    expect(cm.signalsRefused.otherSession).toBe(2);
    deliver(peer, stamp({ type: 'answer', sdp: 'v=0 theirs' }, 0));
    deliver(peer, stamp({ candidate: 'theirs 1' }, 1));
    expect(channel.received).toEqual([{ type: 'answer', sdp: 'v=0 theirs' }, { candidate: 'theirs 1' }]);
    // An offer in our own session is no new negotiation.
    deliver(peer, stamp({ type: 'offer', sdp: 'v=0 echo' }, 2));
    expect(channel.received).toHaveLength(2);
    expect(cm.stats.created).toBe(1);
  });

  it("answering takes the offer's session; the relay's copy of what the overlay brought moves our answers to the relay", async () => {
    const overlay: StampedSignal[] = [];
    const { clock, deliver, viaRelay, cm } = manager(
      {},
      { sendViaOverlay: async (_to, signal) => (overlay.push(signal), true) },
    );
    const peer = freshId();
    const offer = offerOf('v=0', clock.now());
    const channel = deliver(peer, offer, false)!;
    channel.onSignal({ type: 'answer', sdp: 'v=0 ours' });
    await clock.runFor(0);
    expect(overlay).toEqual([
      { data: { type: 'answer', sdp: 'v=0 ours' }, ts: clock.now(), session: offer.session, seq: 0 },
    ]);
    // The peer heard nothing and sent its offer again through the relay: a duplicate, but it tells us the way.
    deliver(peer, offer, true);
    expect(cm.signalsRefused.duplicate).toBe(1);
    channel.onSignal({ candidate: 'ours 1' });
    expect(viaRelay.map((v) => v.signal)).toEqual([
      { data: { candidate: 'ours 1' }, ts: clock.now(), session: offer.session, seq: 1 },
    ]);
  });

  it("crossed offers: the smaller id's session wins on both sides, and the other session's candidates are dropped", async () => {
    const { cm, self, clock, deliver, viaRelay, channels, last } = manager();
    // A peer with a smaller id than ours: our offer loses, we answer theirs in their session.
    const smaller = '0'.repeat(64);
    expect(cm.connect(smaller)).toBe(true);
    const theirs = offerOf('v=0 theirs', clock.now());
    const answering = deliver(smaller, theirs)!;
    expect(answering.initiator).toBe(false);
    expect(channels.get(smaller)).toBe(answering);
    answering.onSignal({ type: 'answer', sdp: 'v=0' });
    await clock.runFor(0);
    expect(viaRelay.at(-1)!.signal.session).toBe(theirs.session);

    // A peer with a larger id: ours wins; its offer and the candidates of its session go nowhere.
    const larger = 'f'.repeat(64);
    expect(self < larger).toBe(true);
    expect(cm.connect(larger)).toBe(true);
    const dialling = last()!;
    dialling.onSignal({ type: 'offer', sdp: 'v=0 ours' });
    await clock.runFor(0);
    const ours = viaRelay.at(-1)!.signal;
    const losing = offerOf('v=0 loses', clock.now());
    expect(deliver(larger, losing)).toBeUndefined();
    deliver(larger, { ...losing, seq: 1, data: { candidate: 'of the losing session' } });
    deliver(larger, { data: { type: 'answer', sdp: 'v=0' }, ts: clock.now(), session: ours.session, seq: 0 });
    expect(dialling.received).toEqual([{ type: 'answer', sdp: 'v=0' }]);
    expect(cm.signalsRefused.otherSession).toBe(1);
    expect(cm.stats.created).toBe(3);
  });
});

const attacker = freshId();
