import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame } from '../wire/codec.js';
import { seededRandom } from '../environment.js';
import { compareDistance, toHex, type NodeId } from '../id.js';
import type { RouteMsg } from '../wire/messages.js';
import { listHops, Router, type RouterHost } from './router.js';

/** An id whose first byte is `first` (XOR distances then compare on that byte). */
const idStarting = (first: number): NodeId => {
  const id = new Uint8Array(32);
  id[0] = first;
  id[31] = 1;
  return id;
};

/** A router at `self` whose open channels are `neighbours`; what it sends and counts is recorded. */
function routerAt(self: NodeId, neighbours: NodeId[]) {
  const sent: Array<{ to: string; envelope: RouteMsg }> = [];
  const counters = new Map<string, number>();
  const host: RouterHost = {
    self,
    selfHex: toHex(self),
    random: seededRandom(1),
    transport: {
      frame: encodeFrame,
      send: (to, frame) => {
        const decoded = decodeFrame(frame);
        if (decoded.ok && decoded.message.type === 'RPC_ROUTE') sent.push({ to, envelope: decoded.message.body });
        return true;
      },
      connect: () => undefined,
      disconnect: () => undefined,
    },
    clock: { now: () => 0, setTimer: () => () => undefined },
    hops: () => listHops(neighbours.map((id) => ({ id, idHex: toHex(id) }))),
    ackTimeoutMs: () => 100,
    recentlyHeard: () => true,
    onHopFailure: () => undefined,
    answersHere: () => false,
    deliver: () => undefined,
    mayHandOver: () => true,
    count: (name, by = 1) => counters.set(name, (counters.get(name) ?? 0) + by),
  };
  return { router: new Router(host), sent, counters };
}

const exactPing = (dest: NodeId, path: NodeId[]): RouteMsg => ({
  dest,
  src: path[0]!,
  hops: path.length,
  max: 10,
  exact: true,
  path,
  hid: 0,
  body: encodeFrame('PING', { rid: 1 }),
});

describe('Router: exact envelopes at a dead end', () => {
  const dest = idStarting(0x00);
  const self = idStarting(0x40);
  // Both neighbours are farther from dest than self: any forward is a sideways step.
  const sideways = [idStarting(0xc0), idStarting(0x80)];

  it('take a sideways step towards the best neighbour while the walk is still near its closest point', () => {
    const { router, sent, counters } = routerAt(self, sideways);
    router.receive(toHex(idStarting(0x10)), exactPing(dest, [idStarting(0x10)]));
    expect(sent.map((s) => s.to)).toEqual([toHex(idStarting(0x80))]);
    expect(counters.get('route.detour')).toBe(1);
  });

  it('stop once three steps passed without getting closer than a node already on the walk (a destination that left)', () => {
    const { router, sent, counters } = routerAt(self, sideways);
    const walk = [idStarting(0x10), idStarting(0x50), idStarting(0x60)];
    router.receive(toHex(walk[2]!), exactPing(dest, walk));
    expect(sent).toEqual([]);
    expect(counters.get('route.detourLimit')).toBe(1);
    expect(counters.get('route.unreachable')).toBe(1);
  });

  it('still go forward greedily however long the walk, when a neighbour is closer', () => {
    const { router, sent } = routerAt(self, [...sideways, idStarting(0x20)]);
    const walk = [idStarting(0x10), idStarting(0x50), idStarting(0x60)];
    router.receive(toHex(walk[2]!), exactPing(dest, walk));
    expect(sent.map((s) => s.to)).toEqual([toHex(idStarting(0x20))]);
  });
});

describe('Router: the next hop', () => {
  it('is the closest neighbour not on the path, whatever order the channels are listed in', () => {
    const rnd = seededRandom(3);
    const self = rnd.bytes(32);
    const neighbours = Array.from({ length: 30 }, () => rnd.bytes(32));
    // Two neighbours that agree on their first 32 bits: the whole id decides between them.
    const twin = neighbours[0]!.slice();
    twin[20] = twin[20]! ^ 0x80;
    neighbours.push(twin);
    const chosen = new Set<string>();
    for (let round = 0; round < 20; round++) {
      const onPath = neighbours.slice(5 + round, 7 + round);
      // Random destinations; then ones near the twins (their prefixes tie); then ones nearest
      // a neighbour on the path, which must be passed over for the next best.
      const near = round < 10 ? undefined : round < 15 ? neighbours[0]! : onPath[round % 2]!;
      const dest = near === undefined ? rnd.bytes(32) : near.map((b, i) => (i < 4 ? b : rnd.bytes(1)[0]!));
      const eligible = neighbours.filter((n) => !onPath.includes(n));
      const best = eligible.reduce((a, b) => (compareDistance(dest, a, b) <= 0 ? a : b));
      const expected = compareDistance(dest, best, self) < 0 ? [toHex(best)] : [];
      for (const order of [neighbours, [...neighbours].reverse()]) {
        const { router, sent } = routerAt(self, order);
        router.receive(toHex(onPath[0]!), { ...exactPing(dest, onPath), exact: false });
        expect(sent.map((s) => s.to)).toEqual(expected);
        for (const s of sent) chosen.add(s.to);
      }
    }
    // The twins were both in play: the test saw prefixes tie.
    expect(chosen.has(toHex(neighbours[0]!)) || chosen.has(toHex(twin))).toBe(true);
  });

  it('follows the envelope via first while that neighbour is open and not yet tried', () => {
    const rnd = seededRandom(4);
    const self = rnd.bytes(32);
    const neighbours = Array.from({ length: 10 }, () => rnd.bytes(32));
    const dest = rnd.bytes(32);
    const via = neighbours[7]!;
    const { router, sent } = routerAt(self, neighbours);
    router.receive(toHex(rnd.bytes(32)), { ...exactPing(dest, [rnd.bytes(32)]), exact: false, via: [via] });
    expect(sent.map((s) => s.to)).toEqual([toHex(via)]);
  });
});
