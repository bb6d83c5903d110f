import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../core/environment.js';
import { toHex } from '../core/id.js';
import { createIdentity } from '../core/identity.js';
import { signHello, signSignal, verifyHello, verifySignal } from '../signaling/auth.js';
import {
  encodeMessage,
  parseClientMessage,
  type HelloMessage,
  type SignalDelivery,
  type SignalRequest,
} from '../signaling/protocol.js';
import { checkHelloOnPool, checkSignal, deliveryFrame, type AdmittedKey } from './relay-auth.js';

const random = seededRandom(11);
const identity = createIdentity((n) => random.bytes(n));
const other = createIdentity((n) => random.bytes(n));
const nonce = toHex(random.bytes(32));
const realm = 'default';

const hello = (over: Partial<HelloMessage> = {}): HelloMessage => ({
  t: 'hello',
  publicKey: toHex(identity.publicKey),
  realm,
  signature: signHello(identity, nonce, realm),
  ...over,
});

const flip = (hex: string, at: number): string => hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1);

/** Hellos the relay must refuse, each as the page's own check (verifyHello) also refuses it. */
const forged: Array<[string, HelloMessage]> = [
  ['an altered signature', hello({ signature: flip(signHello(identity, nonce, realm), 10) })],
  ['a signature for another nonce', hello({ signature: signHello(identity, toHex(random.bytes(32)), realm) })],
  ['a signature for another realm', hello({ signature: signHello(identity, nonce, 'elsewhere') })],
  ['another key', hello({ publicKey: toHex(other.publicKey) })],
  ['a key that is not hex', hello({ publicKey: 'zz'.repeat(32) })],
  ['a signature of the wrong length', hello({ signature: 'ab'.repeat(10) })],
  ['a key that is not a curve point', hello({ publicKey: 'ff'.repeat(32) })],
];

const onPool = (h: HelloMessage): Promise<AdmittedKey | null> =>
  new Promise((resolve) => checkHelloOnPool(nonce, h, resolve));

describe('the relay checks a hello with node:crypto', () => {
  it('proves the same node id as the page-side check', async () => {
    const expected = verifyHello(nonce, hello().publicKey, realm, hello().signature);
    expect(expected).toBe(identity.nodeIdHex);
    const admitted = await onPool(hello());
    expect(admitted?.nodeId).toBe(expected);
    expect(admitted?.publicKeyHex).toBe(toHex(identity.publicKey));
  });

  it.each(forged)('refuses %s, as verifyHello does', async (_, h) => {
    expect(verifyHello(nonce, h.publicKey, h.realm, h.signature)).toBeNull();
    expect(await onPool(h)).toBeNull();
  });

  it('answers on the pool only after it returns, even for a hello refused at once', () => {
    let answered = false;
    checkHelloOnPool(nonce, hello({ publicKey: 'nothex' }), () => (answered = true));
    expect(answered).toBe(false);
  });
});

describe('the relay checks a signal against the key its socket was admitted with', () => {
  let sender: AdmittedKey;
  let impostor: AdmittedKey;
  beforeAll(async () => {
    sender = (await onPool(hello()))!;
    impostor = (await onPool({
      t: 'hello',
      publicKey: toHex(other.publicKey),
      realm,
      signature: signHello(other, nonce, realm),
    }))!;
  });
  const data = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n', note: 'quotes " and \\ and ünïcödé ✓' };
  const stamp = { ts: 1_765_000_000_000, session: toHex(random.bytes(16)), seq: 3 };
  const request = (signature: string, to = other.nodeIdHex): SignalRequest =>
    parseClientMessage(encodeMessage({ t: 'signal', to, data, ...stamp, signature })!) as SignalRequest;
  const signed = request(signSignal(identity, other.nodeIdHex, { data, ...stamp })!);
  const json = JSON.stringify(signed.data);

  it('accepts the sender own signature and refuses an altered one, another recipient, another sender', () => {
    expect(checkSignal(sender, signed, json)).toBe(true);
    expect(checkSignal(sender, request(flip(signed.signature, 5)), json)).toBe(false);
    expect(checkSignal(sender, { ...signed, to: identity.nodeIdHex }, json)).toBe(false);
    expect(checkSignal(sender, { ...signed, seq: 4 }, json)).toBe(false);
    expect(checkSignal(sender, signed, JSON.stringify({ ...data, sdp: 'v=1' }))).toBe(false);
    expect(checkSignal(impostor, signed, json)).toBe(false);
  });

  it('delivers the frame encodeMessage makes, byte for byte, and the receiver verifies it', () => {
    const delivery: SignalDelivery = {
      t: 'signal',
      from: sender.nodeId,
      fromKey: sender.publicKeyHex,
      to: signed.to,
      data: signed.data,
      ts: signed.ts,
      session: signed.session,
      seq: signed.seq,
      signature: signed.signature,
    };
    const frame = deliveryFrame(sender, signed, json);
    expect(frame).toBe(encodeMessage(delivery));
    expect(verifySignal(JSON.parse(frame) as SignalDelivery, other.nodeIdHex)).toBe(true);
  });
});
