import { describe, expect, it } from 'vitest';
import { Swarm } from '../sim/swarm.js';
import { decodeFrame, encodeFrame } from './codec.js';
import type { DhtNode } from './dht-node.js';
import { compareDistance, keyForName, toHex } from './id.js';
import { createIdentity } from './identity.js';
import { signRecord } from './records.js';
import { seededRandom } from './environment.js';

/**
 * The counterparts of macula_gateway_dht, each held to what its documentation says,
 * on real nodes of a small simulated mesh.
 */
async function mesh(): Promise<{ swarm: Swarm; nodes: DhtNode[] }> {
  const swarm = new Swarm({ seed: 99 });
  await swarm.grow(24, 8);
  await swarm.run(5_000);
  return { swarm, nodes: swarm.alive() };
}

const owner = createIdentity(seededRandom(31).bytes);
const recordFor = (name: string, now: number, metadata: Record<string, unknown> = {}) =>
  signRecord({ kind: 'provider', key: keyForName(name), endpoint: 'peer:x', metadata, advertisedAt: now, ttl: 300 }, owner);

function reply(frame: Uint8Array) {
  const decoded = decodeFrame(frame);
  if (!decoded.ok) throw new Error(decoded.error);
  return decoded.message;
}

describe('gateway (macula_gateway_dht counterparts)', () => {
  it('handleStore stores a valid record and answers ok; a forged one is refused with its code', async () => {
    const { swarm, nodes } = await mesh();
    const node = nodes[0]!;
    const record = recordFor('svc.a', swarm.now);
    const ok = reply(node.gateway.handleQuery('STORE', encodeFrame('STORE', { rid: 1, record })));
    expect(ok).toMatchObject({ type: 'STORE_REPLY', body: { rid: 1, ok: true } });
    expect(node.records.get(keyForName('svc.a'), 'provider', swarm.now)).toHaveLength(1);
    const forged = { ...record, metadata: { evil: true } };
    const refused = reply(node.gateway.handleQuery('STORE', encodeFrame('STORE', { rid: 2, record: forged })));
    expect(refused).toMatchObject({ type: 'STORE_REPLY', body: { rid: 2, ok: false, code: 'BAD_SIGNATURE' } });
  });

  it('handleFindValue returns the records it holds, and its closest contacts when it holds none', async () => {
    const { swarm, nodes } = await mesh();
    const node = nodes[1]!;
    node.records.put(recordFor('svc.b', swarm.now), swarm.now);
    const found = reply(node.gateway.handleQuery('FIND_VALUE', encodeFrame('FIND_VALUE', { rid: 3, key: keyForName('svc.b'), kind: 'provider' })));
    expect(found.type === 'FIND_VALUE_REPLY' && found.body.records).toHaveLength(1);
    const missing = reply(node.gateway.handleQuery('FIND_VALUE', encodeFrame('FIND_VALUE', { rid: 4, key: keyForName('none'), kind: 'provider' })));
    expect(missing.type === 'FIND_VALUE_REPLY' && missing.body.records).toEqual([]);
    expect(missing.type === 'FIND_VALUE_REPLY' && missing.body.nodes.length).toBe(Math.min(node.k, node.table.size));
  });

  it('handleFindNode returns exactly the k closest contacts of its routing table', async () => {
    const { swarm, nodes } = await mesh();
    const node = nodes[2]!;
    const target = swarm.random.bytes(32);
    const answer = reply(node.gateway.handleQuery('FIND_NODE', encodeFrame('FIND_NODE', { rid: 5, target })));
    const expected = node.table.all().sort((a, b) => compareDistance(target, a.id, b.id)).slice(0, node.k).map((c) => c.idHex);
    expect(answer.type === 'FIND_NODE_REPLY' && answer.body.nodes.map(toHex)).toEqual(expected);
  });

  it('handleQuery refuses a frame of another type than announced', async () => {
    const { nodes } = await mesh();
    expect(() => nodes[0]!.gateway.handleQuery('STORE', encodeFrame('PING', { rid: 1 }))).toThrowError(expect.objectContaining({ code: 'MALFORMED' }));
  });

  it('lookupValue reads local storage only: ok with the list, or not_found', async () => {
    const { swarm, nodes } = await mesh();
    const node = nodes[3]!;
    expect(node.gateway.lookupValue(keyForName('svc.c'))).toEqual({ ok: false, error: 'not_found' });
    node.records.put(recordFor('svc.c', swarm.now), swarm.now);
    const result = node.gateway.lookupValue(keyForName('svc.c'));
    expect(result.ok && result.value).toHaveLength(1);
  });

  it('queryPeer matches replies by request id, also for concurrent queries, and times out on a silent node', async () => {
    const { swarm, nodes } = await mesh();
    const [asker, a, b, silent] = [nodes[4]!, nodes[10]!, nodes[20]!, nodes[15]!];
    const target = swarm.random.bytes(32);
    const [ra, rb] = await swarm.settle(Promise.all([
      asker.gateway.queryPeer(a.selfHex, 'FIND_NODE', { rid: 111, target }),
      asker.gateway.queryPeer(b.selfHex, 'FIND_NODE', { rid: 222, target }),
    ]));
    expect(ra.reply.body).toMatchObject({ rid: 111 });
    expect(toHex(ra.info.from)).toBe(a.selfHex);
    expect(rb.reply.body).toMatchObject({ rid: 222 });
    expect(toHex(rb.info.from)).toBe(b.selfHex);
    swarm.fail(silent, true);
    await expect(swarm.settle(asker.gateway.queryPeer(silent.selfHex, 'PING', { rid: 333 }, 2_000))).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('sendToPeer delivers fire-and-forget, straight to a neighbour and routed to any other node', async () => {
    const { swarm, nodes } = await mesh();
    const sender = nodes[5]!;
    const neighbour = nodes.find((n) => sender.neighbours.has(n.selfHex))!;
    const stranger = nodes.find((n) => n !== sender && !sender.neighbours.has(n.selfHex))!;
    for (const [i, target] of [neighbour, stranger].entries()) {
      const record = recordFor(`fire.${i}`, swarm.now);
      expect(sender.gateway.sendToPeer(target.selfHex, 'STORE', { rid: 500 + i, record })).toBe(true);
      await swarm.run(2_000);
      expect(target.records.get(keyForName(`fire.${i}`), 'provider', swarm.now)).toHaveLength(1);
    }
    // The STORE_REPLYs nobody waited for are counted, not delivered anywhere.
    expect(sender.stats()['replies.unmatched']).toBe(2);
  });
});
