import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom, systemClock } from '../../core/environment.js';
import { ErrorCode, MeshError } from '../../core/errors.js';
import { toHex } from '../../core/id.js';
import { createIdentity } from '../../core/identity.js';
import { replyFrame, type HandlerOutcome } from '../../core/registry/call-reply.js';
import { decodeFrame } from '../../core/wire/codec.js';
import { FramePump, type PumpedChannels } from '../main/frame-pump.js';
import { FramePort } from './frame-port.js';
import { PeerCore } from './peer-core.js';
import { PageAnswers } from './page-answers.js';

/**
 * Both halves of the bytes bridge over a real MessageChannel, around a node whose neighbour
 * answers CALLs on a fake channel: the page settles the app's call from the REPLY, the worker
 * still takes the frame (counters, the request) and hands back null instead of the result.
 */

const opened: MessagePort[] = [];
afterEach(() => {
  for (const p of opened.splice(0)) p.close();
});

async function until(done: () => boolean): Promise<void> {
  for (let waited = 0; !done() && waited < 5_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** How the fake neighbour answers a CALL: with an outcome, at once (inside send) or in a later task. */
type Answer = { outcome: HandlerOutcome; at: 'inside-send' | 'later' } | 'silent';

async function bridged(answer: (rid: number) => Answer) {
  const channel = new MessageChannel();
  opened.push(channel.port1, channel.port2);
  const random = seededRandom(31);
  const pump = new FramePump(channel.port1, createIdentity(random.bytes), systemClock);
  const port = new FramePort(channel.port2);
  const core = new PeerCore({
    identity: createIdentity(random.bytes),
    transport: port.transport,
    clock: systemClock,
    random,
    handlers: { invoke: () => Promise.reject(new Error('no handlers here')) },
  });
  port.attach(core.node);
  const neighbour = toHex(random.bytes(32));
  const channels: PumpedChannels = {
    send: (peer, frame) => {
      const d = decodeFrame(frame);
      if (d.ok && d.message.type === 'CALL') {
        const a = answer(d.message.body.rid);
        if (a !== 'silent') {
          const reply = replyFrame('svc', d.message.body.rid, a.outcome);
          if (a.at === 'inside-send') pump.frame(peer, reply);
          else setTimeout(() => pump.frame(peer, reply), 0);
        }
      }
      return true;
    },
    connect: () => true,
    disconnect: () => undefined,
    signal: () => undefined,
    refuse: () => undefined,
    stats: { created: 0 },
  };
  pump.drive(channels, { has: () => false, run: () => Promise.reject(new Error('no handlers here')) });
  pump.opened(neighbour);
  await until(() => core.node.neighbours.has(neighbour));
  /** A callTo() as the page makes it, through the worker's API. */
  const callTo = (timeoutMs: number) => {
    const worker: { result?: unknown } = {};
    const app = pump.replies.run('to', (token) => {
      const { watch, end } = port.answers.watch(token);
      return core.callTo(neighbour, 'svc', { n: 1 }, { timeoutMs }, watch).then(
        (value) => (worker.result = end() ? null : value),
        (e: unknown) => {
          worker.result = end() ? null : e;
          throw e;
        },
      );
    });
    return { app, worker };
  };
  return { core, pump, callTo, stats: () => core.node.stats() };
}

describe('a call settled on the page', () => {
  it.each(['inside-send', 'later'] as const)(
    'takes the result from the REPLY (answered %s), and the worker takes the frame too',
    async (at) => {
      const { pump, callTo, stats } = await bridged(() => ({ outcome: { ok: true, result: 'hi' }, at }));
      const { app, worker } = callTo(5_000);
      await expect(app).resolves.toBe('hi');
      await until(() => 'result' in worker);
      // The worker settled its request from the same frame and did not send the result back.
      expect(worker.result).toBeNull();
      expect(stats()['rpc.answeredOnPage']).toBe(1);
      expect(stats()['messages.in.REPLY']).toBe(1);
      expect(stats()['replies.unmatched'] ?? 0).toBe(0);
      expect(pump.replies.size).toEqual({ calls: 0, awaited: 0 });
    },
  );

  it("rejects with the provider's error as the worker would", async () => {
    const { callTo, stats } = await bridged(() => ({
      outcome: { ok: false, error: new MeshError(ErrorCode.UNKNOWN_SERVICE, 'not here') },
      at: 'later',
    }));
    const { app } = callTo(5_000);
    await expect(app).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_SERVICE, message: 'not here' });
    await until(() => stats()['rpc.answeredOnPage'] === 1);
  });

  it('leaves a call nobody answers to the worker: its timeout settles it', async () => {
    const { callTo, pump, stats } = await bridged(() => 'silent');
    const { app } = callTo(100);
    await expect(app).rejects.toMatchObject({ code: ErrorCode.TIMEOUT });
    expect(stats()['rpc.answeredOnPage'] ?? 0).toBe(0);
    expect(pump.replies.size).toEqual({ calls: 0, awaited: 0 });
  });
});

describe('the worker marking requests for the page', () => {
  const frameOf = (type: number): Uint8Array => Uint8Array.of(1, type, 0, 0, 0, 0, 0, 0);
  const S = ['1', '2'].map((c) => c.repeat(64)) as [string, string];

  it('marks each PUBLISH straight to a subscriber and tells the page the plan once all went straight', () => {
    const posted: unknown[] = [];
    const answers = new PageAnswers(
      () => 1_000,
      (m) => posted.push(m),
    );
    const { watch, end } = answers.watchPublish(7);
    watch.sending(1, S[0], 10_000);
    expect(answers.awaited(S[0], frameOf(0x20))).toBeUndefined(); // a CALL is not the armed PUBLISH
    expect(answers.awaited(S[0], frameOf(0x10))).toEqual({ token: 7, rid: 1, until: 1_000 + 10_000 - 50, failed: [] });
    watch.sending(2, S[1], 10_000);
    expect(answers.awaited(S[1], frameOf(0x10))).toMatchObject({ token: 7, rid: 2 });
    watch.sent(1, 2);
    expect(posted).toEqual([{ t: 'publishing', token: 7, delivered: 1, sent: 2 }]);
    expect(answers.settled(7)).toBe('publish');
    expect(end()).toBe(true);
    // Ended: a marked frame after that is no call's.
    expect(answers.settled(7)).toBeUndefined();
  });

  it('tells the page no plan when a PUBLISH went routed (through another neighbour)', () => {
    const posted: unknown[] = [];
    const answers = new PageAnswers(
      () => 0,
      (m) => posted.push(m),
    );
    const { watch, end } = answers.watchPublish(8);
    watch.sending(1, S[0], 10_000);
    answers.awaited(S[0], frameOf(0x10));
    watch.sending(2, S[1], 10_000);
    // The envelope leaves through S[0]: not the armed PUBLISH to S[1].
    expect(answers.awaited(S[0], frameOf(0x23))).toBeUndefined();
    watch.sent(0, 2);
    expect(posted).toEqual([]);
    expect(end()).toBe(false);
  });
});
