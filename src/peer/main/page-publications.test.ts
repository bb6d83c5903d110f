import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../core/environment.js';
import { manualClock } from '../../core/manual-clock.js';
import { nodeIdFromPublicKey, toHex } from '../../core/id.js';
import { createIdentity } from '../../core/identity.js';
import { acknowledgementFrame } from '../../core/registry/call-reply.js';
import { DEFAULT_FLOOD_LIMITS } from '../../core/defence/rate-limit.js';
import { PUBLISH_FRESHNESS_MS, signPublication } from '../../core/registry/publication.js';
import { encodeFrame, encodeValue } from '../../core/wire/codec.js';
import { webEd25519 } from '../../crypto/web-ed25519.js';
import { AppCallbacks } from './app-callbacks.js';
import { PAGE_PUBLISH_LIMIT, PagePublications } from './page-publications.js';

/**
 * A subscriber's page taking publications straight from a neighbour (page-publications.ts):
 * what it acknowledges and delivers, and everything it leaves to the worker. WebCrypto's
 * Ed25519 is Node's own here, as the page's is the browser's.
 */

const random = seededRandom(14);
const publisher = createIdentity(random.bytes);
const neighbour = toHex(random.bytes(32));
const publisherId = toHex(nodeIdFromPublicKey(publisher.publicKey));

async function setup(opts: { open?: boolean; web?: boolean } = {}) {
  const clock = manualClock();
  clock.skip(1_000_000);
  const app = new AppCallbacks();
  const got: Array<{ id: number; payload: unknown; topic: string; publisher: string }> = [];
  const subscribe = (id: number, pattern: string): void => {
    app.patterns.set(id, pattern);
    app.subscriptions.set(id, (payload, info) => got.push({ id, payload, ...info }));
  };
  const sent: Array<{ peer: string; frame: Uint8Array }> = [];
  const web = opts.web === false ? Promise.resolve(undefined) : webEd25519();
  const pub = new PagePublications(app, clock, web, (peer, frame) => {
    if (opts.open === false) return false;
    sent.push({ peer, frame });
    return true;
  });
  await web;
  pub.admit(neighbour);
  const publish = (rid: number, topic: string, at = clock.now(), mid = random.bytes(16)): Uint8Array =>
    encodeFrame('PUBLISH', {
      rid,
      ...signPublication(publisher, { mid, topic, payload: encodeValue({ n: rid }), at }),
    });
  return { clock, app, got, subscribe, sent, pub, publish };
}

describe("a subscriber's page takes publications from its neighbours", () => {
  it('verifies, acknowledges with the subscriptions matched, delivers once, and gives the worker the header', async () => {
    const { got, subscribe, sent, pub, publish } = await setup();
    subscribe(1, 'chat.*');
    subscribe(2, 'chat.lobby');
    subscribe(3, 'news.**');
    const head = await pub.take(neighbour, publish(9, 'chat.lobby'));
    const ack = acknowledgementFrame(9, 2);
    expect(sent).toEqual([{ peer: neighbour, frame: ack }]);
    expect(head).toEqual(ack.slice(0, 8));
    expect(got).toEqual([
      { id: 1, payload: { n: 9 }, topic: 'chat.lobby', publisher: publisherId },
      { id: 2, payload: { n: 9 }, topic: 'chat.lobby', publisher: publisherId },
    ]);
    // A topic no subscription matches: acknowledged with 0, as the worker would.
    await pub.take(neighbour, publish(10, 'weather.today'));
    expect(sent[1]!.frame).toEqual(acknowledgementFrame(10, 0));
    expect(got).toHaveLength(2);
  });

  it('a message seen before is acknowledged again but not delivered again, whichever thread had it first', async () => {
    const { app, got, subscribe, sent, pub, publish } = await setup();
    subscribe(1, 'chat.lobby');
    const mid = random.bytes(16);
    await pub.take(neighbour, publish(1, 'chat.lobby', undefined, mid));
    await pub.take(neighbour, publish(2, 'chat.lobby', undefined, mid));
    expect(sent.map((s) => s.frame)).toEqual([acknowledgementFrame(1, 1), acknowledgementFrame(2, 1)]);
    expect(got).toHaveLength(1);
    // The worker delivers the same message (routed to it): the page does not hand it over twice.
    app.bridge.deliver([1], 'chat.lobby', { n: 1 }, publisherId, toHex(mid));
    expect(got).toHaveLength(1);
    // And one the worker delivered first is not delivered again when it comes straight to the page.
    const other = random.bytes(16);
    app.bridge.deliver([1], 'chat.lobby', { n: 3 }, publisherId, toHex(other));
    await pub.take(neighbour, publish(3, 'chat.lobby', undefined, other));
    expect(got.map((g) => g.payload)).toEqual([{ n: 1 }, { n: 3 }]);
    expect(sent).toHaveLength(3);
  });

  it('leaves to the worker what it cannot vouch for: a bad signature, a stale one, junk, other frames', async () => {
    const { clock, got, subscribe, sent, pub, publish } = await setup();
    subscribe(1, 'chat.lobby');
    const forged = publish(4, 'chat.lobby');
    forged[forged.length - 1]! ^= 1; // the signature's last byte
    await expect(pub.take(neighbour, forged)).resolves.toBeUndefined();
    expect(pub.take(neighbour, publish(5, 'chat.lobby', clock.now() - PUBLISH_FRESHNESS_MS - 1))).toBeUndefined();
    expect(pub.take(neighbour, publish(6, 'chat.lobby').slice(0, 40))).toBeUndefined();
    expect(pub.take(neighbour, encodeFrame('CALL', { rid: 1, service: 'svc', args: null }))).toBeUndefined();
    expect(sent).toEqual([]);
    expect(got).toEqual([]);
  });

  it('takes nothing from a neighbour the worker has not sent to, or has cut off, nor while subscriptions change', async () => {
    const { app, subscribe, pub, publish } = await setup();
    subscribe(1, 'chat.lobby');
    const stranger = toHex(random.bytes(32));
    expect(pub.take(stranger, publish(1, 'chat.lobby'))).toBeUndefined();
    pub.admit(stranger);
    await expect(pub.take(stranger, publish(2, 'chat.lobby'))).resolves.toBeInstanceOf(Uint8Array);
    pub.forget(stranger);
    expect(pub.take(stranger, publish(3, 'chat.lobby'))).toBeUndefined();
    app.changing++;
    expect(pub.take(neighbour, publish(4, 'chat.lobby'))).toBeUndefined();
    app.changing--;
    // A subscription that changes while WebCrypto checks: the worker decides after all.
    const taking = pub.take(neighbour, publish(5, 'chat.lobby'));
    app.changing++;
    await expect(taking).resolves.toBeUndefined();
  });

  it('checks at most its share of the flood budget from one neighbour; the rest goes to the worker', async () => {
    expect(PAGE_PUBLISH_LIMIT).toEqual({
      perSecond: DEFAULT_FLOOD_LIMITS.classes.publish.perSecond / 2,
      burst: DEFAULT_FLOOD_LIMITS.classes.publish.burst / 2,
    });
    const { clock, sent, pub, publish } = await setup();
    const taken: Array<Promise<Uint8Array | undefined>> = [];
    let declined = 0;
    for (let i = 0; i < PAGE_PUBLISH_LIMIT.burst + 10; i++) {
      const t = pub.take(neighbour, publish(i, 'chat.lobby'));
      if (t === undefined) declined++;
      else taken.push(t);
    }
    await Promise.all(taken);
    expect(taken).toHaveLength(PAGE_PUBLISH_LIMIT.burst);
    expect(declined).toBe(10);
    expect(sent).toHaveLength(PAGE_PUBLISH_LIMIT.burst);
    // It refills at its rate: 50 ms later, 5 more.
    clock.skip(50);
    let more = 0;
    for (let i = 0; i < 10; i++) if (pub.take(neighbour, publish(1_000 + i, 'chat.lobby')) !== undefined) more++;
    expect(more).toBe(5);
  });

  it('without WebCrypto Ed25519 it takes nothing; with its channel closed it delivers and says no acknowledgement went', async () => {
    const without = await setup({ web: false });
    expect(without.pub.take(neighbour, without.publish(1, 'chat.lobby'))).toBeUndefined();
    const closed = await setup({ open: false });
    closed.subscribe(1, 'chat.lobby');
    await expect(closed.pub.take(neighbour, closed.publish(2, 'chat.lobby'))).resolves.toEqual(new Uint8Array(0));
    expect(closed.got).toHaveLength(1);
  });
});
