import { describe, expect, it } from 'vitest';
import { Swarm } from '../../sim/swarm.js';
import { MAX_HOPS } from '../constants.js';
import { seededRandom } from '../environment.js';
import { keyForName, type NodeId } from '../id.js';
import { createIdentity } from '../identity.js';
import { signRecord } from '../records/records.js';
import { decodeFrame, encodeFrame, frameBytes } from '../wire/codec.js';
import type { RouteMsg } from '../wire/messages.js';
import { isRouteFrame, readStraightFindValue, readStraightValueReply, valueAnswerFrame } from './value-answer.js';

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

    // And the asker's page reads the node's answer back as the codec does.
    const back = readStraightValueReply(answers[0]!, node.selfHex, asker.nodeId)!;
    expect(back).not.toBeNull();
    expect(back.rid).toBe(4242);
    expect(back.kind).toBe('provider');
    expect(Buffer.from(back.from).equals(Buffer.from(node.self))).toBe(true);
    const decoded = decodeFrame(answers[0]!);
    const inner = decoded.ok && decoded.message.type === 'RPC_ROUTE' ? decodeFrame(decoded.message.body.body) : null;
    expect(inner?.ok && inner.message.type === 'FIND_VALUE_REPLY').toBe(true);
    if (inner?.ok && inner.message.type === 'FIND_VALUE_REPLY') {
      expect(back.records).toEqual(inner.message.body.records);
      expect(back.nodes).toEqual(inner.message.body.nodes);
    }
  });
});

describe('readStraightValueReply', () => {
  const answerer = createIdentity(seededRandom(12).bytes);
  const valueReply = (over: Record<string, unknown> = {}): Uint8Array =>
    encodeFrame('FIND_VALUE_REPLY', { rid: 9, key, kind: 'provider', records: [], nodes: [answerer.nodeId], ...over });
  const reply = (over: Partial<RouteMsg> = {}, inner: Uint8Array = valueReply()): Uint8Array =>
    encodeFrame('RPC_ROUTE', {
      dest: asker.nodeId,
      src: answerer.nodeId,
      hops: 1,
      max: MAX_HOPS,
      exact: true,
      path: [answerer.nodeId],
      hid: 0,
      body: inner,
      ...over,
    });

  it('reads an answer its sender handed over itself, to this node, as the codec reads it', () => {
    const frame = reply({ hid: 5 }, valueReply({ linked: [0] }));
    expect(decodeFrame(frame).ok).toBe(true);
    const read = readStraightValueReply(frame, answerer.nodeIdHex, asker.nodeId);
    expect(read).toMatchObject({ rid: 9, kind: 'provider', records: [] });
    expect(read!.nodes).toHaveLength(1);
  });

  it('leaves everything else to the node', () => {
    const other = createIdentity(seededRandom(13).bytes);
    const cases: Uint8Array[] = [
      reply({ exact: false }),
      reply({ dest: other.nodeId }),
      reply({ hops: 2, path: [answerer.nodeId, other.nodeId] }),
      reply({ path: [other.nodeId] }),
      reply({ via: [other.nodeId] }),
      reply({ max: MAX_HOPS + 1 }),
      reply({}, findValue(3)),
      reply({}, valueReply({ nodes: [new Uint8Array(31)] })),
      reply({}, valueReply({ linked: [1] })),
      reply({}, valueReply({ records: 'none' })),
      reply({}, valueReply().subarray(0, 12)),
      valueReply(),
      reply().subarray(0, 40),
    ];
    for (const frame of cases) expect(readStraightValueReply(frame, answerer.nodeIdHex, asker.nodeId)).toBeNull();
    // From a neighbour that is not its sender.
    expect(readStraightValueReply(reply(), other.nodeIdHex, asker.nodeId)).toBeNull();
  });
});
