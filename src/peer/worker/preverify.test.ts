import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../core/environment.js';
import { keyForName, toHex } from '../../core/id.js';
import { createIdentity, memoizedVerifier, verify, type Verifier } from '../../core/identity.js';
import { DhtNode } from '../../core/node/dht-node.js';
import { signRecord } from '../../core/records/records.js';
import { publicationSigningBytes, signPublication } from '../../core/registry/publication.js';
import { encodeFrame, encodeValue } from '../../core/wire/codec.js';
import { EventQueue } from '../../sim/event-queue.js';
import type { ToWorker } from '../bridge-protocol.js';
import { FramePort } from './frame-port.js';
import { Preverifier } from './preverify.js';
import { webEd25519, type WebEd25519 } from '../../crypto/web-ed25519.js';

/**
 * Signatures checked by WebCrypto before the node sees them: which frames are looked into,
 * that only valid signatures are remembered (a forged one is still the node's own check to
 * refuse), and that a frame waiting for its check holds back what the page said after it.
 */

const random = seededRandom(11);
const self = createIdentity(random.bytes);
const publisher = createIdentity(random.bytes);
const NOW = 1_800_000_000_000;

function publishFrame(corrupt = false): { frame: Uint8Array; signature: Uint8Array; signed: Uint8Array } {
  const p = signPublication(publisher, { mid: random.bytes(16), topic: 't', payload: encodeValue({ a: 1 }), at: NOW });
  if (corrupt) p.signature[3]! ^= 1;
  return {
    frame: encodeFrame('PUBLISH', { rid: 1, ...p }),
    signature: p.signature,
    signed: publicationSigningBytes(p),
  };
}

/** The core's memoizing verifier around @noble/curves, counting what reaches @noble/curves. */
function counted(): { memo: ReturnType<typeof memoizedVerifier>; calls: () => number } {
  let calls = 0;
  const inner: Verifier = (s, m, k) => {
    calls++;
    return verify(s, m, k);
  };
  return { memo: memoizedVerifier(inner), calls: () => calls };
}

async function preverifier() {
  const web = (await webEd25519())!;
  const { memo, calls } = counted();
  const counts: string[] = [];
  const pre = new Preverifier(
    web,
    memo,
    self.nodeId,
    () => NOW,
    (name) => counts.push(name),
  );
  return { pre, memo, calls, counts };
}

describe('preverification', () => {
  it('a valid PUBLISH is checked once by WebCrypto, and the node then finds it remembered', async () => {
    const { pre, memo, calls, counts } = await preverifier();
    const { frame, signature, signed } = publishFrame();
    const found = pre.signedIn(frame);
    expect(found).toHaveLength(1);
    await pre.check(found);
    expect(counts).toEqual(['signatures.preverified']);
    expect(memo(signature, signed, publisher.publicKey)).toBe(true);
    expect(calls()).toBe(0);
    // Seen valid lately: not looked into again.
    expect(pre.signedIn(frame)).toEqual([]);
  });

  it('a forged one is not remembered: the node refuses it with its own check', async () => {
    const { pre, memo, calls, counts } = await preverifier();
    const { frame, signature, signed } = publishFrame(true);
    await pre.check(pre.signedIn(frame));
    expect(counts).toEqual(['signatures.preverifyRefused']);
    expect(memo(signature, signed, publisher.publicKey)).toBe(false);
    expect(calls()).toBe(1);
  });

  it('records in an envelope that ends here are looked into; envelopes passing through and unsigned frames are not', async () => {
    const { pre } = await preverifier();
    const record = signRecord(
      {
        kind: 'provider',
        key: keyForName('svc'),
        endpoint: `peer:${publisher.nodeIdHex}`,
        metadata: {},
        advertisedAt: NOW,
        ttl: 300,
      },
      publisher,
    );
    const reply = encodeFrame('FIND_VALUE_REPLY', {
      rid: 1,
      key: record.key,
      kind: 'provider',
      records: [record],
      nodes: [],
    });
    const envelope = (dest: Uint8Array): Uint8Array =>
      encodeFrame('RPC_ROUTE', {
        dest,
        src: publisher.nodeId,
        hops: 1,
        max: 4,
        exact: true,
        path: [publisher.nodeId],
        hid: 0,
        body: reply,
      });
    expect(pre.signedIn(reply)).toHaveLength(1);
    expect(pre.signedIn(envelope(self.nodeId))).toHaveLength(1);
    expect(pre.signedIn(envelope(random.bytes(32)))).toEqual([]);
    expect(pre.signedIn(encodeFrame('PING', { rid: 1 }))).toEqual([]);
    expect(pre.signedIn(new Uint8Array([1, 0x10, 0, 0, 0, 0, 0, 9, 0xc1]))).toEqual([]);
  });
});

const opened: MessagePort[] = [];
afterEach(() => {
  for (const p of opened.splice(0)) p.close();
});

describe('the bridge with preverification', () => {
  it('a frame waiting for its check holds back what the page said after it, so the node sees it all in order', async () => {
    let release: () => void = () => undefined;
    const real = (await webEd25519())!;
    const held: WebEd25519 = {
      ...real,
      verify: (s, m, k) => new Promise((r) => (release = () => void real.verify(s, m, k).then(r))),
    };
    const channel = new MessageChannel();
    opened.push(channel.port1, channel.port2);
    const port = new FramePort(channel.port2);
    const nodeRandom = seededRandom(5);
    const node = new DhtNode({
      identity: self,
      transport: port.transport,
      clock: new EventQueue(),
      random: nodeRandom,
    });
    port.attach(
      node,
      new Preverifier(
        held,
        memoizedVerifier(),
        self.nodeId,
        () => NOW,
        (n) => node.count(n),
      ),
    );
    const peer = toHex(createIdentity(nodeRandom.bytes).nodeId);
    const toWorker = (m: ToWorker): void => channel.port1.postMessage(m);
    toWorker({ t: 'open', peer });
    toWorker({ t: 'frame', peer, frame: publishFrame().frame });
    toWorker({ t: 'close', peer });
    const until = async (done: () => boolean): Promise<void> => {
      for (let waited = 0; !done() && waited < 5_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    };
    await until(() => node.neighbours.size === 1);
    await new Promise((r) => setTimeout(r, 30));
    // The channel is still open for the node: its close waits behind the frame.
    expect(node.neighbours.has(peer)).toBe(true);
    expect(node.stats()['messages.in']).toBe(0);
    release();
    await until(() => node.neighbours.size === 0);
    expect(node.stats()['messages.in']).toBe(1);
    expect(node.stats()['frames.fromStranger']).toBe(0);
    expect(node.stats()['signatures.preverified']).toBe(1);
  });
});
