import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, HEADER_BYTES, peekType } from './codec.js';
import { MessageType, type MessageBodies, type MessageName } from './messages.js';

const id = (b: number): Uint8Array => new Uint8Array(32).fill(b);

const samples: { [N in MessageName]: MessageBodies[N] } = {
  CONNECT: { publicKey: id(1), realm: 'default' },
  PING: { rid: 1 },
  PONG: { rid: 0xffffffff },
  LEAVE: {},
  PUBLISH: {
    rid: 11,
    mid: new Uint8Array(16).fill(7),
    topic: 'sensors.kitchen.temp',
    payload: new Uint8Array([0x81, 0xa1, 0x63, 0x15]),
    publicKey: id(2),
    at: 1_700_000_000_000,
    signature: new Uint8Array(64).fill(2),
  },
  PUBSUB_ROUTE: {
    rid: 12,
    mid: new Uint8Array(16).fill(8),
    topic: 'a.b',
    payload: new Uint8Array([0x93, 1, 2, 3]),
    publicKey: id(3),
    at: 1_700_000_000_001,
    signature: new Uint8Array(64).fill(3),
  },
  CALL: { rid: 42, service: 'energy.home.get', args: { meter: 'main' } },
  REPLY: { rid: 42, ok: true, result: { watts: 1234 } },
  RPC_ROUTE: {
    dest: id(4),
    src: id(5),
    hops: 2,
    max: 10,
    exact: true,
    path: [id(5), id(6)],
    hid: 9,
    via: [id(6)],
    body: new Uint8Array([1, 2, 3]),
  },
  ROUTE_ACK: { hid: 9 },
  FIND_NODE: { rid: 3, target: id(9) },
  FIND_NODE_REPLY: { rid: 3, target: id(9), nodes: [id(10), id(11)], linked: [1] },
  STORE: { rid: 4, record: { kind: 'provider', key: id(12) }, remainingMs: 1000 },
  FIND_VALUE: { rid: 5, key: id(13), kind: 'subscriber' },
  FIND_VALUE_REPLY: { rid: 5, key: id(13), kind: 'subscriber', records: [{ a: 1 }], nodes: [id(14)], linked: [0] },
  STORE_REPLY: { rid: 4, key: id(12), ok: false, code: 'BAD_SIGNATURE' },
  REMOVE: { rid: 6, removal: { key: id(15) } },
  SIGNAL: { payload: new Uint8Array([9, 9, 9]) },
};

describe('codec', () => {
  it.each(Object.keys(samples) as MessageName[])('round-trips %s', (name) => {
    const frame = encodeFrame(name, samples[name] as never);
    expect(frame[0]).toBe(1);
    expect(frame[1]).toBe(MessageType[name]);
    expect(peekType(frame)).toBe(name);
    const decoded = decodeFrame(frame);
    expect(decoded.ok).toBe(true);
    if (decoded.ok) {
      expect(decoded.message.type).toBe(name);
      expect(decoded.message.body).toEqual(samples[name]);
    }
  });

  it('round-trips a failed REPLY with its code and message', () => {
    const decoded = decodeFrame(encodeFrame('REPLY', { rid: 1, ok: false, code: 'HANDLER_ERROR', message: 'boom' }));
    expect(decoded).toEqual({
      ok: true,
      message: { type: 'REPLY', body: { rid: 1, ok: false, code: 'HANDLER_ERROR', message: 'boom' } },
    });
  });

  it('names what is wrong with a bad frame instead of throwing', () => {
    const good = encodeFrame('PING', { rid: 1 });
    expect(decodeFrame(new Uint8Array(3))).toEqual({ ok: false, error: 'short' });
    expect(decodeFrame(Uint8Array.of(2, ...good.subarray(1)))).toEqual({ ok: false, error: 'version' });
    expect(decodeFrame(Uint8Array.of(1, 0xee, ...good.subarray(2)))).toEqual({ ok: false, error: 'type' });
    expect(decodeFrame(good.subarray(0, good.length - 1))).toEqual({ ok: false, error: 'length' });
    const junk = new Uint8Array(HEADER_BYTES + 1);
    junk.set([1, 0x03, 0, 0, 0, 0, 0, 1]);
    junk[8] = 0xc1; // never used in MessagePack
    expect(decodeFrame(junk)).toEqual({ ok: false, error: 'msgpack' });
    expect(decodeFrame(encodeFrame('PING', { rid: -1 } as never))).toEqual({ ok: false, error: 'schema' });
    expect(decodeFrame(encodeFrame('FIND_NODE', { rid: 1, target: new Uint8Array(31) }))).toEqual({
      ok: false,
      error: 'schema',
    });
    expect(decodeFrame(encodeFrame('RPC_ROUTE', { ...samples.RPC_ROUTE, hops: 11 }))).toEqual({
      ok: false,
      error: 'schema',
    });
  });

  it("carries a PING's or PONG's kind when it is one this build knows, and reads any other as none", () => {
    for (const type of ['PING', 'PONG'] as const) {
      const decode = (body: Record<string, unknown>): unknown => decodeFrame(encodeFrame(type, body as never));
      expect(decode({ rid: 5, kind: 'node' })).toEqual({ ok: true, message: { type, body: { rid: 5, kind: 'node' } } });
      // From a peer that says nothing (a tab, an older build), or says something this build does not know.
      for (const kind of [undefined, 'toaster', 7, { nested: 'node' }, ['node']])
        expect(decode({ rid: 5, kind })).toEqual({ ok: true, message: { type, body: { rid: 5 } } });
    }
  });

  it('refuses a reply whose linked indices do not point into its nodes once each, in order', () => {
    const { linked: _, ...plain } = samples.FIND_NODE_REPLY;
    expect(decodeFrame(encodeFrame('FIND_NODE_REPLY', plain)).ok).toBe(true);
    for (const linked of [[2], [-1], [0.5], [1, 0], [0, 0], [0, 1, 1], 'x']) {
      expect(decodeFrame(encodeFrame('FIND_NODE_REPLY', { ...plain, linked } as never))).toEqual({
        ok: false,
        error: 'schema',
      });
      expect(
        decodeFrame(
          encodeFrame('FIND_VALUE_REPLY', { ...samples.FIND_VALUE_REPLY, nodes: [id(1), id(2)], linked } as never),
        ),
      ).toEqual({ ok: false, error: 'schema' });
    }
  });

  it('frames stay small: a FIND_NODE is under 64 bytes', () => {
    expect(encodeFrame('FIND_NODE', { rid: 0xffffffff, target: id(1) }).length).toBeLessThan(64);
  });
});
