import { describe, expect, it } from 'vitest';
import { toHex } from '../../core/id.js';
import { createIdentity } from '../../core/identity.js';
import { freshSignal, type StampedSignal } from '../../signaling/protocol.js';
import { EventQueue } from '../../sim/event-queue.js';
import type { PeerChannel } from '../../transport/peer-channel.js';
import type { ConnectionLimits } from './connection.js';
import { ConnectionManager } from './connection-manager.js';

/**
 * A page's first dial prepared before its peer is known (ConnectionManager.prepareDial,
 * docs/ARCHITECTURE.md, Joining): the connection and what it produces meanwhile wait, the
 * dial that takes it sends that in order in its own session, and one nobody takes is closed;
 * either way it is one of the page's connections, counted once.
 */

const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
const peerId = (): string => toHex(random(32));

class FakeChannel implements PeerChannel {
  closed = false;
  onSignal: (data: unknown) => void = () => undefined;
  onOpen: () => void = () => undefined;
  onData: (frame: Uint8Array) => void = () => undefined;
  onClose: () => void = () => undefined;
  constructor(
    readonly initiator: boolean,
    readonly prepared: boolean,
  ) {}
  signal(): void {}
  send(): boolean {
    return false;
  }
  close(): void {
    this.closed = true;
  }
  /** The channel failed on its own (simple-peer's error): it reports its close. */
  fail(): void {
    this.closed = true;
    this.onClose();
  }
}

function manager(limits: Partial<ConnectionLimits> = {}) {
  const clock = new EventQueue(1_700_000_000_000);
  const made: FakeChannel[] = [];
  const reported: number[] = [];
  const viaRelay: Array<{ to: string; signal: StampedSignal }> = [];
  const cm = new ConnectionManager(
    createIdentity(random),
    clock,
    {
      createChannel: (initiator, prepared) => {
        const channel = new FakeChannel(initiator, prepared === true);
        made.push(channel);
        return channel;
      },
      sendViaOverlay: async () => false,
      sendViaRelay: (to, signal) => (viaRelay.push({ to, signal }), true),
      channelOpened: () => undefined,
      created: (total) => reported.push(total),
      channelClosed: () => undefined,
      dialBusy: () => undefined,
      frame: () => undefined,
    },
    limits,
  );
  return { cm, clock, made, reported, viaRelay };
}

const OFFER = { type: 'offer', sdp: 'v=0 prepared' };
const CANDIDATE = { type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 a.local 9 typ host' } };

describe('connection manager: a dial prepared before its peer is known', () => {
  it("the first dial takes it: what it produced goes out in order, stamped in the dial's session, and it counts once", async () => {
    const { cm, clock, made, reported, viaRelay } = manager();
    cm.prepareDial();
    expect(made).toHaveLength(1);
    expect(made[0]!.prepared).toBe(true);
    expect(cm.stats.created).toBe(1);
    expect(reported).toEqual([1]);
    made[0]!.onSignal(OFFER);
    made[0]!.onSignal(CANDIDATE);
    await clock.runFor(0);
    expect(viaRelay).toEqual([]);

    const peer = peerId();
    expect(cm.connect(peer)).toBe(true);
    await clock.runFor(0);
    expect(made).toHaveLength(1);
    expect(viaRelay.map((s) => [s.to, s.signal.data, s.signal.seq])).toEqual([
      [peer, OFFER, 0],
      [peer, CANDIDATE, 1],
    ]);
    expect(viaRelay[0]!.signal.session).toBe(viaRelay[1]!.signal.session);
    // Signals it produces from now on follow in the same session.
    made[0]!.onSignal(CANDIDATE);
    await clock.runFor(0);
    expect(viaRelay[2]!.signal.seq).toBe(2);

    // The next dial makes a connection of its own; discarding finds nothing left.
    expect(cm.connect(peerId())).toBe(true);
    expect(made).toHaveLength(2);
    expect(made[1]!.prepared).toBe(false);
    cm.discardPrepared();
    expect(made[0]!.closed).toBe(false);
    expect(cm.counters()).toMatchObject({
      'connections.created': 2,
      'connections.prepared': 1,
      'connections.preparedUnused': 0,
    });
    expect(reported).toEqual([1, 2]);
  });

  it('an answer never takes it, and one nobody took is closed and counted as unused', () => {
    const { cm, clock, made } = manager();
    cm.prepareDial();
    cm.prepareDial();
    expect(made).toHaveLength(1);
    cm.signal(peerId(), freshSignal(OFFER, clock.now()), true);
    expect(made).toHaveLength(2);
    expect(made[1]!.initiator).toBe(false);
    cm.discardPrepared();
    expect(made[0]!.closed).toBe(true);
    expect(cm.counters()).toMatchObject({
      'connections.created': 2,
      'connections.prepared': 1,
      'connections.preparedUnused': 1,
    });
  });

  it('one that failed before a dial took it is gone: the dial makes its own', () => {
    const { cm, made } = manager();
    cm.prepareDial();
    made[0]!.fail();
    expect(cm.connect(peerId())).toBe(true);
    expect(made).toHaveLength(2);
    expect(made[1]!.prepared).toBe(false);
    expect(cm.counters()).toMatchObject({ 'connections.created': 2, 'connections.preparedUnused': 1 });
  });

  it('the budget: none is prepared once it is spent, and a prepared one lets a dial through at the last connection', () => {
    const spent = manager({ budget: 0 });
    spent.cm.prepareDial();
    expect(spent.made).toHaveLength(0);

    const { cm, made } = manager({ budget: 1 });
    cm.prepareDial();
    expect(cm.budgetLeft).toBe(0);
    expect(cm.connect(peerId())).toBe(true);
    expect(made).toHaveLength(1);
    expect(cm.connect(peerId())).toBe(false);
    expect(cm.stats.refusedBudget).toBe(1);
  });

  it('closeAll closes the prepared one too', () => {
    const { cm, made } = manager();
    cm.prepareDial();
    cm.closeAll();
    expect(made[0]!.closed).toBe(true);
    expect(cm.stats.preparedUnused).toBe(1);
  });
});
