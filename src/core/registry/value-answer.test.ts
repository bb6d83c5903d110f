import { describe, expect, it } from 'vitest';
import { Swarm } from '../../sim/swarm.js';
import { MAX_HOPS } from '../constants.js';
import { seededRandom } from '../environment.js';
import { keyForName, type NodeId } from '../id.js';
import { createIdentity } from '../identity.js';
import { signRecord } from '../records/records.js';
import { decodeFrame, encodeFrame, frameBytes } from '../wire/codec.js';
import type { RouteMsg } from '../wire/messages.js';
import { isRouteFrame, readStraightFindValue, valueAnswerFrame } from './value-answer.js';

/**
 * The page's reading of a FIND_VALUE and its answer, held against the node's own: the codec's
 * checks, and the bytes a real node's router puts on the channel for the same request.
 */

const asker = createIdentity(seededRandom(7).bytes);
const key = keyForName('svc.echo');

function envelope(over: Partial<RouteMsg> = {}, inner: Uint8Array = findValue(11)): Uint8Array {
  return encodeFrame('RPC_ROUTE', {
    dest: key,
    src: asker.nodeId,
    hops: 1,
    max: MAX_HOPS,
    exact: false,
    path: [asker.nodeId],
    hid: 0,
    body: inner,
    ...over,
  });
}

const findValue = (rid: number, kind: 'provider' | 'subscriber' = 'provider', k: NodeId = key): Uint8Array =>
  encodeFrame('FIND_VALUE', { rid, key: k, kind });

describe('readStraightFindValue', () => {
  it('reads a FIND_VALUE its source handed over itself, as the codec reads it', () => {
    const frame = envelope({ hid: 77 });
    expect(isRouteFrame(frame)).toBe(true);
    const read = readStraightFindValue(frame, asker.nodeIdHex);
    expect(read).toMatchObject({ rid: 11, kind: 'provider', keyHex: Buffer.from(key).toString('hex') });
    expect(Buffer.from(read!.src).equals(Buffer.from(asker.nodeId))).toBe(true);
    const decoded = decodeFrame(frame);
    expect(decoded.ok).toBe(true);
  });

  it('leaves everything else to the node', () => {
    const other = createIdentity(seededRandom(8).bytes);
    const cases: Uint8Array[] = [
      envelope({ exact: true }),
      envelope({ hops: 2, path: [other.nodeId, asker.nodeId] }),
      envelope({ path: [other.nodeId] }),
      envelope({ via: [other.nodeId] }),
      envelope({ hops: 0, path: [] }),
      envelope({ max: MAX_HOPS + 1 }),
      envelope({}, encodeFrame('FIND_NODE', { rid: 3, target: key })),
      envelope({}, findValue(3).subarray(0, 12)),
      encodeFrame('FIND_VALUE', { rid: 3, key, kind: 'provider' }),
      envelope().subarray(0, 40),
    ];
    for (const frame of cases) expect(readStraightFindValue(frame, asker.nodeIdHex)).toBeNull();
    // From a neighbour that is not its source.
    expect(readStraightFindValue(envelope(), other.nodeIdHex)).toBeNull();
    // A kind the codec does not know.
    const junk = new Uint8Array(findValue(3));
    const at = Buffer.from(junk).indexOf('provider');
    junk.set(Buffer.from('provideX'), at);
    expect(decodeFrame(junk).ok).toBe(false);
    expect(readStraightFindValue(envelope({}, junk), asker.nodeIdHex)).toBeNull();
  });
});

describe('valueAnswerFrame', () => {
  it("is the node's own answer, byte for byte", async () => {
    const swarm = new Swarm({ seed: 5 });
    await swarm.grow(12, 6);
    await swarm.run(5_000);
    const node = swarm.alive()[3]!;
    const provider = createIdentity(seededRandom(9).bytes);
    const record = signRecord(
      {
        kind: 'provider',
        key,
        endpoint: `peer:${provider.nodeIdHex}`,
        metadata: { region: 'eu', weight: 1.5 },
        advertisedAt: node.clock.now(),
        ttl: 300,
      },
      provider,
    );
    expect(node.records.put(record, node.clock.now()).ok).toBe(true);
    const sent: Uint8Array[] = [];
    const transport = swarm.network.attach(asker.nodeIdHex, {
      onChannelOpen: () => undefined,
      onChannelClose: () => undefined,
      onFrame: (_from, frame) => void sent.push(frameBytes(frame)),
    });
    swarm.network.link(asker.nodeIdHex, node.selfHex);
    await swarm.run(1_000);
    expect(node.neighbours.has(asker.nodeIdHex)).toBe(true);

    sent.length = 0;
    const request = envelope({}, findValue(4242));
    transport.send(node.selfHex, request);
    await swarm.run(100);
    const answers = sent.filter((f) => {
      const d = decodeFrame(f);
      return d.ok && d.message.type === 'RPC_ROUTE';
    });
    expect(answers).toHaveLength(1);

    const read = readStraightFindValue(request, asker.nodeIdHex)!;
    const { rid: _rid, ...answer } = node.gateway.valueAnswer(0, key, 'provider');
    expect(answer.records).toHaveLength(1);
    expect(answer.linked?.length ?? 0).toBeGreaterThan(0);
    // As the worker hands it to the page: a structured clone.
    const copy = structuredClone(answer);
    const mine = valueAnswerFrame(node.self, read, copy)!;
    expect(Buffer.from(mine).equals(Buffer.from(answers[0]!))).toBe(true);
  });
});
