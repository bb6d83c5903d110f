import { describe, expect, it, vi } from 'vitest';
import { seededRandom } from '../../core/environment.js';
import { manualClock } from '../../core/manual-clock.js';
import { createIdentity } from '../../core/identity.js';
import { acknowledgementFrame } from '../../core/registry/call-reply.js';
import { DEFAULT_FLOOD_LIMITS, OUTBOUND_SHARE } from '../../core/defence/rate-limit.js';
import { checkPublication } from '../../core/registry/publication.js';
import { readPublish } from '../../core/registry/publication-read.js';
import { webEd25519 } from '../../crypto/web-ed25519.js';
import { verify } from '../../core/identity.js';
import type { ToWorker } from '../bridge-protocol.js';
import { AppCallbacks } from './app-callbacks.js';
import { PageCalls } from './page-calls.js';
import { PageReplies } from './page-replies.js';
import { PAGE_PUBLISH_SEND_BUDGET, PagePublishes } from './page-publishes.js';

/**
 * The publisher's page signing and sending a publish itself (page-publishes.ts): only from a
 * fresh copy of the worker's subscribers, to open neighbours with reserved ids; what it sends is
 * a PUBLISH every subscriber accepts; the worker is told everything it needs to take over; and
 * everything else goes the worker's way. WebCrypto's Ed25519 is Node's own here.
 */

const random = seededRandom(17);
const me = createIdentity(random.bytes);
const [A, B, C] = ['a', 'b', 'c'].map((x) => x.repeat(64)) as [string, string, string];

async function setup(opts: { web?: boolean; ids?: string[]; open?: string[]; refuse?: string } = {}) {
  const clock = manualClock();
  clock.skip(1_000_000);
  const calls = new PageCalls(clock, seededRandom(3));
  const replies = new PageReplies(clock);
  const web = opts.web === false ? Promise.resolve(undefined) : webEd25519();
  const publishes = new PagePublishes(clock, seededRandom(4), me, calls, replies, web);
  const app = new AppCallbacks();
  const sent: Array<{ peer: string; frame: Uint8Array }> = [];
  const posted: ToWorker[] = [];
  publishes.drive(
    {
      send: (peer, frame) => peer !== opts.refuse && sent.push({ peer, frame }) > 0,
      post: (m) => void posted.push(m),
    },
    app,
  );
  await web;
  for (const peer of opts.open ?? [A, B]) calls.told({ t: 'neighbour', peer, open: true });
  calls.told({ t: 'rids', rids: [11, 12, 13, 14, 15, 16] });
  publishes.told({ t: 'subscribers', topic: 'chat.lobby', ids: opts.ids ?? [A, B], until: clock.now() + 5_000 });
  let viaWorker = 0;
  const outcomes = {
    viaWorker: () => Promise.resolve(++viaWorker),
    sentByPage: () => new Promise<null>(() => undefined),
  };
  /** The app's publish, run as peer-handle.ts runs it: undefined when it went the worker's way. */
  const publish = (payload: unknown, topic = 'chat.lobby') => {
    let started = false;
    const result = replies.run('publish', (token) => {
      const p = publishes.start(token, topic, payload, outcomes);
      started = p !== undefined;
      return (p ?? Promise.resolve(-1)) as Promise<number | null>;
    });
    return { result, started: () => started };
  };
  return { clock, calls, replies, publishes, app, sent, posted, publish, viaWorker: () => viaWorker };
}

type Published = Extract<ToWorker, { t: 'published' }>;
/** The worker's notice, once the page has signed and sent (WebCrypto answers in its own time). */
const published = (posted: ToWorker[]): Promise<Published> =>
  vi.waitFor(
    () => {
      const m = posted.find((x) => x.t === 'published');
      if (m === undefined) throw new Error('not yet');
      return m as Published;
    },
    { timeout: 10_000 },
  );

describe("the publisher's page sends a publish itself", () => {
  it('signs one publication, sends a PUBLISH every subscriber accepts to each, and settles at the last acknowledgement', async () => {
    const { clock, sent, posted, publish, replies } = await setup();
    const p = publish({ text: 'hi' });
    expect(p.started()).toBe(true);
    const notice = await published(posted);
    expect(sent.map((s) => s.peer)).toEqual([A, B]);
    const read = sent.map((s) => readPublish(s.frame)!);
    for (const body of read) {
      const check = checkPublication(body, clock.now(), verify);
      expect(check).toEqual({ ok: true, publisher: me.nodeIdHex, payload: { text: 'hi' } });
    }
    // One publication: the same message id and signature, a request id each.
    expect(read[0]!.mid).toEqual(read[1]!.mid);
    expect(new Set(read.map((r) => r.rid)).size).toBe(2);
    expect(notice.sent.map((s) => [s.peer, s.rid])).toEqual(read.map((r, i) => [sent[i]!.peer, r.rid]));
    expect(notice.sent[0]!.head).toEqual(sent[0]!.frame.slice(0, 8));
    expect(notice).toMatchObject({ topic: 'chat.lobby', rest: [], here: false, at: clock.now() });
    expect(notice.signature).toEqual(read[0]!.signature);
    // The acknowledgements settle the app's publish on the page (page-replies.ts), from the peers they went to.
    expect(replies.received(B, acknowledgementFrame(read[0]!.rid, 1))).toBeUndefined();
    expect(replies.received(A, acknowledgementFrame(read[0]!.rid, 1))).toBeUndefined();
    expect(replies.received(B, acknowledgementFrame(read[1]!.rid, 0))).toBeDefined();
    expect(await p.result).toBe(1);
  });

  it("delivers to this tab's own subscriptions after the sends, once, and counts it as the worker would", async () => {
    const { app, sent, posted, publish, replies } = await setup({ ids: [A, me.nodeIdHex] });
    const got: unknown[] = [];
    app.patterns.set(1, 'chat.*');
    app.subscriptions.set(1, (payload) => got.push([payload, sent.length]));
    const p = publish([1, 2]);
    const notice = await published(posted);
    expect(got).toEqual([[[1, 2], 1]]);
    expect(notice).toMatchObject({ here: true, rest: [] });
    replies.received(A, acknowledgementFrame(notice.sent[0]!.rid, 1));
    expect(await p.result).toBe(2);
  });

  it('leaves this tab to the worker while a subscription changes, and then the count too', async () => {
    const { app, posted, publish, replies } = await setup({ ids: [A, me.nodeIdHex] });
    app.changing = 1;
    const p = publish('x');
    const notice = await published(posted);
    expect(notice).toMatchObject({ here: false, rest: [me.nodeIdHex] });
    replies.received(A, acknowledgementFrame(notice.sent[0]!.rid, 1));
    expect(replies.size.calls).toBe(1);
    void p;
  });

  it('leaves to the worker a subscriber that is not an open neighbour, or whose send is refused, and the count', async () => {
    const { posted, publish, calls } = await setup({ ids: [A, B, C], open: [A, B, C], refuse: B });
    calls.told({ t: 'neighbour', peer: C, open: false });
    publish('x');
    const notice = await published(posted);
    expect(notice.sent.map((s) => s.peer)).toEqual([A]);
    expect(notice.rest.sort()).toEqual([B, C]);
    // The refused send's id is the page's again.
    expect(calls.takeRids(5)).toHaveLength(5);
  });

  it('goes the worker way without WebCrypto, a fresh copy, an open subscriber, ids, or with what the worker refuses', async () => {
    const noWeb = await setup({ web: false });
    expect(noWeb.publish('x').started()).toBe(false);
    const s = await setup();
    expect(s.publish('x', 'other.topic').started()).toBe(false);
    expect(s.publish('x', 'chat.*').started()).toBe(false);
    expect(s.publish(() => 1).started()).toBe(false);
    expect(s.publish(new Uint8Array(1 << 20)).started()).toBe(false);
    s.calls.told({ t: 'forget', peer: A });
    s.publishes.told({ t: 'forget', peer: A });
    s.calls.told({ t: 'neighbour', peer: B, open: false });
    expect(s.publish('x').started()).toBe(false);
    const late = await setup();
    late.clock.skip(5_000);
    expect(late.publish('x').started()).toBe(false);
    const short = await setup();
    short.calls.takeRids(5);
    expect(short.publish('x').started()).toBe(false);
    expect(short.sent).toEqual([]);
  });

  it("sends one neighbour no more than the page's share of its publish budget, then leaves it to the worker", async () => {
    // The worker shapes its own sends to OUTBOUND_SHARE of what a neighbour admits: the page has the rest.
    const { publish: limit } = DEFAULT_FLOOD_LIMITS.classes;
    expect(PAGE_PUBLISH_SEND_BUDGET.perSecond).toBe(Math.round(limit.perSecond * (1 - OUTBOUND_SHARE)));
    expect(PAGE_PUBLISH_SEND_BUDGET.burst).toBe(Math.round(limit.burst * (1 - OUTBOUND_SHARE)));
    const { posted, publish, calls } = await setup({ ids: [A] });
    let started = 0;
    for (let i = 0; i < PAGE_PUBLISH_SEND_BUDGET.burst + 5; i++) {
      calls.told({ t: 'rids', rids: [1000 + i] });
      if (publish(i).started()) started++;
    }
    expect(started).toBe(PAGE_PUBLISH_SEND_BUDGET.burst);
    await vi.waitFor(
      () => expect(posted.filter((m) => m.t === 'published')).toHaveLength(PAGE_PUBLISH_SEND_BUDGET.burst),
      { timeout: 10_000 },
    );
  });
});
