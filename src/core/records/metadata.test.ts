import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../sim/event-queue.js';
import { MAX_METADATA_BYTES, MAX_METADATA_ENTRIES } from '../constants.js';
import { seededRandom } from '../environment.js';
import { ErrorCode, isMeshError } from '../errors.js';
import { keyForName } from '../id.js';
import { createIdentity, sign, verify, type Identity } from '../identity.js';
import { DhtNode } from '../node/dht-node.js';
import { ServiceRegistry } from '../registry/service-registry.js';
import { decodeFrame, encodeFrame } from '../wire/codec.js';
import { METADATA_RULE } from './metadata.js';
import { checkMetadata, checkRecord, recordSigningBytes, signRecord, type SignedRecord } from './records.js';

/**
 * Metadata is a flat map of a few scalars (metadata.ts): what the local API refuses with
 * INVALID_ARGUMENT naming the rule, and what a node refuses from the network and counts,
 * even when the owner signed it.
 */

const alice = createIdentity(seededRandom(11).bytes);
const NOW = 1_700_000_000_000;
const KEY = keyForName('meta.svc');

/** Shapes the byte bound let through and decoding blew up (the review's ~136 KB per entry), and others the rule refuses. */
const nested: Array<[string, unknown]> = [
  ['2,040 empty maps (2,047 bytes)', { a: Array.from({ length: 2_040 }, () => ({})) }],
  [
    '680 empty arrays',
    Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, Array.from({ length: 68 }, () => [])])),
  ],
  ['a nested map', { a: { b: 1 } }],
  ['an array of scalars', { tags: ['x', 'y'] }],
  ['bytes', { blob: new Uint8Array(8) }],
  [
    `${MAX_METADATA_ENTRIES + 1} keys`,
    Object.fromEntries(Array.from({ length: MAX_METADATA_ENTRIES + 1 }, (_, i) => [`k${i}`, i])),
  ],
];

/** A record signed by its owner around metadata signRecord would refuse: what a hostile owner can send. */
function signedAround(metadata: unknown, who: Identity = alice, at = NOW): SignedRecord {
  const unsigned = {
    kind: 'provider' as const,
    key: KEY,
    publicKey: who.publicKey,
    endpoint: 'peer:x',
    metadata: metadata as Record<string, unknown>,
    advertisedAt: at,
    ttl: 300,
  };
  return { ...unsigned, nodeId: who.nodeId, signature: sign(recordSigningBytes(unsigned), who.secretKey) };
}

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('metadata: the local API', () => {
  it('takes a flat map of up to 16 scalars, in canonical form', () => {
    const flat = Object.fromEntries(
      Array.from({ length: MAX_METADATA_ENTRIES }, (_, i) => [`k${i}`, [`s${i}`, i, i % 2 === 0, null][i % 4]]),
    );
    expect(checkMetadata(flat)).toEqual(flat);
    expect(checkMetadata({ gone: undefined, unit: 'W' })).toEqual({ gone: null, unit: 'W' });
    expect(checkMetadata({})).toEqual({});
    const r = signRecord(
      {
        kind: 'provider',
        key: KEY,
        endpoint: 'peer:x',
        metadata: { unit: 'W', site: 'home', watts: 1.5 },
        advertisedAt: NOW,
        ttl: 300,
      },
      alice,
    );
    expect(checkRecord(r, NOW, verify).ok).toBe(true);
  });

  it('refuses anything nested or longer with INVALID_ARGUMENT naming the rule', () => {
    for (const [what, metadata] of nested) {
      for (const run of [
        () => checkMetadata(metadata),
        () =>
          signRecord(
            {
              kind: 'provider',
              key: KEY,
              endpoint: 'peer:x',
              metadata: metadata as Record<string, unknown>,
              advertisedAt: NOW,
              ttl: 300,
            },
            alice,
          ),
      ]) {
        const e = thrown(run);
        expect({ what, code: isMeshError(e) && e.code }).toEqual({ what, code: ErrorCode.INVALID_ARGUMENT });
        expect(isMeshError(e) && e.details?.argument).toBe('metadata');
        expect((e as Error).message).toContain(METADATA_RULE);
      }
    }
    // Flat but over the byte bound stays TOO_LARGE.
    expect(thrown(() => checkMetadata({ a: 'x'.repeat(MAX_METADATA_BYTES) }))).toMatchObject({
      code: ErrorCode.TOO_LARGE,
    });
  });

  it('an advertisement with such metadata is refused before anything is registered', () => {
    const registry = new ServiceRegistry({ now: () => NOW, setTimer: () => () => undefined });
    for (const [, metadata] of nested) {
      const e = thrown(() => registry.advertiseLocal('meta.svc', () => 1, metadata as Record<string, unknown>));
      expect(isMeshError(e) && e.code).toBe(ErrorCode.INVALID_ARGUMENT);
    }
    expect(registry.listLocalServices()).toEqual([]);
    registry.advertiseLocal('meta.svc', () => 1, { unit: 'W' });
    expect(registry.getLocalService('meta.svc')?.metadata).toEqual({ unit: 'W' });
  });
});

describe('metadata: from the network', () => {
  it('checkRecord refuses a signed record with nested metadata as MALFORMED, never throwing', () => {
    for (const [what, metadata] of nested) {
      const result = checkRecord(signedAround(metadata), NOW, verify);
      expect({ what, code: result.ok ? 'ok' : result.code }).toEqual({ what, code: ErrorCode.MALFORMED });
      expect(result.ok ? '' : result.reason).toContain('metadata');
    }
  });

  it('a node refuses such a STORE, counts it and stores nothing', () => {
    const clock = new EventQueue();
    const sent: Uint8Array[] = [];
    const random = seededRandom(12);
    const node = new DhtNode({
      identity: createIdentity(random.bytes),
      clock,
      random,
      transport: {
        send: (_peer, frame) => {
          sent.push(frame);
          return true;
        },
        connect: () => undefined,
        disconnect: () => undefined,
      },
    });
    const neighbour = createIdentity(seededRandom(13).bytes).nodeIdHex;
    node.onChannelOpen(neighbour);
    nested.forEach(([, metadata], i) => {
      const owner = createIdentity(seededRandom(100 + i).bytes);
      node.onFrame(neighbour, encodeFrame('STORE', { rid: i + 1, record: signedAround(metadata, owner, clock.now()) }));
    });
    const replies = sent
      .map(decodeFrame)
      .flatMap((d) => (d.ok && d.message.type === 'STORE_REPLY' ? [d.message.body] : []));
    expect(replies.map((b) => [b.rid, b.ok, b.code])).toEqual(
      nested.map((_, i) => [i + 1, false, ErrorCode.MALFORMED]),
    );
    expect(node.stats()[`dht.storeRefused.${ErrorCode.MALFORMED}`]).toBe(nested.length);
    expect(node.records.size).toBe(0);
  });
});
