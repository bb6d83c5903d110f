import { describe, expect, it } from 'vitest';
import type { Neighbour } from '../context.js';
import { Liars } from '../defence/liars.js';
import { NeighbourTrust } from '../defence/neighbour-trust.js';
import { seededRandom } from '../environment.js';
import { toHex, type NodeId } from '../id.js';
import { RoutingTable } from '../routing/routing-table.js';
import { ContactBook, departedMemory } from './contacts.js';

const idStarting = (first: number): NodeId => {
  const id = new Uint8Array(32);
  id[0] = first;
  return id;
};

/** A contact book over a real routing table, on a clock the test moves. */
function book(isClosed: () => boolean = () => false) {
  let now = 1_000;
  let timers = 0;
  const self = idStarting(0x00);
  const table = new RoutingTable(self, { k: 20 });
  const contacts = new ContactBook({
    self,
    selfHex: toHex(self),
    k: 20,
    alpha: 3,
    hopTimeoutMs: 5_000,
    clock: { now: () => now, setTimer: () => (timers++, () => void timers--) },
    random: seededRandom(1),
    verify: () => true,
    count: () => undefined,
    table,
    neighbours: new Map<string, Neighbour>(),
    liars: new Liars(),
    departed: departedMemory(),
    trust: new NeighbourTrust(),
    actions: { hangUp: () => undefined, revived: () => undefined },
    messenger: { newId: () => 1, queryPeer: () => Promise.reject(new Error('no probes here')) },
    added: () => undefined,
    bucketFull: () => undefined,
    isClosed,
  });
  return { table, contacts, advance: (ms: number) => (now += ms), now: () => now, timers: () => timers };
}

describe('ContactBook.learn', () => {
  it('a contact named by others is not refreshed by it: its unanswered queries stand, and it stays as old as it is', () => {
    const { table, contacts, advance, now } = book();
    const gone = idStarting(0x80);
    contacts.learn(gone, true);
    const heardAt = now();
    advance(60_000);
    expect(table.recordFailure(toHex(gone))).toBe(1);
    // A peer that has not noticed it left names it in an answer.
    contacts.learn(gone, false);
    expect(table.contact(toHex(gone))).toMatchObject({ failures: 1, lastSeen: heardAt });
    // Hearing from it is what refreshes it.
    contacts.learn(gone, true);
    expect(table.contact(toHex(gone))).toMatchObject({ failures: 0, lastSeen: now() });
  });

  it('a node named for the first time still becomes a contact', () => {
    const { table, contacts, now } = book();
    const named = idStarting(0x40);
    contacts.learn(named, false);
    expect(table.contact(toHex(named))).toMatchObject({ failures: 0, lastSeen: now() });
  });
});

describe('ContactBook: probes of lost contacts and closing', () => {
  it('a neighbour that closed unasked is probed later; closing the node cancels the probe', () => {
    const { contacts, timers } = book();
    const gone = idStarting(0x80);
    contacts.learn(gone, true);
    contacts.channelClosed(toHex(gone), true);
    expect(timers()).toBe(1);
    contacts.close();
    // A pending probe would hold a Node process open after close() for its delay.
    expect(timers()).toBe(0);
  });

  it('channels closing because the node itself closes start no probe', () => {
    const { contacts, timers } = book(() => true);
    const gone = idStarting(0x80);
    contacts.learn(gone, true);
    contacts.channelClosed(toHex(gone), true);
    expect(timers()).toBe(0);
  });
});
