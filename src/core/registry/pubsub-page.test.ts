import { describe, expect, it } from 'vitest';
import { seededRandom } from '../environment.js';
import { manualClock } from '../manual-clock.js';
import { ErrorCode, MeshError } from '../errors.js';
import { createIdentity, verify } from '../identity.js';
import { toHex } from '../id.js';
import { encodeValue } from '../wire/codec.js';
import type { Message } from '../wire/messages.js';
import { signPublication } from './publication.js';
import { PubSub, type PubSubHost } from './pubsub.js';
import { ServiceRegistry, type ProviderInfo } from './service-registry.js';

/**
 * A publish the publisher's page sent itself (PubSub.publishedByPage; main/page-publishes.ts):
 * each PUBLISH is accounted for as the node's own and its acknowledgement awaited for what is
 * left of the timeout, what the page left is sent the worker's way, and the count is publish()'s.
 * The page's copy of the subscribers is told what the cache serves at each read.
 */

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const random = seededRandom(9);
const identity = createIdentity(random.bytes);
const selfHex = toHex(identity.nodeId);
const ack = (rid: number, took: number): Message => ({ type: 'REPLY', body: { rid, ok: true, result: took } });

function setup(answers: Record<string, (rid: number) => Promise<Message>>, open = [A, B]) {
  const clock = manualClock();
  clock.skip(1_000_000);
  const counts: Record<string, number> = {};
  const framed: Array<[string, Uint8Array]> = [];
  const waited: Array<{ rid: number; timeoutMs: number; peer?: string }> = [];
  const queried: Array<{ peer: string; body: Record<string, unknown> }> = [];
  const delivered: Array<{ ids: number[]; payload: unknown }> = [];
  let rid = 500;
  const host = {
    self: identity.nodeId,
    selfHex,
    k: 20,
    alpha: 3,
    hopTimeoutMs: 1_000,
    clock,
    random,
    verify,
    identity,
    count: (name: string, by = 1) => void (counts[name] = (counts[name] ?? 0) + by),
    neighbours: new Set(open),
    findValue: () => Promise.resolve({ records: [] }),
    messenger: {
      newId: () => rid++,
      sendFrame: (peer: string, head: Uint8Array) => framed.push([peer, head]) > 0,
      wait: async (r: number, timeoutMs: number, peer?: string) => {
        waited.push({ rid: r, timeoutMs, ...(peer === undefined ? {} : { peer }) });
        return { reply: await answers[peer!]!(r), info: {} };
      },
      queryPeer: async (peer: string, _type: string, body: Record<string, unknown>) => {
        queried.push({ peer, body });
        return { reply: await answers[peer]!(body.rid as number), info: {} };
      },
      reply: () => undefined,
    },
  } as unknown as PubSubHost;
  const registry = new ServiceRegistry(clock);
  const copies: Array<[string, readonly string[], number]> = [];
  const pubsub = new PubSub(
    host,
    registry,
    { deliver: (ids, _topic, payload) => void delivered.push({ ids, payload }) },
    { subscribe: () => Promise.resolve(), unsubscribe: () => Promise.resolve() },
    undefined,
    { cachedSubscribers: (topic, ids, until) => void copies.push([topic, ids, until]) },
  );
  const publication = signPublication(identity, {
    mid: random.bytes(16),
    topic: 'chat.lobby',
    payload: encodeValue({ text: 'hi' }),
    at: clock.now(),
  });
  return { clock, counts, framed, waited, queried, delivered, pubsub, registry, copies, publication };
}

const head = (n: number) => Uint8Array.from([1, 0x10, 0, 0, 0, 0, 0, n]);

describe('a publish the page sent', () => {
  it('accounts for each PUBLISH, waits for what is left of the timeout, and counts as publish() does', async () => {
    const s = setup({ [A]: (r) => Promise.resolve(ack(r, 1)), [B]: (r) => Promise.resolve(ack(r, 0)) });
    const sentAt = s.clock.now();
    s.clock.skip(300);
    const sent = [
      { peer: A, rid: 11, head: head(1) },
      { peer: B, rid: 12, head: head(2) },
    ];
    expect(await s.pubsub.publishedByPage(s.publication, sent, [], false, sentAt, 5_000)).toBe(1);
    expect(s.framed).toEqual([
      [A, head(1)],
      [B, head(2)],
    ]);
    expect(s.waited).toEqual([
      { rid: 11, timeoutMs: 4_700, peer: A },
      { rid: 12, timeoutMs: 4_700, peer: B },
    ]);
    expect(s.counts).toMatchObject({ 'pubsub.published': 1, 'pubsub.sentOnPage': 2, 'pubsub.deliveries': 1 });
  });

  it('a channel closed since the page sent counts as undelivered; what the page left goes the worker way', async () => {
    const s = setup({ [A]: (r) => Promise.resolve(ack(r, 1)), [C]: (r) => Promise.resolve(ack(r, 2)) }, [A]);
    const sent = [
      { peer: A, rid: 11, head: head(1) },
      { peer: B, rid: 12, head: head(2) },
    ];
    expect(await s.pubsub.publishedByPage(s.publication, sent, [C], false, s.clock.now())).toBe(2);
    expect(s.framed).toEqual([[A, head(1)]]);
    expect(s.counts[`pubsub.undelivered.${ErrorCode.NOT_CONNECTED}`]).toBe(1);
    // The same signed publication, with a request id of the worker's own.
    expect(s.queried).toEqual([{ peer: C, body: { rid: 500, ...s.publication } }]);
  });

  it("this tab's own subscriptions: remembered when the page delivered, delivered here when it left them", async () => {
    const fail = () => Promise.reject(new MeshError(ErrorCode.TIMEOUT, 'no answer'));
    const s = setup({ [A]: fail });
    await s.pubsub.subscribe('chat.*');
    const sent = [{ peer: A, rid: 11, head: head(1) }];
    expect(await s.pubsub.publishedByPage(s.publication, sent, [], true, s.clock.now())).toBe(1);
    expect(s.delivered).toEqual([]);
    expect(s.counts).toMatchObject({ 'pubsub.received': 1, [`pubsub.undelivered.${ErrorCode.TIMEOUT}`]: 1 });
    // The same message again (routed, say) is a duplicate.
    s.pubsub.handlePublish({ rid: 1, ...s.publication }, { kind: 'local', capture: () => undefined });
    expect(s.counts['pubsub.duplicates']).toBe(1);
    const other = setup({});
    await other.pubsub.subscribe('chat.lobby');
    expect(await other.pubsub.publishedByPage(other.publication, [], [selfHex], false, other.clock.now())).toBe(1);
    expect(other.delivered).toEqual([{ ids: [1], payload: { text: 'hi' } }]);
  });

  it("tells the page's copy the subscribers the cache serves, and until when, at each read", async () => {
    const s = setup({});
    const sub = (nodeId: string) => ({ nodeId, ttl: 300, advertisedAt: s.clock.now() }) as ProviderInfo;
    s.registry.cacheSubscribers('chat.lobby', [sub(A), sub(B)], 5);
    await s.pubsub.discoverSubscribers('chat.lobby');
    expect(s.copies).toEqual([['chat.lobby', [A, B], s.clock.now() + 5_000]]);
    // Expired, the cache is read again from the DHT (nobody here): the copy says so.
    s.clock.skip(5_000);
    await s.pubsub.discoverSubscribers('chat.lobby');
    expect(s.copies[1]).toEqual(['chat.lobby', [], s.clock.now() + 5_000]);
  });
});
