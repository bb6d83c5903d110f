import { Decoder, Encoder } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES } from '../constants.js';
import { seededRandom, type Random } from '../environment.js';
import { decodeFrame, encodeFrame, frameBytes, frameTypeId, HeldFrame, holdFrame, peekType } from './codec.js';
import { encodedSize, routeSize } from './encoded-size.js';
import { MessageType, type MessageBodies, type MessageName } from './messages.js';

// The codec's own settings (codec.ts).
const encoder = new Encoder({ ignoreUndefined: true });
const decoder = new Decoder();

const int = (r: Random, n: number): number => Math.floor(r.next() * n);

/** Strings across the str formats' boundaries, ASCII and not (2-, 3- and 4-byte characters). */
function text(r: Random): string {
  const length = [0, 5, 31, 32, 40, 255, 256, 300][int(r, 8)]!;
  const chars = ['a', 'é', '€', '😀', 'Z'];
  let s = '';
  while (s.length < length) s += chars[int(r, r.next() < 0.7 ? 1 : chars.length)]!;
  return s;
}

/** Numbers across the int formats' boundaries, negative ones and floats. */
function number(r: Random): number {
  const edges = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 0x100000000, 2 ** 53 - 1];
  const n = edges[int(r, edges.length)]!;
  const roll = r.next();
  // (-0 is one of the refused values: see below.)
  return roll < 0.4 ? n : roll < 0.8 ? -(n + int(r, 2)) || 0 : r.next() * 1e6 - 5e5;
}

/** Random plain values of every kind the encoder writes, nested, with long arrays and maps too. */
function value(r: Random, depth = 0): unknown {
  const roll = r.next() * (depth > 1 ? 5 : 8);
  if (roll < 1) return number(r);
  if (roll < 2) return text(r);
  if (roll < 3) return [null, true, false][int(r, 3)];
  if (roll < 4) return r.bytes([0, 3, 254, 256, 300][int(r, 5)]!);
  if (roll < 5) return number(r) * 1.5;
  if (roll < 6.5) return Array.from({ length: [0, 3, 15, 16, 17][int(r, 5)]! }, () => value(r, depth + 1));
  const m: Record<string, unknown> = {};
  for (let i = [0, 2, 15, 16, 17][int(r, 5)]!; i > 0; i--)
    m[`k${i}${['', 'é', '€😀'][int(r, 3)]!}`] = value(r, depth + 1);
  if (r.next() < 0.3) m.skipped = undefined;
  return m;
}

describe('encodedSize', () => {
  it('is the length of what the encoder writes, for values that read back as they were', () => {
    const r = seededRandom(20);
    let exact = 0;
    for (let i = 0; i < 200; i++) {
      const v = value(r);
      const size = encodedSize(v);
      if (size < 0) continue;
      exact++;
      const bytes = encoder.encode(v);
      expect(size).toBe(bytes.length);
      // A map's undefined fields are not written: they read back as absent, as a held body's are ignored.
      expect(decoder.decode(bytes)).toEqual(v);
    }
    // Only values with something in them that cannot be held are left out; random plain values can.
    expect(exact).toBe(200);
    // The 16- and 32-bit length formats.
    for (const n of [0xffff, 0x10000]) {
      for (const v of ['a'.repeat(n), new Uint8Array(n), new Array<number>(n).fill(1)])
        expect(encodedSize(v)).toBe(encoder.encode(v).length);
      const m = Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i), 0]));
      expect(encodedSize(m)).toBe(encoder.encode(m).length);
    }
  });

  it('refuses (-1) what would not read back as it was, or would not encode', () => {
    class Point {
      x = 1;
    }
    let deep: unknown = 1;
    for (let i = 0; i < 101; i++) deep = [deep];
    for (const v of [
      -0,
      [1, undefined],
      'lone \ud800 surrogate',
      'reversed \udc00\ud800',
      new Date(0),
      new Map([['a', 1]]),
      new Point(),
      new Uint16Array(2),
      Buffer.from([1, 2]),
      JSON.parse('{"__proto__": 1}') as unknown,
      10n,
      () => 1,
      undefined,
      deep,
      { nested: { inside: [new Date(0)] } },
    ])
      expect(encodedSize(v)).toBe(-1);
    // A pair of surrogates is one 4-byte character.
    expect(encodedSize('😀')).toBe(5);
    expect(encodedSize({ a: undefined, b: 1 })).toBe(encoder.encode({ b: 1 }).length);
  });

  it('refuses (-1) a plain object while something has added an enumerable key to every object', () => {
    const value = { a: 1, b: [{ c: 'x' }] };
    const size = encodedSize(value);
    expect(size).toBe(encoder.encode(value).length);
    (Object.prototype as Record<string, unknown>).polluted = 1;
    try {
      expect(encodedSize(value)).toBe(-1);
      expect(encodedSize({})).toBe(-1);
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted;
    }
    expect(encodedSize(value)).toBe(size);
  });
});

const id = (b: number): Uint8Array => new Uint8Array(32).fill(b);

describe('routeSize', () => {
  it('is encodedSize for envelopes of every shape a hop builds, and for anything else given as one', () => {
    const r = seededRandom(21);
    const id = (): Uint8Array => r.bytes(32);
    const inner = holdFrame('FIND_NODE', { rid: 7, target: id() });
    let fast = 0;
    for (let i = 0; i < 300; i++) {
      // Paths and via lists across the fixarray boundary (16), numbers across the int formats.
      const hops = [0, 1, 15, 16, 17][int(r, 5)]!;
      const envelope: Record<string, unknown> = {
        dest: id(),
        src: id(),
        hops: [0, 3, 127, 128, 300][int(r, 5)]!,
        max: [1, 10, 200][int(r, 3)]!,
        exact: r.next() < 0.5,
        path: Array.from({ length: hops }, id),
        hid: [0, 1, 0x7f, 0x80, 0xffff, 0x10000, 0xfffffffe][int(r, 7)]!,
        body: r.next() < 0.5 ? inner : r.bytes([0, 40, 300][int(r, 3)]!),
      };
      const roll = r.next();
      if (roll < 0.3) envelope.via = Array.from({ length: [1, 15, 16][int(r, 3)]! }, id);
      // Other fields and values: routeSize must notice them and measure the general way.
      else if (roll < 0.4) envelope.extra = 'x';
      else if (roll < 0.45) envelope.via = undefined;
      else if (roll < 0.5) envelope.hops = -0;
      else if (roll < 0.55) envelope.hid = 1.5;
      else if (roll < 0.6) delete envelope.max;
      else fast++;
      expect(routeSize(envelope)).toBe(encodedSize(envelope));
      const size = encodedSize(envelope);
      if (size >= 0) {
        const bytes = envelope.body instanceof HeldFrame ? { ...envelope, body: frameBytes(inner) } : envelope;
        expect(size).toBe(encoder.encode(bytes).length);
      }
    }
    expect(fast).toBeGreaterThan(100);
  });
});

describe("held envelopes of exactly their schema's fields", () => {
  const envelope = (): Record<string, unknown> => ({
    dest: id(1),
    src: id(2),
    hops: 2,
    max: 10,
    exact: true,
    path: [id(3), id(4)],
    hid: 9,
    body: holdFrame('FIND_NODE', { rid: 7, target: id(5) }),
  });
  const read = (body: Record<string, unknown>) => decodeFrame(holdFrame('RPC_ROUTE', body as never));

  it('are read as they are, values checked; any other shape is read as a checked copy', () => {
    const exact = envelope();
    const withVia = { ...envelope(), via: [id(6)] };
    for (const body of [exact, withVia]) {
      const decoded = read(body);
      expect(decoded.ok && decoded.message.body).toBe(body);
    }
    // Another field: copied, without it, as bytes would have been read.
    const extra = { ...envelope(), extra: 'x' };
    const decoded = read(extra);
    expect(decoded.ok).toBe(true);
    expect(decoded.ok && decoded.message.body).not.toBe(extra);
    expect(decoded.ok && 'extra' in decoded.message.body).toBe(false);
    // A held frame made by hand claims nothing about its shape: copied.
    const byHand = envelope();
    const made = decodeFrame(new HeldFrame(MessageType.RPC_ROUTE, byHand, 200));
    expect(made.ok && made.message.body).not.toBe(byHand);
  });

  it('refuse the values bytes would be refused for', () => {
    const bad: Array<[string, unknown]> = [
      ['dest', id(1).subarray(1)],
      ['hops', 11],
      ['max', 0],
      ['hid', -1],
      ['exact', 1],
      ['path', [id(3), id(4), id(5)]],
      ['body', 'not a frame'],
      ['via', [id(1), 'x']],
    ];
    for (const [field, value] of bad) {
      const body = { ...envelope(), [field]: value };
      const expected = decodeFrame(encodeFrame('RPC_ROUTE', { ...body, body: new Uint8Array(8) } as never));
      if (field !== 'body') expect(expected).toEqual({ ok: false, error: 'schema' });
      expect(read(body)).toEqual({ ok: false, error: 'schema' });
    }
  });
});

describe('held frames', () => {
  const bodies: { [N in MessageName]?: MessageBodies[N] } = {
    PING: { rid: 1, kind: 'node' },
    PONG: { rid: 0xffffffff },
    LEAVE: {},
    CALL: { rid: 42, service: 'energy.home.get', args: { meter: 'main', at: [1.5, -3, 'é'] } },
    REPLY: { rid: 42, ok: false, code: 'HANDLER_ERROR', message: 'boom' },
    FIND_NODE_REPLY: { rid: 3, target: id(9), nodes: [id(10), id(11)], linked: [1] },
    STORE: { rid: 4, record: { kind: 'provider', key: id(12), metadata: { a: 'b' } }, remainingMs: 1000.5 },
    FIND_VALUE_REPLY: { rid: 5, key: id(13), kind: 'subscriber', records: [{ a: 1 }], nodes: [id(14)] },
    SIGNAL: { payload: new Uint8Array(300).fill(9) },
  };

  it.each(Object.keys(bodies) as MessageName[])('%s: held, it counts and reads as its bytes do', (name) => {
    const body = bodies[name] as never;
    const held = holdFrame(name, body);
    const bytes = encodeFrame(name, body);
    expect(held).toBeInstanceOf(HeldFrame);
    expect(held.length).toBe(bytes.length);
    expect(frameTypeId(held)).toBe(MessageType[name]);
    expect(peekType(held)).toBe(name);
    expect(decodeFrame(held)).toEqual(decodeFrame(bytes));
    expect(frameBytes(held)).toEqual(bytes);
  });

  it('an envelope around a held frame counts, reads and encodes as the one around its bytes', () => {
    const inner = { rid: 7, key: id(3), kind: 'provider' } as const;
    const envelope = (body: Uint8Array | HeldFrame): MessageBodies['RPC_ROUTE'] => ({
      dest: id(4),
      src: id(5),
      hops: 2,
      max: 10,
      exact: false,
      path: [id(5), id(6)],
      hid: 0,
      body,
    });
    const heldInner = holdFrame('FIND_VALUE', inner);
    const held = holdFrame('RPC_ROUTE', envelope(heldInner));
    const bytes = encodeFrame('RPC_ROUTE', envelope(encodeFrame('FIND_VALUE', inner)));
    expect(held.length).toBe(bytes.length);
    // encodeFrame writes the held inner frame as its bytes.
    expect(encodeFrame('RPC_ROUTE', envelope(heldInner))).toEqual(bytes);
    const read = decodeFrame(held);
    expect(read.ok && read.message.type === 'RPC_ROUTE' && decodeFrame(read.message.body.body)).toEqual(
      decodeFrame(encodeFrame('FIND_VALUE', inner)),
    );
  });

  it('meets the checks bytes meet: a body off its schema, or one too large, is refused as malformed', () => {
    expect(decodeFrame(new HeldFrame(MessageType.PING, { rid: -1 }, 12))).toEqual({
      ok: false,
      error: 'schema',
    });
    const big = holdFrame('SIGNAL', { payload: new Uint8Array(MAX_FRAME_BYTES) });
    expect(decodeFrame(big)).toEqual({ ok: false, error: 'length' });
    expect(decodeFrame(frameBytes(big))).toEqual({ ok: false, error: 'length' });
  });

  it('a body holding something that would not read back the same goes as bytes', () => {
    const frame = holdFrame('CALL', { rid: 1, service: 's', args: [undefined] });
    expect(frame).toBeInstanceOf(Uint8Array);
    const decoded = decodeFrame(frame);
    expect(decoded.ok && decoded.message.type === 'CALL' && decoded.message.body.args).toEqual([null]);
  });

  it('nothing decoded from bytes passes for a held frame in an envelope', () => {
    const forged = { typeId: MessageType.PING, body: { rid: 1 }, length: 12 };
    const envelope = { dest: id(1), src: id(2), hops: 1, max: 10, exact: true, path: [id(2)], hid: 0 };
    const frame = encodeFrame('RPC_ROUTE', { ...envelope, body: forged as never });
    expect(decodeFrame(frame)).toEqual({ ok: false, error: 'schema' });
  });
});
