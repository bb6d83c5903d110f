import { describe, expect, it } from 'vitest';
import { keyForName, toHex, type NodeId } from '../../core/id.js';
import type { FirstPaths } from '../../core/lookup/lookup-result.js';
import type { FromWorker } from '../bridge-protocol.js';
import { KEEP_MS, MAX_SEEKS, WorkerSeeks } from './page-seeks.js';

/** The worker's copies of its forced discoveries' plans, against a node whose state the test sets. */
function setup() {
  let now = 5_000;
  let version = 1;
  let hops = ['a'.repeat(64), 'b'.repeat(64)];
  const records = new Map<string, unknown[]>();
  const worked: string[] = [];
  const posted: FromWorker[] = [];
  const seeks = new WorkerSeeks({
    now: () => now,
    firstPaths: (key: NodeId): FirstPaths => {
      worked.push(toHex(key));
      return { hops, brief: { key: toHex(key), kind: 'provider', startedAt: now, near: hops, held: [] } };
    },
    records: (key) => records.get(toHex(key)) ?? [],
    tableVersion: () => version,
    post: (m) => void posted.push(m),
  });
  return {
    seeks,
    posted,
    worked,
    records,
    later: (ms: number) => (now += ms),
    bump: () => version++,
    route: (to: string[]) => (hops = to),
  };
}

const plans = (posted: FromWorker[]) =>
  posted.map((m) => (m.t === 'seeks' ? { service: m.service, hops: m.plan?.hops } : { other: m.t }));

describe('WorkerSeeks', () => {
  it('sends the plan of a service discovered with forceRefresh, then only what changed', () => {
    const t = setup();
    t.seeks.sought('svc.echo');
    expect(plans(t.posted)).toEqual([{ service: 'svc.echo', hops: ['a'.repeat(64), 'b'.repeat(64)] }]);
    const first = t.posted[0]!;
    expect(first.t === 'seeks' && first.plan?.brief.key).toBe(toHex(keyForName('svc.echo')));

    // Nothing it depends on changed: not even worked out again.
    t.seeks.refresh();
    t.seeks.sought('svc.echo');
    expect(t.worked).toHaveLength(1);
    expect(t.posted).toHaveLength(1);

    // The table changed but the plan did not: worked out, not sent.
    t.bump();
    t.seeks.refresh();
    expect(t.worked).toHaveLength(2);
    expect(t.posted).toHaveLength(1);

    // A channel closed and the first hops moved: sent.
    t.route(['c'.repeat(64)]);
    t.seeks.neighbour();
    t.seeks.refresh();
    expect(plans(t.posted).at(-1)).toEqual({ service: 'svc.echo', hops: ['c'.repeat(64)] });

    // A record stored here for the key: worked out again; each tick too (verdicts have no version).
    t.records.set(toHex(keyForName('svc.echo')), [{}]);
    t.seeks.refresh();
    expect(t.worked).toHaveLength(4);
    t.seeks.tick();
    expect(t.worked).toHaveLength(5);
  });

  it('takes a plan back once its service was not discovered for KEEP_MS', () => {
    const t = setup();
    t.seeks.sought('svc.echo');
    t.later(KEEP_MS - 1);
    t.seeks.refresh();
    expect(t.posted).toHaveLength(1);
    t.later(1);
    t.seeks.refresh();
    expect(plans(t.posted).at(-1)).toEqual({ service: 'svc.echo', hops: undefined });
    t.seeks.refresh();
    expect(t.posted).toHaveLength(2);
  });

  it(`holds at most ${MAX_SEEKS} plans: the one discovered least lately gives way`, () => {
    const t = setup();
    for (let i = 0; i < MAX_SEEKS; i++) {
      t.seeks.sought(`svc.${i}`);
      t.later(1);
    }
    t.seeks.sought('svc.0');
    t.later(1);
    t.seeks.sought('svc.new');
    const dropped = t.posted.filter((m) => m.t === 'seeks' && m.plan === undefined);
    expect(dropped.map((m) => m.t === 'seeks' && m.service)).toEqual(['svc.1']);
  });
});
