import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom, systemClock } from '../../core/environment.js';
import { toHex } from '../../core/id.js';
import { createIdentity } from '../../core/identity.js';
import { callFrame } from '../../core/registry/call-request.js';
import { decodeFrame } from '../../core/wire/codec.js';
import { unwrap } from '../api-result.js';
import { AppCallbacks } from '../main/app-callbacks.js';
import { FramePump, type PumpedChannels } from '../main/frame-pump.js';
import { WorkerApi } from './worker-api.js';

/**
 * The provider's page admitting CALLs itself, with both halves as a peer runs them (the
 * worker's API in this thread, as the Node peer runs it, over a real MessageChannel): the
 * first CALL from a neighbour is the worker's, which then grants the page slots for it; the
 * next ones are answered by the page and accounted for by the worker (`messages.in`,
 * `rpc.served`, `rpc.admittedOnPage`, its REPLY in `messages.out`); a closed channel ends
 * the grant, and the neighbour's next first CALL is the worker's again.
 */

const closing: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
});

async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  for (let waited = 0; !(await done()) && waited < 5_000; waited += 10)
    await new Promise((resolve) => setTimeout(resolve, 10));
}

async function provider() {
  const channel = new MessageChannel();
  const random = seededRandom(61);
  const identity = createIdentity(random.bytes);
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
  // Alone, the node keeps its record itself: the advertise ends at once.
  unwrap(await api.advertise('svc.echo', undefined, undefined));
  const stats = async (): Promise<Record<string, number>> => unwrap(await api.stats());
  const replies = (): unknown[] =>
    sent.flatMap(([, f]) => {
      const d = decodeFrame(f);
      return d.ok && d.message.type === 'REPLY' ? [d.message.body] : [];
    });
  return { pump, stats, replies, caller: toHex(random.bytes(32)) };
}

describe('CALLs admitted on the provider’s page', () => {
  it('after the first, which the worker admits, are answered by the page and accounted for by the worker', async () => {
    const { pump, stats, replies, caller } = await provider();
    pump.opened(caller);
    await until(async () => (await stats())['channels.opened'] === 1);
    pump.frame(caller, callFrame(1, 'svc.echo', { n: 1 })!);
    await until(() => replies().length === 1);
    expect((await stats())['rpc.admittedOnPage']).toBe(0);
    // The grant came with the worker's handing over of the first: the next are the page's.
    for (let rid = 2; rid <= 5; rid++) pump.frame(caller, callFrame(rid, 'svc.echo', { n: rid })!);
    await until(async () => (await stats())['rpc.served'] === 5);
    const s = await stats();
    expect(s['rpc.admittedOnPage']).toBe(4);
    expect(s['messages.in.CALL']).toBe(5);
    expect(s['messages.out.REPLY']).toBe(5);
    expect(s['rpc.busy']).toBe(0);
    expect(replies()).toEqual([1, 2, 3, 4, 5].map((rid) => ({ rid, ok: true, result: { n: rid } })));
    // A service this tab does not provide is the worker's to refuse.
    pump.frame(caller, callFrame(6, 'svc.other', null)!);
    await until(() => replies().length === 6);
    expect(replies()[5]).toMatchObject({ rid: 6, ok: false, code: 'UNKNOWN_SERVICE' });
    expect((await stats())['rpc.admittedOnPage']).toBe(4);
  });

  it('end with the channel: reopened, the neighbour’s first CALL is the worker’s again', async () => {
    const { pump, stats, replies, caller } = await provider();
    pump.opened(caller);
    await until(async () => (await stats())['channels.opened'] === 1);
    pump.frame(caller, callFrame(1, 'svc.echo', 1)!);
    await until(() => replies().length === 1);
    pump.frame(caller, callFrame(2, 'svc.echo', 2)!);
    await until(async () => (await stats())['rpc.admittedOnPage'] === 1);
    pump.closed(caller);
    await until(async () => (await stats())['channels.closed'] === 1);
    pump.opened(caller);
    await until(async () => (await stats())['channels.opened'] === 2);
    pump.frame(caller, callFrame(3, 'svc.echo', 3)!);
    await until(() => replies().length === 3);
    expect((await stats())['rpc.admittedOnPage']).toBe(1);
    pump.frame(caller, callFrame(4, 'svc.echo', 4)!);
    await until(async () => (await stats())['rpc.admittedOnPage'] === 2);
    expect((await stats())['rpc.served']).toBe(4);
  });
});
