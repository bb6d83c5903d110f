import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createServer } from 'node:net';
import { createIdentity } from '../../core/identity.js';
import type { WebSocketConstructor } from '../../signaling/client.js';
import { startRelay, type Relay } from '../../relay/relay.js';
import { RelayLink } from './relay-link.js';

/** relayStatus() is RelayLink.status(): what an app sees at start, whether or not a relay answered. */

const links: RelayLink[] = [];
const relays: Relay[] = [];
afterEach(async () => {
  for (const l of links.splice(0)) l.close();
  for (const r of relays.splice(0)) await r.close();
});

function link(urls: string[], onStatus?: (up: boolean, url: string) => void): RelayLink {
  const l = new RelayLink({
    urls,
    identity: createIdentity((n) => crypto.getRandomValues(new Uint8Array(n))),
    realm: 'test',
    channels: {
      openCount: 0,
      connect: () => false,
      disconnect: () => undefined,
      signal: () => undefined,
      failuresTotal: 0,
    },
    onIce: () => undefined,
    ...(onStatus ? { onStatus } : {}),
    needsIntroductions: async () => false,
    WebSocketImpl: WebSocket as unknown as WebSocketConstructor,
  });
  links.push(l);
  return l;
}

/** A loopback port nothing listens on (taken, then released). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('RelayLink.status', () => {
  it('says down, naming the relay it tries, while no relay can be reached', async () => {
    const dead = `ws://127.0.0.1:${await deadPort()}/relay`;
    const events: boolean[] = [];
    const l = link([dead], (up) => events.push(up));
    expect(l.status()).toEqual({ up: false, url: dead });
    // However long it keeps trying, it never says up, and no relay:up was emitted.
    await new Promise((r) => setTimeout(r, 300));
    expect(l.status()).toEqual({ up: false, url: dead });
    expect(events).toEqual([]);
  });

  it('says up with the relay that admitted the tab, after failing over from a dead one; down once closed', async () => {
    const relay = await startRelay({ port: 0, host: '127.0.0.1' });
    relays.push(relay);
    const dead = `ws://127.0.0.1:${await deadPort()}/relay`;
    const l = link([dead, relay.address]);
    await l.welcomed;
    expect(l.status()).toEqual({ up: true, url: relay.address });
    l.close();
    expect(l.status().up).toBe(false);
  });
});

describe("RelayLink: the welcome's introductions", () => {
  it("dials the first in the welcome's task and the others (three in all) a task later", async () => {
    const relay = await startRelay({ port: 0, host: '127.0.0.1' });
    relays.push(relay);
    for (let i = 0; i < 4; i++) await link([relay.address]).welcomed;
    const dialled: string[] = [];
    const newcomer = new RelayLink({
      urls: [relay.address],
      identity: createIdentity((n) => crypto.getRandomValues(new Uint8Array(n))),
      realm: 'test',
      channels: {
        openCount: 0,
        connect: (peer) => (dialled.push(peer), true),
        disconnect: () => undefined,
        signal: () => undefined,
        failuresTotal: 0,
      },
      onIce: () => undefined,
      needsIntroductions: async () => false,
      WebSocketImpl: WebSocket as unknown as WebSocketConstructor,
    });
    links.push(newcomer);
    // welcomed resolves in the welcome's task, before the first dial: its continuations run right after that task.
    const atWelcome = await newcomer.welcomed.then(() => dialled.length);
    expect(atWelcome).toBe(1);
    await new Promise((r) => setTimeout(r, 20));
    expect(dialled).toHaveLength(3);
    expect(new Set(dialled).size).toBe(3);
  });
});
