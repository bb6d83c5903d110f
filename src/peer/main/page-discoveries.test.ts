import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../core/environment.js';
import { keyForName, toHex, type NodeId } from '../../core/id.js';
import { createIdentity, type Identity } from '../../core/identity.js';
import { manualClock } from '../../core/manual-clock.js';
import { signRecord, toProviderInfo, type ProviderInfo, type SignedRecord } from '../../core/records/records.js';
import { MAX_HOPS } from '../../core/constants.js';
import { valueAnswerFrame } from '../../core/registry/value-answer.js';
import { encodeFrame } from '../../core/wire/codec.js';
import { webEd25519, type WebEd25519 } from '../../crypto/web-ed25519.js';
import type { SeekBrief } from '../bridge-protocol.js';
import { PageDiscoveries } from './page-discoveries.js';

/**
 * The requester's page settles a forced discovery from its lookup's first answer only where
 * the worker, taking the same answer first, would end the lookup with the same providers;
 * everything else is left to the worker. The two halves together, with a real worker's
 * lookup, are in worker/discoveries-bridged.test.ts.
 */

const random = seededRandom(31);
const me = createIdentity(random.bytes);
const answerer = createIdentity(random.bytes);
const stranger = createIdentity(random.bytes);
const providerA = createIdentity(random.bytes);
const providerB = createIdentity(random.bytes);
const key = keyForName('svc.echo');
const keyHex = toHex(key);

function record(owner: Identity, advertisedAt: number, over: { key?: NodeId } = {}): SignedRecord {
  return signRecord(
    {
      kind: 'provider',
      key: over.key ?? key,
      endpoint: `peer:${owner.nodeIdHex}`,
      metadata: {},
      advertisedAt,
      ttl: 300,
    },
    owner,
  );
}

/** The envelope `from` answers FIND_VALUE `rid` with, as its page or node sends it. */
function answer(rid: number, records: SignedRecord[], nodes: NodeId[] = [], from: Identity = answerer): Uint8Array {
  const request = { src: me.nodeId, rid, key, keyHex, kind: 'provider' as const };
  return valueAnswerFrame(from.nodeId, request, { records, nodes })!;
}

async function setUp(opts: { web?: WebEd25519 | undefined; held?: ProviderInfo[]; near?: string[] } = {}) {
  const clock = manualClock();
  clock.skip(Date.UTC(2026, 11, 7));
  const web = 'web' in opts ? opts.web : await webEd25519();
  const settled: Array<[number, ProviderInfo[]]> = [];
  const pages = new PageDiscoveries(me.nodeId, clock, Promise.resolve(web), (token, providers) => {
    settled.push([token, providers]);
    return true;
  });
  await Promise.resolve();
  const brief: SeekBrief = {
    key: keyHex,
    kind: 'provider',
    near: opts.near ?? [answerer.nodeIdHex],
    held: opts.held ?? [],
  };
  const until = clock.now() + 15;
  // The lookup's three paths: two through the answerer (as in a small mesh), one through a stranger.
  pages.expect(answerer.nodeIdHex, { token: 7, rid: 101, until, failed: [] }, brief);
  pages.expect(answerer.nodeIdHex, { token: 7, rid: 102, until, failed: [] }, brief);
  pages.expect(stranger.nodeIdHex, { token: 7, rid: 103, until, failed: [] }, brief);
  return { clock, pages, settled };
}

describe('PageDiscoveries', () => {
  it("settles with the records held here, then the answer's, the newest per owner", async () => {
    const { clock, pages, settled } = await setUp({
      held: [toProviderInfo(record(providerA, Date.UTC(2026, 11, 7) - 60_000))],
    });
    const now = clock.now();
    const frame = answer(101, [record(providerB, now - 10), record(providerA, now - 5), record(providerB, now - 20)]);
    expect(await pages.take(answerer.nodeIdHex, frame)).toBe(7);
    expect(settled).toHaveLength(1);
    const [token, providers] = settled[0]!;
    expect(token).toBe(7);
    expect(providers.map((p) => [p.nodeId, p.advertisedAt])).toEqual([
      [providerA.nodeIdHex, now - 5],
      [providerB.nodeIdHex, now - 10],
    ]);
    // The first answer decided: the others go to the worker.
    expect(pages.take(answerer.nodeIdHex, answer(102, [record(providerA, now)]))).toBeUndefined();
    expect(pages.size).toEqual({ discoveries: 0, awaited: 0 });
  });

  it('leaves the discovery to the worker when its sender is not among the nearest the lookup knows', async () => {
    const { clock, pages, settled } = await setUp();
    // Three ids nearer the key than any random node: the answer names them.
    const nearer = [1, 2, 3].map((i) => {
      const id = key.slice();
      id[31]! ^= i;
      return id;
    });
    const frame = answer(101, [record(providerA, clock.now())], nearer);
    expect(await pages.take(answerer.nodeIdHex, frame)).toBeUndefined();
    expect(settled).toHaveLength(0);
  });

  it('leaves it to the worker when the sender was not among the nearest as the lookup started', async () => {
    const { clock, pages, settled } = await setUp({ near: [stranger.nodeIdHex] });
    expect(await pages.take(answerer.nodeIdHex, answer(101, [record(providerA, clock.now())]))).toBeUndefined();
    expect(settled).toHaveLength(0);
  });

  it('leaves it to the worker past its window, from another neighbour, or without records', async () => {
    const late = await setUp();
    late.clock.skip(15);
    expect(late.pages.take(answerer.nodeIdHex, answer(101, [record(providerA, late.clock.now())]))).toBeUndefined();

    const other = await setUp();
    // Rid 103 went to the stranger: the answerer's envelope for it is not the answer awaited.
    expect(other.pages.take(answerer.nodeIdHex, answer(103, [record(providerA, other.clock.now())]))).toBeUndefined();
    // It was the lookup's first answer all the same: the discovery is the worker's from here.
    expect(other.pages.size).toEqual({ discoveries: 0, awaited: 0 });

    const empty = await setUp();
    expect(empty.pages.take(answerer.nodeIdHex, answer(101, []))).toBeUndefined();
    // And that first answer decided.
    expect(empty.pages.take(answerer.nodeIdHex, answer(102, [record(providerA, empty.clock.now())]))).toBeUndefined();
    for (const { settled } of [late, other, empty]) expect(settled).toHaveLength(0);
  });

  it('leaves it to the worker once any answer came first, a routed one included', async () => {
    const routed = await setUp();
    const now = routed.clock.now();
    // Path 103's answer, from a node two hops out, handed over by the stranger: the worker's union now holds it.
    const far = createIdentity(random.bytes);
    const farAnswer = encodeFrame('RPC_ROUTE', {
      dest: me.nodeId,
      src: far.nodeId,
      hops: 2,
      max: MAX_HOPS,
      exact: true,
      path: [far.nodeId, stranger.nodeId],
      hid: 0,
      body: encodeFrame('FIND_VALUE_REPLY', {
        rid: 103,
        key,
        kind: 'provider',
        records: [record(providerB, now)],
        nodes: [],
      }),
    });
    expect(routed.pages.take(stranger.nodeIdHex, farAnswer)).toBeUndefined();
    expect(routed.pages.take(answerer.nodeIdHex, answer(101, [record(providerA, now)]))).toBeUndefined();

    // A bare answer (not in an envelope) to an awaited id counts as the first as well.
    const bare = await setUp();
    const plain = encodeFrame('FIND_VALUE_REPLY', { rid: 102, key, kind: 'provider', records: [], nodes: [] });
    expect(bare.pages.take(answerer.nodeIdHex, plain)).toBeUndefined();
    expect(bare.pages.take(answerer.nodeIdHex, answer(101, [record(providerA, now)]))).toBeUndefined();
    for (const { settled } of [routed, bare]) expect(settled).toHaveLength(0);
  });

  it('leaves it to the worker when a record does not check', async () => {
    const wrongKey = await setUp();
    const now = wrongKey.clock.now();
    const frame = answer(101, [record(providerA, now), record(providerB, now, { key: keyForName('svc.other') })]);
    expect(await wrongKey.pages.take(answerer.nodeIdHex, frame)).toBeUndefined();

    const forged = await setUp();
    const bad = record(providerA, forged.clock.now());
    const tampered = { ...bad, endpoint: 'peer:elsewhere' };
    expect(await forged.pages.take(answerer.nodeIdHex, answer(101, [tampered]))).toBeUndefined();

    const expired = await setUp();
    const old = record(providerA, expired.clock.now() - 3_600_000);
    expect(await expired.pages.take(answerer.nodeIdHex, answer(101, [old]))).toBeUndefined();
    for (const { settled } of [wrongKey, forged, expired]) expect(settled).toHaveLength(0);
  });

  it('checks a record it found valid once from memory, and a changed one again', async () => {
    const real = (await webEd25519())!;
    let checks = 0;
    const counting = {
      verify: (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => {
        checks++;
        return real.verify(signature, message, publicKey);
      },
    } as unknown as WebEd25519;
    const { clock, pages, settled } = await setUp({ web: counting });
    const rec = record(providerA, clock.now());
    expect(await pages.take(answerer.nodeIdHex, answer(101, [rec]))).toBe(7);
    expect(checks).toBe(1);
    const brief: SeekBrief = { key: keyHex, kind: 'provider', near: [answerer.nodeIdHex], held: [] };
    // The next forced discovery brings the same record back: no second trip to WebCrypto.
    pages.expect(answerer.nodeIdHex, { token: 8, rid: 201, until: clock.now() + 15, failed: [] }, brief);
    expect(await pages.take(answerer.nodeIdHex, answer(201, [rec]))).toBe(8);
    expect(checks).toBe(1);
    // Its signature on other bytes is checked, and refused.
    pages.expect(answerer.nodeIdHex, { token: 9, rid: 301, until: clock.now() + 15, failed: [] }, brief);
    const moved = { ...rec, endpoint: 'peer:elsewhere' };
    expect(await pages.take(answerer.nodeIdHex, answer(301, [moved]))).toBeUndefined();
    expect(checks).toBe(2);
    expect(settled.map(([token]) => token)).toEqual([7, 8]);
  });

  it('leaves everything to the worker where WebCrypto has no Ed25519', async () => {
    const { clock, pages, settled } = await setUp({ web: undefined });
    expect(pages.take(answerer.nodeIdHex, answer(101, [record(providerA, clock.now())]))).toBeUndefined();
    expect(settled).toHaveLength(0);
  });

  it('forgets a FIND_VALUE that never reached its channel, and discoveries past their window', async () => {
    const { clock, pages } = await setUp();
    pages.unsent({ token: 7, rid: 103, until: 0, failed: [] });
    expect(pages.size).toEqual({ discoveries: 1, awaited: 2 });
    clock.skip(20);
    expect(pages.take(answerer.nodeIdHex, answer(999, []))).toBeUndefined();
    expect(pages.size).toEqual({ discoveries: 0, awaited: 0 });
  });
});
