import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { IdHex } from '../src/core/id.js';
import { createIdentity } from '../src/core/identity.js';
import { asyncEd25519 } from '../src/crypto/async-ed25519.js';
import { createSignalingClient, type SignalingClient } from '../src/signaling/client.js';
import { freshSignal } from '../src/signaling/protocol.js';

/**
 * Relay clients that attack a tab's connection budget: admitted identities (they answer
 * the relay's challenge like any tab) that send the target correctly signed offers whose
 * SDP is junk. Each such offer, answered with a new RTCPeerConnection, costs the target
 * one of the few hundred its page may ever create. Every offer is a new session of its
 * own, freshly stamped: the sender holds its key, so no freshness check stops these.
 */

/** The junk every offer carries: signed, addressed and well formed, but no SDP. */
export const JUNK_OFFER = { type: 'offer', sdp: 'junk' } as const;

async function admitted(relayUrl: string): Promise<SignalingClient> {
  const client = createSignalingClient({
    url: relayUrl,
    identity: createIdentity((n) => new Uint8Array(randomBytes(n))),
    realm: 'default',
    WebSocketImpl: WebSocket,
    ed25519: asyncEd25519(),
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the relay did not admit the flooder')), 10_000);
    client.on('welcome', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return client;
}

/**
 * One identity sending junk offers to `target` at `perSecond` (the relay allows a socket
 * 100 messages a second) for `seconds`. Resolves with how many went out.
 */
export async function floodFromOne(
  relayUrl: string,
  target: IdHex,
  perSecond: number,
  seconds: number,
): Promise<number> {
  const client = await admitted(relayUrl);
  let sent = 0;
  try {
    for (let tick = 0; tick < seconds * 10; tick++) {
      for (let i = 0; i < perSecond / 10; i++) if (client.sendSignal(target, freshSignal(JUNK_OFFER))) sent++;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    client.close();
  }
  return sent;
}

/** `ids` throw-away identities, each admitted, sending `each` junk offers to `target` and leaving. */
export async function floodFromMany(relayUrl: string, target: IdHex, ids: number, each: number): Promise<number> {
  let sent = 0;
  for (let n = 0; n < ids; n++) {
    const client = await admitted(relayUrl);
    for (let i = 0; i < each; i++) if (client.sendSignal(target, freshSignal(JUNK_OFFER))) sent++;
    // Let the relay forward them before the socket goes.
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.close();
  }
  return sent;
}
