/**
 * The relay's side of the two signatures of the relay protocol (src/signaling/auth.ts has
 * the payloads and the page's side), done with node:crypto throughout: the relay checks
 * one hello per socket and every signal it forwards, so these are its hottest paths.
 *
 * - A hello's node id is the SHA-256 of its key: hashed natively, not with the pure-JS
 *   hash the page uses.
 * - A hello can be checked on libuv's thread pool (checkHelloOnPool): the relay's event loop
 *   then carries only the sockets' I/O while the verifications run beside it, which is what
 *   lets a burst of newcomers through faster than one core verifies them.
 * - A signal is checked against the key its socket was admitted with, so the relay neither
 *   decodes nor hashes a key per signal; `from` and `fromKey` are the relay's own stamp.
 * - The delivered frame reuses the data's JSON, already made for the signed payload,
 *   instead of encoding the data a second time.
 */
import { createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type { IdHex } from '../core/id.js';
import { helloPayload, signalPayload } from '../signaling/auth.js';
import { isPublicKeyHex, isSignatureHex, type HelloMessage, type SignalRequest } from '../signaling/protocol.js';
import { importEd25519PublicKey, verifyEd25519 } from './node-ed25519.js';

/** What a verified hello proves: the socket holds this key, whose hash is this node id. */
export interface AdmittedKey {
  readonly nodeId: IdHex;
  readonly publicKeyHex: string;
  readonly key: KeyObject;
}

interface HelloToCheck {
  readonly admitted: AdmittedKey;
  readonly payload: Buffer;
  readonly signature: Buffer;
}

/** Everything but the verification itself; null when the hello cannot be genuine. Never throws. */
function prepareHello(nonce: string, hello: HelloMessage): HelloToCheck | null {
  if (!isPublicKeyHex(hello.publicKey) || !isSignatureHex(hello.signature)) return null;
  const raw = Buffer.from(hello.publicKey, 'hex');
  const key = importEd25519PublicKey(raw);
  if (key === null) return null;
  const nodeId = createHash('sha256').update(raw).digest('hex');
  return {
    admitted: { nodeId, publicKeyHex: hello.publicKey, key },
    payload: Buffer.from(helloPayload(nonce, nodeId, hello.realm)),
    signature: Buffer.from(hello.signature, 'hex'),
  };
}

/**
 * The key a hello proves for `nonce`, or null, verified on libuv's thread pool; `done` runs
 * on the event loop, later (never before this returns). Never throws.
 */
export function checkHelloOnPool(nonce: string, hello: HelloMessage, done: (result: AdmittedKey | null) => void): void {
  const prepared = prepareHello(nonce, hello);
  if (prepared === null) {
    queueMicrotask(() => done(null));
    return;
  }
  try {
    cryptoVerify(null, prepared.payload, prepared.admitted.key, prepared.signature, (err, ok) =>
      done(err === null && ok ? prepared.admitted : null),
    );
  } catch {
    queueMicrotask(() => done(null));
  }
}

/**
 * Whether `sender` signed `signal` (its data as `dataJson`, its stamp) for its recipient,
 * exactly as the receiving page will check it (verifySignal). Never throws.
 */
export function checkSignal(sender: AdmittedKey, signal: SignalRequest, dataJson: string): boolean {
  const payload = signalPayload(sender.nodeId, signal.to, signal, dataJson);
  return verifyEd25519(sender.key, Buffer.from(signal.signature, 'hex'), payload);
}

/**
 * The frame delivering `signal` from `sender`: the same JSON object encodeMessage makes of
 * a SignalDelivery, field for field. Every field but the data is hex or an integer that the
 * parser checked (parseClientMessage), so none needs escaping; `dataJson` is JSON already.
 */
export function deliveryFrame(sender: AdmittedKey, signal: SignalRequest, dataJson: string): string {
  return (
    `{"t":"signal","from":"${sender.nodeId}","fromKey":"${sender.publicKeyHex}","to":"${signal.to}",` +
    `"data":${dataJson},"ts":${signal.ts},"session":"${signal.session}","seq":${signal.seq},` +
    `"signature":"${signal.signature}"}`
  );
}
