import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame } from '../wire/codec.js';
import { seededRandom } from '../environment.js';
import { toHex, type NodeId } from '../id.js';
import type { RouteMsg } from '../wire/messages.js';
import { prefixOf, Router, type RouterHost } from './router.js';

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
    neighbours: () => neighbours.map((id) => ({ id, idHex: toHex(id), prefix: prefixOf(id) })),
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
