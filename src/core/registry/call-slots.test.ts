import { describe, expect, it } from 'vitest';
import { seededRandom, systemClock } from '../environment.js';
import { ErrorCode } from '../errors.js';
import { CallSlots, MAX_CALLS_PER_CALLER, MAX_CALLS_PER_NEIGHBOUR, MAX_RUNNING_CALLS } from './call-slots.js';
import { Rpc, type LocalHandlers, type RpcHost } from './rpc.js';

/**
 * The bounds on calls run for others, and the slots reserved ahead of time for the page of a
 * browser peer to admit a neighbour's CALLs itself (docs/ARCHITECTURE.md, Threads): a
 * reservation counts as running calls of that neighbour, so the page's calls and the node's
 * together stay within every bound.
 */

const P = 'a'.repeat(64);
const Q = 'b'.repeat(64);

describe('call slots', () => {
  it('hold each bound, saying which one a call did not fit under', () => {
    const slots = new CallSlots();
    for (let i = 0; i < MAX_CALLS_PER_CALLER; i++) expect(slots.take(P, P)).toBeUndefined();
    expect(slots.take(P, P)).toBe('caller');
    // Routed callers behind one neighbour: 16 each, 64 in all.
    for (let i = 0; i < MAX_CALLS_PER_NEIGHBOUR; i++) expect(slots.take(`${Q}/${i % 4}`, Q)).toBeUndefined();
    expect(slots.take(`${Q}/9`, Q)).toBe('neighbour');
    for (let i = 0; slots.load.calls < MAX_RUNNING_CALLS; i++) expect(slots.take(`n${i}`, `n${i}`)).toBeUndefined();
    expect(slots.take('late', 'late')).toBe('total');
    expect(slots.load.calls).toBe(MAX_RUNNING_CALLS);
  });

  it('reserve all or none, against every bound, and give them back', () => {
    const slots = new CallSlots();
    for (let i = 0; i < 13; i++) slots.take(P, P);
    expect(slots.reserve(P, 4)).toBe(false);
    expect(slots.load.calls).toBe(13);
    expect(slots.reserve(P, 3)).toBe(true);
    expect(slots.take(P, P)).toBe('caller');
    slots.unreserve(P, 3);
    for (let i = 0; i < 13; i++) slots.release(P, P);
    expect(slots.load).toEqual({ calls: 0, callers: 0, neighbours: 0 });
    for (let i = 0; i < MAX_RUNNING_CALLS - 2; i++) slots.take(`n${i}`, `n${i}`);
    expect(slots.reserve(Q, 4)).toBe(false);
    expect(slots.reserve(Q, 2)).toBe(true);
    expect(slots.take(Q, Q)).toBe('total');
  });
});

function provider(admitted?: (peer: string) => Uint8Array | undefined) {
  const counts: Record<string, number> = {};
  const replies: Array<{ code?: string }> = [];
  const framed: Array<[string, Uint8Array]> = [];
  const invoked: string[] = [];
  const host = {
    self: new Uint8Array(32),
    selfHex: 'f'.repeat(64),
    clock: systemClock,
    random: seededRandom(3),
    count: (name: string) => void (counts[name] = (counts[name] ?? 0) + 1),
    neighbours: new Set([P, Q]),
    messenger: {
      reply: (_to: unknown, _type: string, body: { code?: string }) => void replies.push(body),
      sendFrame: (peer: string, frame: Uint8Array) => framed.push([peer, frame]) > 0,
    },
  } as unknown as RpcHost;
  const handlers: LocalHandlers = {
    has: (service) => service === 'svc',
    // Never settles: every call the node admits keeps its slot.
    invoke: (service) => {
      invoked.push(service);
      return new Promise(() => undefined);
    },
    ...(admitted ? { admittedOnPage: admitted } : {}),
  };
  const rpc = new Rpc(host, { discover: async () => [], forgetProvider: () => undefined }, handlers);
  const direct = (peer: string, rid: number, service = 'svc'): void =>
    rpc.handleCall({ rid, service, args: rid }, { kind: 'direct', peer, id: new Uint8Array(32) });
  return { rpc, counts, replies, framed, invoked, direct };
}

describe('a provider with slots reserved for its page', () => {
  it('admits only what is left of a neighbour’s bound beside the reservation', () => {
    const p = provider();
    expect(p.rpc.slots.reserve(P, 4)).toBe(true);
    for (let i = 0; i < MAX_CALLS_PER_CALLER; i++) p.direct(P, i);
    expect(p.invoked).toHaveLength(MAX_CALLS_PER_CALLER - 4);
    expect(p.counts['rpc.busy']).toBe(4);
    expect(p.replies.every((r) => r.code === ErrorCode.BUSY)).toBe(true);
    // Another neighbour is not affected.
    p.direct(Q, 100);
    expect(p.invoked).toHaveLength(MAX_CALLS_PER_CALLER - 3);
  });

  it('only accounts for a CALL the page admitted: counted, its REPLY as its own, no slot, no handler here', () => {
    const head = new Uint8Array([1, 0x21, 0, 0, 0, 0, 0, 9]);
    let pending: Uint8Array | undefined = head;
    const p = provider((peer) => {
      const h = peer === P ? pending : undefined;
      pending = undefined;
      return h;
    });
    // Even a service this node no longer serves: the page answered it already.
    p.direct(P, 1, 'gone');
    expect(p.counts['rpc.served']).toBe(1);
    expect(p.counts['rpc.admittedOnPage']).toBe(1);
    expect(p.framed).toEqual([[P, head]]);
    expect(p.invoked).toEqual([]);
    expect(p.replies).toEqual([]);
    expect(p.rpc.load.calls).toBe(0);
    // An empty header: its channel had closed, nothing went out.
    pending = new Uint8Array(0);
    p.direct(P, 2);
    expect(p.counts['rpc.admittedOnPage']).toBe(2);
    expect(p.framed).toHaveLength(1);
    // The next one is the node's to admit.
    p.direct(P, 3);
    expect(p.invoked).toEqual(['svc']);
    expect(p.counts['rpc.admittedOnPage']).toBe(2);
    expect(p.counts['rpc.served']).toBe(3);
  });
});
