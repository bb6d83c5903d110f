import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { IdHex } from '../../core/id.js';
import { createIdentity, type Identity } from '../../core/identity.js';
import { startRelay, type Relay } from '../../relay/relay.js';
import { createSignalingClient, type IncomingSignal, type SignalingClient } from '../../signaling/client.js';
import { freshSignal, type StampedSignal } from '../../signaling/protocol.js';
import { RelayLinks } from './relay-links.js';
import { asyncEd25519 } from '../../crypto/async-ed25519.js';

/**
 * A peer holding several relay links (what a relay's own peer does: its relay plus each one
 * it joins), against real relays: introductions from every link reach one connection
 * manager, and a signal goes through the link its target was heard on.
 */

const newIdentity = (): Identity => createIdentity((n) => crypto.getRandomValues(new Uint8Array(n)));
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function relay(): Promise<Relay> {
  const r = await startRelay({ port: 0, host: '127.0.0.1' });
  cleanup.push(() => r.close());
  return r;
}

/** A plain signaling client standing for a tab at `url`; resolves once admitted. */
async function tab(url: string): Promise<SignalingClient & { nodeId: IdHex; got: IncomingSignal[] }> {
  const identity = newIdentity();
  const c = createSignalingClient({ url, identity, realm: 'test', WebSocketImpl: WebSocket, ed25519: asyncEd25519() });
  cleanup.push(() => c.close());
  const got: IncomingSignal[] = [];
  c.on('signal', (s) => got.push(s));
  await new Promise<void>((resolve) => c.on('welcome', () => resolve()));
  return Object.assign(c, { nodeId: identity.nodeIdHex, got });
}

/** The connection manager's side, recording what the links ask of it. */
function channels() {
  return {
    openCount: 0,
    failuresTotal: 0,
    dialled: [] as IdHex[],
    signals: [] as Array<{ from: IdHex; viaRelay: boolean }>,
    connect(peer: IdHex) {
      this.dialled.push(peer);
      return true;
    },
    disconnect: () => undefined,
    signal(from: IdHex, _s: StampedSignal, viaRelay: boolean) {
      this.signals.push({ from, viaRelay });
    },
  };
}

const until = async (what: () => boolean, ms = 5_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('RelayLinks: one peer, several relays', () => {
  it('introductions from each relay reach the one manager; signals leave through the link that knows the target', async () => {
    const [a, b] = [await relay(), await relay()];
    const x = await tab(a.address);
    const y = await tab(b.address);
    const ch = channels();
    const status: Array<[boolean, string, number]> = [];
    const links = new RelayLinks({
      links: [[a.address], [b.address]],
      identity: newIdentity(),
      realm: 'test',
      channels: ch,
      onIce: () => undefined,
      onStatus: (up, url, link) => status.push([up, url, link]),
      needsIntroductions: async () => false,
      WebSocketImpl: WebSocket,
    });
    cleanup.push(() => links.close());
    await links.welcomed;
    await until(() => ch.dialled.includes(x.nodeId) && ch.dialled.includes(y.nodeId));
    expect(links.routeOf(x.nodeId)).toBe(0);
    expect(links.routeOf(y.nodeId)).toBe(1);
    expect(status).toEqual(
      expect.arrayContaining([
        [true, a.address, 0],
        [true, b.address, 1],
      ]),
    );

    expect(links.sendSignal(y.nodeId, freshSignal({ sdp: 'to y' }))).toBe(true);
    expect(links.sendSignal(x.nodeId, freshSignal({ sdp: 'to x' }))).toBe(true);
    await until(() => x.got.length === 1 && y.got.length === 1);
    expect(y.got[0]!.data).toEqual({ sdp: 'to y' });
    expect(x.got[0]!.data).toEqual({ sdp: 'to x' });
    // Each went through its own relay only: nothing was sent where the target is not admitted.
    expect(a.stats().signalsForwarded).toBe(1);
    expect(b.stats().signalsForwarded).toBe(1);
    expect(a.stats().errors.UNREACHABLE + b.stats().errors.UNREACHABLE).toBe(0);
  });

  it('a signal from a peer teaches its route; with that link down the others are tried in order', async () => {
    const [a, b] = [await relay(), await relay()];
    const ch = channels();
    const identity = newIdentity();
    const links = new RelayLinks({
      links: [[a.address], [b.address]],
      identity,
      realm: 'test',
      channels: ch,
      onIce: () => undefined,
      needsIntroductions: async () => false,
      WebSocketImpl: WebSocket,
    });
    cleanup.push(() => links.close());
    await until(() => links.status().every((l) => l.connected));
    // A tab arriving at B after the peer: not introduced, but it signals the peer first.
    const late = await tab(b.address);
    expect(late.sendSignal(identity.nodeIdHex, freshSignal({ sdp: 'hello' }))).toBe(true);
    await until(() => ch.signals.some((s) => s.from === late.nodeId));
    expect(ch.signals.find((s) => s.from === late.nodeId)?.viaRelay).toBe(true);
    expect(links.routeOf(late.nodeId)).toBe(1);

    // Unknown targets go to the first link that is up.
    const stranger = newIdentity().nodeIdHex;
    expect(links.sendSignal(stranger, freshSignal(1))).toBe(true);
    await until(() => a.stats().errors.UNREACHABLE === 1);
    expect(links.routeOf(stranger)).toBeUndefined();

    await b.close();
    await until(() => !links.status()[1]!.connected);
    // B is gone: the signal to `late` is offered to A (which will answer UNREACHABLE), not dropped unsent.
    expect(links.sendSignal(late.nodeId, freshSignal(2))).toBe(true);
    await until(() => a.stats().errors.UNREACHABLE === 2);
    expect(links.connected).toBe(true);
    await a.close();
    await until(() => !links.connected);
    expect(links.sendSignal(late.nodeId, freshSignal(3))).toBe(false);
  });

  it('needs a link', () => {
    expect(
      () =>
        new RelayLinks({
          links: [],
          identity: newIdentity(),
          realm: 'test',
          channels: channels(),
          onIce: () => undefined,
          needsIntroductions: async () => false,
        }),
    ).toThrow(TypeError);
  });
});
