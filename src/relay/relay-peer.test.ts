import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { parseArgs, type ServeArgs } from '../cli/args.js';
import { federationOf } from '../cli/serve.js';
import { startDemoServer } from './demo-server.js';
import { startRelay, type Relay } from './relay.js';
import type { RelayPeerInit } from './relay-peer.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The relay's seam for a DHT peer of its own: what the factory is given, when, and when it is closed. */

const closing: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const c of closing.splice(0)) await c.close();
});

describe('relay: its own peer (RelayPeerFactory)', () => {
  it('without a factory nothing starts, and the relay runs as before', async () => {
    const relay = await startRelay({ port: 0, host: '127.0.0.1' });
    closing.push(relay);
    expect(await relay.peerStarted).toBe(false);
  });

  it('the factory gets the relay endpoint, the relays to join and the public URL; its peer is closed before the sockets', async () => {
    const inits: RelayPeerInit[] = [];
    let socketsWhenClosed = -1;
    let relay: Relay | undefined;
    relay = await startRelay({
      port: 0,
      host: '127.0.0.1',
      federation: {
        join: ['ws://a.example.org/relay'],
        publicUrl: 'wss://me.example.org/relay',
        peer: (init) => {
          inits.push(init);
          return { close: () => void (socketsWhenClosed = relay!.stats().socketsOpen) };
        },
      },
    });
    expect(await relay.peerStarted).toBe(true);
    expect(inits).toEqual([
      { ownUrl: relay.address, joinUrls: ['ws://a.example.org/relay'], publicUrl: 'wss://me.example.org/relay' },
    ]);
    const socket = new WebSocket(relay.address);
    await new Promise((resolve) => socket.once('message', resolve));
    await relay.close();
    // The peer left while the relay still held its sockets (it can still say goodbye through it).
    expect(socketsWhenClosed).toBe(1);
  });

  it("reports its peer's node id while the peer runs, and none once the relay closes", async () => {
    const id = 'ab'.repeat(32);
    const relay = await startRelay({
      port: 0,
      host: '127.0.0.1',
      federation: { peer: () => ({ nodeId: id, close() {} }) },
    });
    expect(await relay.peerStarted).toBe(true);
    expect(relay.peerId).toBe(id);
    await relay.close();
    expect(relay.peerId).toBeUndefined();
    const without = await startRelay({ port: 0, host: '127.0.0.1' });
    closing.push(without);
    expect(without.peerId).toBeUndefined();
  });

  it('public URL defaults to the listening address; a failing factory rejects peerStarted and close still works', async () => {
    let got: RelayPeerInit | undefined;
    const relay = await startRelay({
      port: 0,
      host: '127.0.0.1',
      federation: { peer: (init) => ((got = init), { close() {} }) },
    });
    closing.push(relay);
    await relay.peerStarted;
    expect(got).toEqual({ ownUrl: relay.address, joinUrls: [], publicUrl: relay.address });

    const failing = await startRelay({
      port: 0,
      host: '127.0.0.1',
      federation: {
        peer: () => {
          throw new Error('no WebRTC here');
        },
      },
    });
    await expect(failing.peerStarted).rejects.toThrow('no WebRTC here');
    await failing.close();
  });

  it('npm start (the demo server): the peer starts once the shared server listens, with its ws:// endpoint', async () => {
    const root = mkdtempSync(join(tmpdir(), 'demo-'));
    writeFileSync(join(root, 'index.html'), '<!doctype html>');
    let got: RelayPeerInit | undefined;
    const demo = await startDemoServer({
      root,
      port: 0,
      host: '127.0.0.1',
      federation: { peer: (init) => ((got = init), { close() {} }) },
    });
    closing.push(demo);
    expect(await demo.relay.peerStarted).toBe(true);
    expect(got?.ownUrl).toBe(`ws://127.0.0.1:${demo.port}/relay`);
  });
});

describe('command line: what the relay peer gets from the flags', () => {
  const args = (argv: string[]): ServeArgs => parseArgs(argv, {}) as ServeArgs;
  const factory = () => ({ close() {} });

  it('with a factory: joins and public URL passed on; --no-peer starts none', () => {
    const { federation } = federationOf(
      args(['relay', '--join', 'ws://a/relay', '--public-url', 'ws://b:8788/relay']),
      factory,
    );
    expect(federation).toEqual({ peer: factory, join: ['ws://a/relay'], publicUrl: 'ws://b:8788/relay' });
    expect(federationOf(args(['relay', '--no-peer']), factory)).toMatchObject({ federation: undefined });
  });

  it('without @roamhq/wrtc: signaling only, saying which package is missing, and --join is refused, not ignored', () => {
    const missing = { missing: "the relay's own DHT peer needs @roamhq/wrtc" };
    expect(federationOf(args(['demo']), missing)).toMatchObject({
      federation: undefined,
      note: /@roamhq\/wrtc.*signaling only/,
    });
    expect(() => federationOf(args(['relay', '--join', 'ws://a/relay']), missing)).toThrow(/--join.*@roamhq\/wrtc/);
  });
});
