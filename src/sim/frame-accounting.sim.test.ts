import { describe, expect, it } from 'vitest';
import { COUNTER_NAMES, type CounterName } from '../core/counters.js';
import { DhtNode } from '../core/node/dht-node.js';
import { MessageType, type MessageName } from '../core/wire/messages.js';
import { keyForName } from '../core/id.js';
import { publishToDht } from '../core/registry/dht-registry.js';
import { Swarm } from './swarm.js';

const TYPES = Object.keys(MessageType) as MessageName[];

/**
 * stats()'s frame counters add up over a whole network: every frame a node's transport
 * accepted (messages.out) reached a node and was read (messages.in) or refused unread
 * (frames.dropped), or the simulated wire lost it, delivered it to a dead node or a closed
 * channel, or still carries it. Run with everything that loses frames: loss, duplicates,
 * jitter, a partition, nodes that leave and nodes that fail silently.
 */
describe('frame counters add up across the simulated network', () => {
  it('sum of messages.out + wire duplicates = sum of messages.in + frames.dropped + what the wire lost or holds', async () => {
    const all: DhtNode[] = [];
    const swarm = new Swarm({
      seed: 2207,
      create: (deps) => {
        const node = new DhtNode(deps);
        all.push(node);
        return { node, tick: () => node.tick() };
      },
    });
    await swarm.grow(40, 20);
    await swarm.run(20_000);
    swarm.network.faults = { drop: 0.03, duplicate: 0.02, delayMs: 10, jitterMs: 40 };
    for (let i = 0; i < 10; i++) void swarm.pick().findNode(swarm.pick().self);
    await swarm.run(20_000);
    swarm.fail(swarm.pick(), false);
    swarm.fail(swarm.pick(), true);
    const sideOf = (id: string): number => parseInt(id[0]!, 16) & 1;
    swarm.network.partition(sideOf);
    await swarm.run(15_000);
    swarm.network.heal();
    swarm.network.faults = { drop: 0, duplicate: 0, delayMs: 0, jitterMs: 0 };
    await swarm.grow(10, 10);
    // Frames that never crossed the wire, handed straight to a node: junk from a neighbour, and a stranger's.
    const target = swarm.pick();
    const neighbour = [...target.neighbours.keys()][0]!;
    const injected = [neighbour, neighbour, 'ab'.repeat(32)];
    for (const from of injected) target.onFrame(from, new Uint8Array([1, 2, 3]));
    await swarm.run(10_000);

    const sum = (name: CounterName): number => all.reduce((s, n) => s + n.stats()[name]!, 0);
    const wire = swarm.network.stats;
    const out = sum('messages.out');
    expect(out).toBe(wire.frames);
    expect(sum('frames.dropped')).toBeGreaterThanOrEqual(injected.length);
    expect(out + wire.duplicated + injected.length).toBe(
      sum('messages.in') +
        sum('frames.dropped') +
        wire.lost +
        wire.partitioned +
        wire.toDead +
        wire.closedInFlight +
        wire.inFlight,
    );
    // Every frame class is counted, routed envelopes and their acknowledgements included.
    for (const t of ['RPC_ROUTE', 'ROUTE_ACK', 'PING', 'PONG', 'FIND_NODE', 'FIND_NODE_REPLY'] as const) {
      expect(sum(`messages.out.${t}`)).toBe(wire.framesByType.get(t) ?? 0);
      expect(sum(`messages.out.${t}`), t).toBeGreaterThan(0);
    }
    // Each envelope hop is tallied once more by what it carried (all held here, so none is 'unknown').
    const routed = wire.routedByType;
    expect([...routed.values()].reduce((a, b) => a + b, 0)).toBe(wire.framesByType.get('RPC_ROUTE'));
    expect(routed.has('unknown')).toBe(false);
    expect(routed.get('FIND_NODE')).toBeGreaterThan(0);
    for (const n of all) {
      const s = n.stats();
      expect(TYPES.reduce((a, t) => a + s[`messages.out.${t}`]!, 0)).toBe(s['messages.out']);
      expect(TYPES.reduce((a, t) => a + s[`messages.in.${t}`]!, 0)).toBe(s['messages.in']);
      expect(s['frames.fromStranger']! + s['frames.malformed']! + s['flood.limited']! + s['frames.afterClose']!).toBe(
        s['frames.dropped'],
      );
    }
  });

  it('every counter is present in stats() from the start, at zero, and no other name ever appears', async () => {
    const swarm = new Swarm({ seed: 5 });
    const fresh = swarm.addNode();
    const names = Object.keys(fresh.stats()).sort();
    for (const name of COUNTER_NAMES) expect(fresh.stats()[name], name).toBe(0);
    await swarm.grow(12, 12);
    await swarm.run(10_000);
    expect(fresh.stats()['messages.in']).toBeGreaterThan(0);
    for (const node of swarm.alive()) expect(Object.keys(node.stats()).sort()).toEqual(names);
  });

  it('held frames (no MessagePack) and bytes run the same seed to the same frames, bytes and lookups', async () => {
    const run = async (holdFrames: boolean) => {
      const swarm = new Swarm({ seed: 77, network: { holdFrames } });
      await swarm.grow(40, 20);
      const owner = swarm.pick();
      await swarm.settle(publishToDht(owner, 'same.service', { metadata: { room: 'cuisine é' } }, 300));
      const lookups: string[] = [];
      for (let i = 0; i < 10; i++) {
        const r = await swarm.settle(swarm.pick().findValue(keyForName('same.service'), 'provider'));
        lookups.push(`${r.hops}:${r.records.length}`);
      }
      swarm.fail(swarm.pick(), true);
      await swarm.run(10_000);
      const s = swarm.network.stats;
      const messagesIn = [...swarm.nodes.values()].reduce((n, node) => n + node.stats()['messages.in']!, 0);
      const run = {
        events: swarm.queue.processed,
        frames: s.frames,
        bytes: s.bytes,
        byType: [...s.bytesByType].sort(),
      };
      return { run: { ...run, lookups, messagesIn }, held: s.held };
    };
    const { run: held, held: heldFrames } = await run(true);
    const { run: bytes, held: none } = await run(false);
    expect(held).toEqual(bytes);
    // Only a body that would not read back the same goes as bytes (none here); the bytes run holds none.
    expect(heldFrames).toBe(held.frames);
    expect(none).toBe(0);
    expect(held.frames).toBeGreaterThan(1_000);
    expect(held.lookups.filter((l) => !l.endsWith(':0')).length).toBeGreaterThan(5);
  });
});
