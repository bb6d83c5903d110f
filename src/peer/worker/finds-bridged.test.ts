import { afterEach, describe, expect, it } from 'vitest';
import { MAX_HOPS } from '../../core/constants.js';
import { seededRandom, systemClock } from '../../core/environment.js';
import { keyForName, toHex } from '../../core/id.js';
import { createIdentity } from '../../core/identity.js';
import { signRecord, signRemoval } from '../../core/records/records.js';
import { decodeFrame, encodeFrame } from '../../core/wire/codec.js';
import type { Message } from '../../core/wire/messages.js';
import { unwrap } from '../api-result.js';
import { AppCallbacks } from '../main/app-callbacks.js';
import { FramePump, type PumpedChannels } from '../main/frame-pump.js';
import { WorkerApi } from './worker-api.js';

/**
 * FIND_VALUEs answered on the answering tab's page, with both halves as a peer runs them (the
 * worker's API in this thread, over a real MessageChannel): the first for a key is the
 * worker's, whose gateway then has the page hold a copy of its answer; the next are answered
 * by the page, byte for byte what the worker would send, and accounted for by the worker
 * (`dht.answeredOnPage`, `messages.out`), never sent twice; a STORE changes the copy before
 * its acknowledgement leaves; a closed channel stops the page's answers to that neighbour.
 */

const closing: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
});

async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  for (let waited = 0; !(await done()) && waited < 5_000; waited += 10)
    await new Promise((resolve) => setTimeout(resolve, 10));
}

const key = keyForName('svc.echo');
const asker = createIdentity(seededRandom(71).bytes);

function findValue(rid: number): Uint8Array {
  return encodeFrame('RPC_ROUTE', {
    dest: key,
    src: asker.nodeId,
    hops: 1,
    max: MAX_HOPS,
    exact: false,
    path: [asker.nodeId],
    hid: 0,
    body: encodeFrame('FIND_VALUE', { rid, key, kind: 'provider' }),
  });
}

async function answeringTab() {
  const channel = new MessageChannel();
  const identity = createIdentity(seededRandom(72).bytes);
  const api = new WorkerApi(() => undefined);
  const app = new AppCallbacks();
  const pump = new FramePump(channel.port1, identity, systemClock);
  const sent: Array<[string, Uint8Array]> = [];
  const channels: PumpedChannels = {
    send: (peer, frame) => sent.push([peer, frame]) > 0,
    connect: () => true,
    disconnect: () => undefined,
    signal: () => undefined,
    refuse: () => undefined,
    stats: { created: 0 },
  };
  unwrap(
    await api.init(
      { secretKeyHex: toHex(identity.secretKey), storage: 'memory', tuning: {} },
      app.bridge,
      channel.port2,
    ),
  );
  closing.push(async () => {
    await api.close(0);
    pump.close();
  });
  pump.drive(channels, app);
  app.handlers.set('svc.echo', (args) => args);
  // Alone, the node keeps its record itself.
  unwrap(await api.advertise('svc.echo', undefined, undefined));
  const stats = async (): Promise<Record<string, number>> => unwrap(await api.stats());
  /** What went out on the channels, as the asker reads it: envelopes opened. */
  const answers = (): Array<{ bytes: Uint8Array; inner: Message }> =>
    sent.flatMap(([, f]) => {
      const d = decodeFrame(f);
      if (!d.ok || d.message.type !== 'RPC_ROUTE') return [];
      const inner = decodeFrame(d.message.body.body);
      return inner.ok && inner.message.type === 'FIND_VALUE_REPLY' ? [{ bytes: f, inner: inner.message }] : [];
    });
  return { pump, stats, answers, sent, identity };
}

const ridOf = (m: Message): number => (m.body as { rid: number }).rid;

describe('FIND_VALUEs answered on the answering tab’s page', () => {
  it('after the first, which the worker answers, come from the page, the worker’s own answer byte for byte', async () => {
    const { pump, stats, answers } = await answeringTab();
    pump.opened(asker.nodeIdHex);
    await until(async () => (await stats())['channels.opened'] === 1);
    pump.frame(asker.nodeIdHex, findValue(1));
    await until(() => answers().length === 1);
    const first = answers()[0]!;
    expect(first.inner.type).toBe('FIND_VALUE_REPLY');
    expect((await stats())['dht.answeredOnPage']).toBe(0);
    // The copy reaches the page with (or before) the worker's answer: from here on the page answers.
    for (let rid = 2; rid <= 6; rid++) pump.frame(asker.nodeIdHex, findValue(rid));
    // Sent at once, in the same task: no worker on the way.
    expect(answers()).toHaveLength(6);
    await until(async () => (await stats())['dht.answeredOnPage'] === 5);
    const s = await stats();
    expect(s['dht.answeredOnPageDiffered']).toBe(0);
    expect(s['dht.valueServed']).toBe(6);
    expect(s['messages.in']).toBeGreaterThanOrEqual(6);
    // One answer per request: the worker accounted for the page's and sent none of its own.
    expect(answers().map((a) => ridOf(a.inner))).toEqual([1, 2, 3, 4, 5, 6]);
    const firstBody = first.inner.body as { records: unknown[]; nodes: unknown[] };
    for (const a of answers().slice(1)) {
      const body = a.inner.body as { records: unknown[]; nodes: unknown[] };
      expect(body.records).toEqual(firstBody.records);
      expect(body.nodes).toEqual(firstBody.nodes);
    }
  });

  it('answers with a record stored since, and stops when the channel closes', async () => {
    const { pump, stats, answers, sent } = await answeringTab();
    pump.opened(asker.nodeIdHex);
    await until(async () => (await stats())['channels.opened'] === 1);
    pump.frame(asker.nodeIdHex, findValue(1));
    await until(() => answers().length === 1);
    pump.frame(asker.nodeIdHex, findValue(2));
    expect(answers()).toHaveLength(2);
    expect((answers()[1]!.inner.body as { records: unknown[] }).records).toHaveLength(1);

    // The asker stores a record of its own there: once its acknowledgement is out, the page's copy has it.
    const record = signRecord(
      {
        kind: 'provider',
        key,
        endpoint: `peer:${asker.nodeIdHex}`,
        metadata: {},
        advertisedAt: Date.now(),
        ttl: 300,
      },
      asker,
    );
    pump.frame(asker.nodeIdHex, encodeFrame('STORE', { rid: 99, record }));
    const acknowledged = (): boolean =>
      sent.some(([, f]) => {
        const d = decodeFrame(f);
        return d.ok && d.message.type === 'STORE_REPLY' && d.message.body.ok;
      });
    await until(acknowledged);
    pump.frame(asker.nodeIdHex, findValue(3));
    const third = answers().find((a) => a.inner.type === 'FIND_VALUE_REPLY' && ridOf(a.inner) === 3);
    expect((third?.inner.body as { records: unknown[] } | undefined)?.records).toHaveLength(2);
    await until(async () => (await stats())['dht.answeredOnPage'] === 2);
    expect((await stats())['dht.answeredOnPageDiffered']).toBe(0);

    pump.closed(asker.nodeIdHex);
    const n = answers().length;
    pump.frame(asker.nodeIdHex, findValue(4));
    // Not the page's any more: the frame went to the worker, which drops frames from a closed channel.
    expect(answers()).toHaveLength(n);
  });

  it('stops answering a key once its records are removed, before the removal is acknowledged', async () => {
    const { pump, stats, answers, sent, identity } = await answeringTab();
    pump.opened(asker.nodeIdHex);
    await until(async () => (await stats())['channels.opened'] === 1);
    pump.frame(asker.nodeIdHex, findValue(1));
    await until(() => answers().length === 1);
    pump.frame(asker.nodeIdHex, findValue(2));
    expect(answers()).toHaveLength(2);
    // The owner's signed removal reaches the node (as a closing peer sends it): acknowledged only once the copy is gone.
    const removal = signRemoval({ kind: 'provider', key, removedAt: Date.now() }, identity);
    pump.frame(asker.nodeIdHex, encodeFrame('REMOVE', { rid: 98, removal }));
    await until(() =>
      sent.some(([, f]) => {
        const d = decodeFrame(f);
        return d.ok && d.message.type === 'STORE_REPLY' && d.message.body.ok;
      }),
    );
    const n = answers().length;
    pump.frame(asker.nodeIdHex, findValue(3));
    // Not answered by the page (in this task); the worker holds no record for the key any more.
    expect(answers()).toHaveLength(n);
    await until(async () => ((await stats())['messages.in'] ?? 0) >= 4);
    expect((await stats())['dht.answeredOnPageDiffered']).toBe(0);
  });
});
