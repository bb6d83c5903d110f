import { describe, expect, it } from 'vitest';
import { parseFromWorker, parseToWorker } from './bridge-protocol.js';

/** The bytes bridge's new fields: checked as every other (a bug on either side must not crash the loop). */

const peer = 'a'.repeat(64);
const frame = new Uint8Array([1, 0x20, 0, 0, 0, 0, 0, 0]);
const awaits = { token: 3, rid: 9, until: 1_700_000_000_000, failed: [{ nodeId: peer, code: 'BUSY', message: 'm' }] };

describe('the bytes bridge: replies the page awaits', () => {
  it('reads a send with what the page awaits, and refuses a malformed one', () => {
    expect(parseFromWorker({ t: 'send', peer, frame, awaits })).toEqual({ t: 'send', peer, frame, awaits });
    expect(parseFromWorker({ t: 'send', peer, frame })).toEqual({ t: 'send', peer, frame });
    const bad = [
      { ...awaits, token: 1.5 },
      { ...awaits, rid: -1 },
      { ...awaits, until: Infinity },
      { ...awaits, failed: 'x' },
      { ...awaits, failed: [{ nodeId: peer, code: 1, message: '' }] },
      { ...awaits, failed: Array.from({ length: 21 }, () => awaits.failed[0]) },
      null,
    ];
    for (const a of bad) expect(parseFromWorker({ t: 'send', peer, frame, awaits: a })).toBeNull();
  });

  it("reads a discovery's first FIND_VALUE with its brief, and refuses a malformed brief", () => {
    const held = [{ nodeId: peer, endpoint: `peer:${peer}`, metadata: {}, advertisedAt: 1, ttl: 300 }];
    const seek = { key: 'b'.repeat(64), kind: 'provider', near: [peer], held };
    const found = { ...awaits, failed: [], seek };
    expect(parseFromWorker({ t: 'send', peer, frame, awaits: found })).toEqual({
      t: 'send',
      peer,
      frame,
      awaits: found,
    });
    const bad = [
      { ...seek, key: 'B'.repeat(64) },
      { ...seek, kind: 'value' },
      { ...seek, near: ['x'] },
      { ...seek, near: Array.from({ length: 9 }, () => peer) },
      { ...seek, held: [{ ...held[0], ttl: 'long' }] },
      { ...seek, held: [{ ...held[0], metadata: null }] },
      'seek',
    ];
    for (const b of bad) expect(parseFromWorker({ t: 'send', peer, frame, awaits: { ...found, seek: b } })).toBeNull();
  });

  it("reads a publish's plan and a frame the page settled a call with", () => {
    expect(parseFromWorker({ t: 'publishing', token: 4, delivered: 1, sent: 5 })).toEqual({
      t: 'publishing',
      token: 4,
      delivered: 1,
      sent: 5,
    });
    expect(parseFromWorker({ t: 'publishing', token: 4, delivered: -1, sent: 5 })).toBeNull();
    expect(parseToWorker({ t: 'frame', peer, frame, settled: 4 })).toEqual({ t: 'frame', peer, frame, settled: 4 });
    expect(parseToWorker({ t: 'frame', peer, frame, settled: 'x' })).toBeNull();
    // A publication the page took, with its acknowledgement's header (empty: the channel had closed).
    const head = new Uint8Array(8);
    expect(parseToWorker({ t: 'frame', peer, frame, taken: head })).toEqual({ t: 'frame', peer, frame, taken: head });
    expect(parseToWorker({ t: 'frame', peer, frame, taken: [1, 2] })).toBeNull();
    expect(parseToWorker({ t: 'frame', peer, frame, taken: head, settled: 4 })).toBeNull();
  });

  it('reads what the worker grants the page of CALLs it admits itself, and a CALL the page admitted', () => {
    const allow = { t: 'allow', peer, grant: 2, slots: 4, credit: 32 };
    expect(parseFromWorker(allow)).toEqual(allow);
    for (const bad of [{ slots: -1 }, { credit: 1.5 }, { grant: 'g' }, { peer: 7 }])
      expect(parseFromWorker({ ...allow, ...bad })).toBeNull();
    expect(parseFromWorker({ t: 'revoke', peer, grant: 2 })).toEqual({ t: 'revoke', peer, grant: 2 });
    expect(parseFromWorker({ t: 'revoke', peer })).toBeNull();
    expect(parseFromWorker({ t: 'serving', services: ['a', 'b'] })).toEqual({ t: 'serving', services: ['a', 'b'] });
    expect(parseFromWorker({ t: 'serving', services: ['a', 3] })).toBeNull();
    expect(parseFromWorker({ t: 'serving', services: ['s'.repeat(257)] })).toBeNull();
    expect(parseToWorker({ t: 'returned', peer, grant: 2 })).toEqual({ t: 'returned', peer, grant: 2 });
    expect(parseToWorker({ t: 'returned', peer, grant: null })).toBeNull();
    const head = new Uint8Array(8);
    expect(parseToWorker({ t: 'frame', peer, frame, admitted: head })).toEqual({
      t: 'frame',
      peer,
      frame,
      admitted: head,
    });
    expect(parseToWorker({ t: 'frame', peer, frame, admitted: 'x' })).toBeNull();
    expect(parseToWorker({ t: 'frame', peer, frame, admitted: head, taken: head })).toBeNull();
    expect(parseToWorker({ t: 'frame', peer, frame, admitted: head, settled: 1 })).toBeNull();
  });
});
