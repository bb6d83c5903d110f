import { describe, expect, it } from 'vitest';
import { MAX_HOPS } from '../../core/constants.js';
import { seededRandom, type Clock } from '../../core/environment.js';
import { keyForName, toHex } from '../../core/id.js';
import { createIdentity } from '../../core/identity.js';
import { readStraightFindValue, valueAnswerFrame } from '../../core/registry/value-answer.js';
import { encodeFrame } from '../../core/wire/codec.js';
import { PAGE_FIND_CREDIT, type ToWorker, type ValueAnswer } from '../bridge-protocol.js';
import { PageFinds } from './page-finds.js';

/** The page's side of answering FIND_VALUEs: only what the worker vouched for, within credit. */

const self = createIdentity(seededRandom(1).bytes);
const asker = createIdentity(seededRandom(2).bytes);
const key = keyForName('svc.echo');
const answer: ValueAnswer = { records: [{ kind: 'provider', n: 1 }], nodes: [asker.nodeId], linked: [0] };

function findValue(rid: number, k = key, from = asker): Uint8Array {
  return encodeFrame('RPC_ROUTE', {
    dest: k,
    src: from.nodeId,
    hops: 1,
    max: MAX_HOPS,
    exact: false,
    path: [from.nodeId],
    hid: 0,
    body: encodeFrame('FIND_VALUE', { rid, key: k, kind: 'provider' }),
  });
}

function setup(open = true) {
  let now = 1_000;
  const clock: Clock = { now: () => now, setTimer: () => () => undefined };
  const sent: Array<[string, Uint8Array]> = [];
  const posted: ToWorker[] = [];
  let channelOpen = true;
  const finds = new PageFinds(
    self.nodeId,
    clock,
    (peer, frame) => channelOpen && sent.push([peer, frame]) > 0,
    (m) => void posted.push(m),
  );
  if (open) finds.told({ t: 'neighbour', peer: asker.nodeIdHex, open: true });
  finds.told({ t: 'holds', key: toHex(key), kind: 'provider', answer, until: 5_000 });
  return {
    finds,
    sent,
    posted,
    at: (t: number) => void (now = t),
    closeChannel: () => void (channelOpen = false),
  };
}

describe('PageFinds', () => {
  it('answers a FIND_VALUE it holds an answer for, as the router would, and hands the frame on marked', () => {
    const { finds, sent, posted } = setup();
    const frame = findValue(7);
    expect(finds.take(asker.nodeIdHex, frame)).toBe(true);
    const expected = valueAnswerFrame(self.nodeId, readStraightFindValue(frame, asker.nodeIdHex)!, answer)!;
    expect(sent).toHaveLength(1);
    expect(Buffer.from(sent[0]![1]).equals(Buffer.from(expected))).toBe(true);
    expect(posted).toHaveLength(1);
    const m = posted[0] as Extract<ToWorker, { t: 'frame' }>;
    expect(m.frame).toBe(frame);
    expect(Buffer.from(m.found!).equals(Buffer.from(expected))).toBe(true);
    // The worker's copy is its own: the channel may keep the frame it was given.
    expect(m.found).not.toBe(sent[0]![1]);
  });

  it('leaves to the worker what it holds nothing for, what has run out, strangers and frames that do not read', () => {
    const { finds, sent, at } = setup();
    const other = createIdentity(seededRandom(3).bytes);
    expect(finds.take(asker.nodeIdHex, findValue(1, keyForName('svc.other')))).toBe(false);
    expect(finds.take(other.nodeIdHex, findValue(1, key, other))).toBe(false);
    expect(finds.take(asker.nodeIdHex, encodeFrame('PING', { rid: 1 }))).toBe(false);
    expect(finds.take(asker.nodeIdHex, findValue(1).subarray(0, 30))).toBe(false);
    at(5_000);
    expect(finds.take(asker.nodeIdHex, findValue(1))).toBe(false);
    expect(sent).toHaveLength(0);
    // Not an open neighbour of the node's (never told, or closed since).
    const closed = setup(false);
    expect(closed.finds.take(asker.nodeIdHex, findValue(1))).toBe(false);
    const stopped = setup();
    stopped.finds.stop(asker.nodeIdHex);
    expect(stopped.finds.take(asker.nodeIdHex, findValue(1))).toBe(false);
  });

  it('stops answering a key the worker took back, and when the channel refuses the answer', () => {
    const { finds, sent, posted, closeChannel } = setup();
    finds.told({ t: 'holds', key: toHex(key), kind: 'provider' });
    expect(finds.take(asker.nodeIdHex, findValue(1))).toBe(false);
    finds.told({ t: 'holds', key: toHex(key), kind: 'provider', answer, until: 5_000 });
    closeChannel();
    expect(finds.take(asker.nodeIdHex, findValue(2))).toBe(false);
    expect(sent).toHaveLength(0);
    expect(posted).toHaveLength(0);
  });

  it('answers one neighbour at most its credit beyond what the worker gave back', () => {
    const { finds, sent } = setup();
    let rid = 0;
    while (finds.take(asker.nodeIdHex, findValue(++rid)));
    expect(sent).toHaveLength(PAGE_FIND_CREDIT);
    finds.told({ t: 'finds', peer: asker.nodeIdHex, credit: 16 });
    while (finds.take(asker.nodeIdHex, findValue(++rid)));
    expect(sent).toHaveLength(PAGE_FIND_CREDIT + 16);
    // Credit never grows past its bound, and a stranger's is not kept.
    finds.told({ t: 'finds', peer: asker.nodeIdHex, credit: 1_000 });
    while (finds.take(asker.nodeIdHex, findValue(++rid)));
    expect(sent).toHaveLength(2 * PAGE_FIND_CREDIT + 16);
  });
});
