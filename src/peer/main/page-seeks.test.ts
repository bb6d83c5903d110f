import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../core/environment.js';
import { manualClock } from '../../core/manual-clock.js';
import { keyForName, toHex } from '../../core/id.js';
import { createIdentity } from '../../core/identity.js';
import { MIN_GRACE_MS } from '../../core/lookup/lookup-run.js';
import { readStraightFindValue } from '../../core/registry/value-answer.js';
import { decodeFrame } from '../../core/wire/codec.js';
import type { AwaitedReply, SeekBrief, ToWorker } from '../bridge-protocol.js';
import { PAGE_SEEK_WINDOW_MS } from '../seek-brief.js';
import { PageSeeks } from './page-seeks.js';

const self = createIdentity(seededRandom(1).bytes);
const hops = [2, 3, 4].map((seed) => createIdentity(seededRandom(seed).bytes).nodeIdHex);
const brief: SeekBrief = { key: toHex(keyForName('svc.echo')), kind: 'provider', near: hops.slice(0, 3), held: [] };

function setup(opts: { open?: string[]; rids?: number } = {}) {
  const clock = manualClock();
  clock.skip(1_000);
  const open = new Set(opts.open ?? hops);
  const rids = Array.from({ length: opts.rids ?? 16 }, (_, i) => 100 + i);
  const unused: number[] = [];
  const calls = {
    isOpen: (peer: string) => open.has(peer),
    takeRids: (n: number) => (n > rids.length ? undefined : rids.splice(rids.length - n, n)),
    unused: (rid: number) => void unused.push(rid),
  };
  const expected: Array<{ peer: string; awaits: AwaitedReply; seek: SeekBrief; byPage?: boolean }> = [];
  const unsent: AwaitedReply[] = [];
  const forgotten: number[] = [];
  const discoveries = {
    expect: (peer: string, awaits: AwaitedReply, seek: SeekBrief, byPage?: boolean) =>
      void expected.push({ peer, awaits, seek, byPage }),
    unsent: (awaits: AwaitedReply) => void unsent.push(awaits),
    forget: (token: number) => void forgotten.push(token),
  };
  const seeks = new PageSeeks(self.nodeId, clock, seededRandom(9), calls, discoveries);
  const frames: Array<{ peer: string; frame: Uint8Array; awaited: number }> = [];
  const posted: ToWorker[] = [];
  let refuse = new Set<string>();
  const send = (peer: string, frame: Uint8Array): boolean => {
    frames.push({ peer, frame, awaited: expected.length });
    return !refuse.has(peer);
  };
  const start = (token = 7): boolean => seeks.start(token, 'svc.echo', send, (m) => void posted.push(m));
  const refusing = (peers: string[]) => (refuse = new Set(peers));
  return { clock, seeks, start, frames, posted, expected, unsent, unused, forgotten, rids, refusing };
}

describe('PageSeeks', () => {
  it('puts the plan’s FIND_VALUEs on the channels, each awaited first, and tells the worker after', () => {
    const t = setup();
    expect(t.seeks.told({ t: 'seeks', service: 'svc.echo', plan: { hops, brief } })).toBe(true);
    expect(t.start()).toBe(true);
    expect(t.frames.map((f) => f.peer)).toEqual(hops);
    for (const [i, { peer, frame, awaited }] of t.frames.entries()) {
      // The answer is awaited before the frame leaves.
      expect(awaited).toBe(i + 1);
      const read = readStraightFindValue(frame, self.nodeIdHex)!;
      expect(read).toMatchObject({ kind: 'provider', keyHex: brief.key });
      expect(t.expected[i]).toMatchObject({
        peer,
        awaits: { token: 7, rid: read.rid, until: 1_000 + PAGE_SEEK_WINDOW_MS },
      });
      expect(t.expected[i]!.seek).toBe(brief);
      expect(t.expected[i]!.byPage).toBe(true);
    }
    expect(t.posted).toHaveLength(1);
    const m = t.posted[0]!;
    expect(m.t === 'sought' && m.token === 7 && m.service === 'svc.echo' && m.at === 1_000).toBe(true);
    if (m.t !== 'sought') return;
    expect(m.sent.map((p) => p.peer)).toEqual(hops);
    expect(m.sent.map((p) => p.rid)).toEqual(t.expected.map((e) => e.awaits.rid));
    for (const [i, p] of m.sent.entries()) expect([...p.head]).toEqual([...t.frames[i]!.frame.slice(0, 8)]);
  });

  it('asks an acknowledgement only of a hop not heard from within the router’s second', () => {
    const t = setup();
    t.seeks.told({ t: 'seeks', service: 'svc.echo', plan: { hops, brief } });
    t.seeks.heardFrom(hops[0]!);
    t.clock.skip(500);
    t.seeks.heardFrom(hops[1]!);
    t.clock.skip(500);
    expect(t.start()).toBe(true);
    const hids = t.frames.map(({ frame }) => {
      const d = decodeFrame(frame);
      return d.ok && d.message.type === 'RPC_ROUTE' ? d.message.body.hid : -1;
    });
    // Heard 1,000 ms ago: asked; 500 ms ago: not; never: asked.
    expect(hids[0]).toBeGreaterThan(0);
    expect(hids[1]).toBe(0);
    expect(hids[2]).toBeGreaterThan(0);
    const m = t.posted[0]!;
    expect(m.t === 'sought' && m.sent.map((p) => p.hid)).toEqual(hids);
    t.seeks.closed(hops[1]!);
    expect(t.start(8)).toBe(true);
    const again = decodeFrame(t.frames[4]!.frame);
    expect(again.ok && again.message.type === 'RPC_ROUTE' && again.message.body.hid).toBeGreaterThan(0);
  });

  it('leaves the discovery to the worker without a plan, with a hop not open, or without ids', () => {
    const none = setup();
    expect(none.start()).toBe(false);
    none.seeks.told({ t: 'seeks', service: 'svc.echo', plan: { hops, brief } });
    none.seeks.told({ t: 'seeks', service: 'svc.echo' });
    expect(none.start()).toBe(false);

    const closed = setup({ open: hops.slice(1) });
    closed.seeks.told({ t: 'seeks', service: 'svc.echo', plan: { hops, brief } });
    expect(closed.start()).toBe(false);

    const short = setup({ rids: 2 });
    short.seeks.told({ t: 'seeks', service: 'svc.echo', plan: { hops, brief } });
    expect(short.start()).toBe(false);
    expect(short.rids).toHaveLength(2);
    for (const t of [none, closed, short]) expect(t.frames.length + t.posted.length + t.expected.length).toBe(0);
  });

  it('tells the worker only of what went out; with nothing out, forgets the discovery', () => {
    const t = setup();
    t.seeks.told({ t: 'seeks', service: 'svc.echo', plan: { hops, brief } });
    t.refusing([hops[1]!]);
    expect(t.start()).toBe(true);
    const m = t.posted[0]!;
    expect(m.t === 'sought' && m.sent.map((p) => p.peer)).toEqual([hops[0], hops[2]]);
    expect(t.unsent.map((a) => a.rid)).toEqual([t.expected[1]!.awaits.rid]);
    expect(t.unused).toEqual([t.expected[1]!.awaits.rid]);

    const all = setup();
    all.seeks.told({ t: 'seeks', service: 'svc.echo', plan: { hops, brief } });
    all.refusing(hops);
    expect(all.start(9)).toBe(false);
    expect(all.posted).toHaveLength(0);
    expect(all.unused).toHaveLength(3);
    expect(all.forgotten).toEqual([9]);
  });

  it('settles only within the lookup’s least grace', () => {
    expect(PAGE_SEEK_WINDOW_MS).toBeLessThan(MIN_GRACE_MS);
    expect(PAGE_SEEK_WINDOW_MS).toBeGreaterThan(0);
  });
});
