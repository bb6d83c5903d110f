/**
 * What one step on a lookup's, a call's or a publish's way costs on a page's own thread,
 * each timed alone in a loop (bench/browser-trace.ts reports them beside the crossings that
 * trace-hooks.ts notes): MessagePack encoding and decoding of the frames those operations
 * send, Ed25519 signing and verification in pure JS (@noble/curves, what the simulator uses)
 * and through WebCrypto where the browser has it, and the record check a lookup runs on
 * each record it receives. Medians in ms.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { encodeFrame, decodeFrame } from '../src/core/wire/codec.js';
import { createIdentity, verify } from '../src/core/identity.js';
import { checkRecord, signRecord, recordSigningBytes } from '../src/core/records/records.js';
import { publicationSigningBytes, signPublication } from '../src/core/registry/publication.js';
import { cryptoRandom } from '../src/core/environment.js';
import { keyForName } from '../src/core/id.js';
import { encodeValue } from '../src/core/wire/codec.js';

async function median(n: number, op: () => unknown): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await op();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return ms[Math.floor(ms.length / 2)]!;
}

/** The WebCrypto Ed25519 keys of `secretKey`, or undefined where the browser has no Ed25519. */
async function webCryptoKeys(secretKey: Uint8Array, publicKey: Uint8Array) {
  try {
    const b64 = (b: Uint8Array): string =>
      btoa(String.fromCharCode(...b))
        .replace(/\+/g, '-')
        .replace(/\//g, '_')
        .replace(/=+$/, '');
    const jwk = { kty: 'OKP', crv: 'Ed25519', d: b64(secretKey), x: b64(publicKey) };
    const priv = await crypto.subtle.importKey('jwk', jwk, { name: 'Ed25519' }, false, ['sign']);
    const pub = await crypto.subtle.importKey('raw', publicKey as BufferSource, { name: 'Ed25519' }, false, ['verify']);
    return { priv, pub };
  } catch {
    return undefined;
  }
}

export async function pathCosts(n: number): Promise<Record<string, number>> {
  const identity = createIdentity((k) => cryptoRandom.bytes(k));
  const record = signRecord(
    {
      kind: 'provider',
      key: keyForName('bench.echo'),
      endpoint: `peer:${identity.nodeIdHex}`,
      metadata: {},
      advertisedAt: Date.now(),
      ttl: 300,
    },
    identity,
  );
  const nodes = Array.from({ length: 7 }, () => cryptoRandom.bytes(32));
  const valueReply = encodeFrame('FIND_VALUE_REPLY', {
    rid: 1,
    key: record.key,
    kind: 'provider',
    records: [record],
    nodes,
  });
  const call = encodeFrame('CALL', { rid: 1, service: 'bench.echo', args: { n: 1 } });
  const publication = signPublication(identity, {
    mid: cryptoRandom.bytes(16),
    topic: 'bench.topic',
    payload: encodeValue({ sentAt: Date.now() }),
    at: Date.now(),
  });
  const publish = encodeFrame('PUBLISH', { rid: 1, ...publication });
  const pubBytes = publicationSigningBytes(publication);
  const recBytes = recordSigningBytes(record);
  const costs: Record<string, number> = {
    'FIND_VALUE_REPLY encode (1 record, 7 nodes)': await median(n, () =>
      encodeFrame('FIND_VALUE_REPLY', { rid: 1, key: record.key, kind: 'provider', records: [record], nodes }),
    ),
    'FIND_VALUE_REPLY decode': await median(n, () => decodeFrame(valueReply)),
    'CALL encode': await median(n, () => encodeFrame('CALL', { rid: 1, service: 'bench.echo', args: { n: 1 } })),
    'CALL decode': await median(n, () => decodeFrame(call)),
    'PUBLISH encode': await median(n, () => encodeFrame('PUBLISH', { rid: 1, ...publication })),
    'PUBLISH decode': await median(n, () => decodeFrame(publish)),
    'record check, signature trusted (shape, expiry)': await median(n, () =>
      checkRecord(record, Date.now(), () => true),
    ),
    'Ed25519 sign, @noble/curves': await median(n, () => ed25519.sign(pubBytes, identity.secretKey)),
    'Ed25519 verify, @noble/curves': await median(n, () => verify(publication.signature, pubBytes, identity.publicKey)),
  };
  const keys = await webCryptoKeys(identity.secretKey, identity.publicKey);
  if (keys !== undefined) {
    costs['Ed25519 sign, WebCrypto (await)'] = await median(n, () =>
      crypto.subtle.sign('Ed25519', keys.priv, pubBytes as BufferSource),
    );
    costs['Ed25519 verify, WebCrypto (await)'] = await median(n, () =>
      crypto.subtle.verify('Ed25519', keys.pub, record.signature as BufferSource, recBytes as BufferSource),
    );
  }
  return costs;
}
