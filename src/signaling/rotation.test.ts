import { describe, expect, it, vi } from 'vitest';
import type { Clock } from '../core/environment.js';
import { createIdentity, type Identity } from '../core/identity.js';
import { asyncEd25519 } from '../crypto/async-ed25519.js';
import { createSignalingClient, type SignalingClient, type WebSocketLike } from './client.js';
import { manualClock } from '../core/manual-clock.js';

/**
 * A bootstrap list fails over in order: these drive the signaling client with sockets and
 * time that the test controls, so every attempt, its URL and its delay can be checked.
 */

const newIdentity = (): Identity => createIdentity((n) => crypto.getRandomValues(new Uint8Array(n)));

/** A socket that does nothing until the test makes the relay at its URL answer, or refuse. */
class FakeSocket implements WebSocketLike {
  static made: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  onmessage: ((event: never) => unknown) | null = null;
  onclose: ((event: never) => unknown) | null = null;
  onerror: ((event: never) => unknown) | null = null;

  constructor(readonly url: string) {
    FakeSocket.made.push(this);
  }

  send(data: string): void {
    this.sent.push(data);
  }

  close(): void {
    this.readyState = 3;
  }

  /** Nothing listens there: the socket closes without ever opening. */
  refuse(): void {
    this.readyState = 3;
    (this.onclose as ((e: { code: number }) => void) | null)?.({ code: 1006 });
  }

  /** A relay admits `identity`: challenge, (the client's hello, signed asynchronously), welcome. */
  async admit(identity: Identity): Promise<void> {
    this.readyState = 1;
    this.deliver({ t: 'challenge', nonce: 'ab'.repeat(32) });
    await vi.waitFor(() => expect(this.sent.length).toBeGreaterThan(0));
    expect(JSON.parse(this.sent.at(-1)!)).toMatchObject({ t: 'hello' });
    this.deliver({ t: 'welcome', nodeId: identity.nodeIdHex, peers: [] });
  }

  drop(): void {
    this.refuse();
  }

  private deliver(frame: object): void {
    (this.onmessage as ((e: { data: string }) => void) | null)?.({ data: JSON.stringify(frame) });
  }
}

function start(urls: string[], identity: Identity, clock: Clock, learned?: () => readonly string[]): SignalingClient {
  FakeSocket.made = [];
  // random 0: every delay is exactly half the capped backoff (500 ms doubled per failed attempt).
  return createSignalingClient({
    url: urls,
    ...(learned ? { learned } : {}),
    identity,
    realm: 'test',
    WebSocketImpl: FakeSocket,
    ed25519: asyncEd25519(),
    clock,
    random: () => 0,
  });
}

const DEAD = 'ws://127.0.0.1:9/relay';
const LIVE = 'ws://127.0.0.1:8787/relay';

describe('signaling client: a bootstrap list', () => {
  it('[dead, live]: the first attempt fails, the next goes to the live relay and is admitted there', async () => {
    const identity = newIdentity();
    const clock = manualClock();
    const client = start([DEAD, LIVE], identity, clock);
    expect(FakeSocket.made.map((s) => s.url)).toEqual([DEAD]);
    FakeSocket.made[0]!.refuse();
    expect(client.status).toBe('connecting');
    expect(client.url).toBe(LIVE);
    clock.advance(clock.delays.at(-1)!);
    expect(FakeSocket.made.map((s) => s.url)).toEqual([DEAD, LIVE]);
    await FakeSocket.made[1]!.admit(identity);
    expect(client.status).toBe('open');
    expect(client.url).toBe(LIVE);
    client.close();
  });

  it('all dead: tried in order, wrapping round, with the backoff still growing per failed attempt', () => {
    const identity = newIdentity();
    const clock = manualClock();
    const urls = ['ws://a.invalid/relay', 'ws://b.invalid/relay', 'ws://c.invalid/relay'];
    const client = start(urls, identity, clock);
    for (let i = 0; i < 7; i++) {
      FakeSocket.made.at(-1)!.refuse();
      clock.advance(clock.delays.at(-1)!);
    }
    expect(FakeSocket.made.map((s) => s.url)).toEqual([...urls, ...urls, urls[0]!, urls[1]!]);
    expect(clock.delays).toEqual([250, 500, 1_000, 2_000, 4_000, 8_000, 15_000]);
    client.close();
  });

  it('a relay that dropped an admitted socket is retried first, and left for the next one only when that fails', async () => {
    const identity = newIdentity();
    const clock = manualClock();
    const [first, second] = ['ws://first.invalid/relay', 'ws://second.invalid/relay'];
    const client = start([first, second], identity, clock);
    await FakeSocket.made[0]!.admit(identity);
    FakeSocket.made[0]!.drop();
    clock.advance(clock.delays.at(-1)!);
    expect(FakeSocket.made.map((s) => s.url)).toEqual([first, first]);
    FakeSocket.made[1]!.refuse();
    clock.advance(clock.delays.at(-1)!);
    expect(FakeSocket.made.map((s) => s.url)).toEqual([first, first, second]);
    await FakeSocket.made[2]!.admit(identity);
    expect(client.status).toBe('open');
    // Admission reset the backoff: the first retry after a drop is quick again.
    FakeSocket.made[2]!.drop();
    expect(clock.delays.at(-1)).toBe(250);
    client.close();
  });

  it('one URL behaves as before: every retry goes back to it', () => {
    const identity = newIdentity();
    const clock = manualClock();
    const client = start([LIVE], identity, clock);
    for (let i = 0; i < 3; i++) {
      FakeSocket.made.at(-1)!.refuse();
      clock.advance(clock.delays.at(-1)!);
    }
    expect(FakeSocket.made.map((s) => s.url)).toEqual([LIVE, LIVE, LIVE, LIVE]);
    expect(() =>
      createSignalingClient({ url: [], identity, realm: 'test', WebSocketImpl: FakeSocket, ed25519: asyncEd25519() }),
    ).toThrow(/url/);
    expect(() =>
      createSignalingClient({
        url: [LIVE, 'http://x'],
        identity,
        realm: 'test',
        WebSocketImpl: FakeSocket,
        ed25519: asyncEd25519(),
      }),
    ).toThrow(/url/);
    client.close();
  });

  it('a relay named twice is tried once per round', () => {
    const identity = newIdentity();
    const clock = manualClock();
    const client = start([DEAD, DEAD, LIVE], identity, clock);
    FakeSocket.made[0]!.refuse();
    clock.advance(clock.delays.at(-1)!);
    expect(FakeSocket.made.map((s) => s.url)).toEqual([DEAD, LIVE]);
    client.close();
  });
});

describe('signaling client: relays learned from the DHT', () => {
  const LEARNED = 'ws://learned.invalid:8788/relay';

  it('when its only bootstrap relay goes away, the peer retries it once, then moves on to a learned relay', async () => {
    const identity = newIdentity();
    const clock = manualClock();
    const learned: string[] = [];
    const client = start([LIVE], identity, clock, () => learned);
    await FakeSocket.made[0]!.admit(identity);
    learned.push(LEARNED, LIVE); // learned after joining; its own relay advertised too, not tried twice
    FakeSocket.made[0]!.drop();
    clock.advance(clock.delays.at(-1)!);
    FakeSocket.made[1]!.refuse();
    clock.advance(clock.delays.at(-1)!);
    expect(FakeSocket.made.map((s) => s.url)).toEqual([LIVE, LIVE, LEARNED]);
    await FakeSocket.made[2]!.admit(identity);
    expect(client.status).toBe('open');
    expect(client.url).toBe(LEARNED);
    client.close();
  });

  it('bootstrap relays first, in order, then learned ones; the round wraps back to the bootstrap list', () => {
    const identity = newIdentity();
    const clock = manualClock();
    const other = 'ws://other.invalid/relay';
    const client = start([DEAD, LIVE], identity, clock, () => [LEARNED, other, 'http://not-a-relay/']);
    for (let i = 0; i < 5; i++) {
      FakeSocket.made.at(-1)!.refuse();
      clock.advance(clock.delays.at(-1)!);
    }
    expect(FakeSocket.made.map((s) => s.url)).toEqual([DEAD, LIVE, LEARNED, other, DEAD, LIVE]);
    // The backoff grows across the whole round, learned relays included.
    expect(clock.delays).toEqual([250, 500, 1_000, 2_000, 4_000]);
    client.close();
  });

  it('a learned relay forgotten while it was being tried hands over to the first bootstrap relay', () => {
    const identity = newIdentity();
    const clock = manualClock();
    let learned = [LEARNED];
    const client = start([DEAD], identity, clock, () => learned);
    FakeSocket.made[0]!.refuse();
    clock.advance(clock.delays.at(-1)!);
    expect(FakeSocket.made.at(-1)!.url).toBe(LEARNED);
    learned = [];
    FakeSocket.made.at(-1)!.refuse();
    clock.advance(clock.delays.at(-1)!);
    expect(FakeSocket.made.map((s) => s.url)).toEqual([DEAD, LEARNED, DEAD]);
    client.close();
  });
});
