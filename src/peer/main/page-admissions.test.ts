import { describe, expect, it } from 'vitest';
import { ErrorCode, MeshError } from '../../core/errors.js';
import type { HandlerOutcome } from '../../core/registry/call-reply.js';
import { callFrame } from '../../core/registry/call-request.js';
import { decodeFrame, encodeFrame } from '../../core/wire/codec.js';
import type { ToWorker } from '../bridge-protocol.js';
import { PageAdmissions } from './page-admissions.js';

/**
 * The provider's page admits a CALL straight from a neighbour only under the worker's grant
 * (slots at once, credit in all) and for a service the worker says this tab provides, with a
 * handler here; it answers on the channel, then hands the frame to the worker marked with the
 * REPLY's header. Everything else is left to the worker.
 */

const P = 'a'.repeat(64);
const Q = 'b'.repeat(64);

function page(opts: { open?: boolean } = {}) {
  const sent: Array<[string, Uint8Array]> = [];
  const toWorker: ToWorker[] = [];
  /** Handlers that wait until released, so that calls stay running. */
  const waiting: Array<() => void> = [];
  let hold = false;
  const handlers = {
    has: (s: string) => s === 'svc' || s === 'boom' || s === 'unserved',
    run: async (s: string, args: unknown): Promise<HandlerOutcome> => {
      if (hold) await new Promise<void>((r) => waiting.push(r));
      return s === 'boom'
        ? { ok: false, error: new MeshError(ErrorCode.HANDLER_ERROR, 'boom') }
        : { ok: true, result: args };
    },
  };
  const a = new PageAdmissions(
    handlers,
    (peer, frame) => (opts.open === false ? false : sent.push([peer, frame]) > 0),
    (m) => void toWorker.push(m),
  );
  a.told({ t: 'serving', services: ['svc', 'boom'] });
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0));
  const release = async (): Promise<void> => {
    for (const r of waiting.splice(0)) r();
    await settle();
  };
  return { a, sent, toWorker, settle, release, holdHandlers: () => void (hold = true) };
}

const call = (rid: number, service = 'svc', args: unknown = rid): Uint8Array => callFrame(rid, service, args)!;

describe('a CALL admitted on the provider’s page', () => {
  it('is left to the worker without a grant, or for what the page cannot vouch for', () => {
    const { a, toWorker } = page();
    expect(a.take(P, call(1))).toBe(false);
    a.told({ t: 'allow', peer: P, grant: 1, slots: 4, credit: 8 });
    expect(a.take(Q, call(2))).toBe(false);
    expect(a.take(P, call(3, 'unserved'))).toBe(false); // a handler here, but not a service the worker provides
    expect(a.take(P, call(4, 'other'))).toBe(false);
    expect(a.take(P, encodeFrame('REPLY', { rid: 1, ok: true, result: 1 }))).toBe(false);
    expect(a.take(P, call(5).subarray(0, 12))).toBe(false);
    expect(toWorker).toEqual([]);
  });

  it('is answered on the channel, then handed to the worker with the REPLY’s header', async () => {
    const { a, sent, toWorker, settle } = page();
    a.told({ t: 'allow', peer: P, grant: 1, slots: 4, credit: 8 });
    const frame = call(7, 'svc', { n: 1 });
    expect(a.take(P, frame)).toBe(true);
    expect(a.take(P, call(8, 'boom'))).toBe(true);
    await settle();
    const replies = sent.map(([peer, f]) => [peer, decodeFrame(f)]);
    expect(replies).toEqual([
      [P, { ok: true, message: { type: 'REPLY', body: { rid: 7, ok: true, result: { n: 1 } } } }],
      [
        P,
        { ok: true, message: { type: 'REPLY', body: { rid: 8, ok: false, code: 'HANDLER_ERROR', message: 'boom' } } },
      ],
    ]);
    expect(toWorker[0]).toEqual({ t: 'frame', peer: P, frame, admitted: sent[0]![1].subarray(0, 8) });
    expect(toWorker).toHaveLength(2);
  });

  it('hands the frame over with an empty header when the channel had closed', async () => {
    const { a, toWorker, settle } = page({ open: false });
    a.told({ t: 'allow', peer: P, grant: 1, slots: 4, credit: 8 });
    a.take(P, call(1));
    await settle();
    expect(toWorker).toEqual([{ t: 'frame', peer: P, frame: call(1), admitted: new Uint8Array(0) }]);
  });

  it('runs at most the grant’s slots at once and spends its credit; more credit comes with the same grant', async () => {
    const { a, release, holdHandlers } = page();
    holdHandlers();
    a.told({ t: 'allow', peer: P, grant: 1, slots: 2, credit: 3 });
    expect([a.take(P, call(1)), a.take(P, call(2)), a.take(P, call(3))]).toEqual([true, true, false]);
    await release();
    expect([a.take(P, call(4)), a.take(P, call(5))]).toEqual([true, false]);
    a.told({ t: 'allow', peer: P, grant: 1, slots: 2, credit: 1 });
    expect([a.take(P, call(6)), a.take(P, call(7))]).toEqual([true, false]);
    await release();
  });

  it('stops when the channel closes or the worker cuts the neighbour off, whatever credit still comes', () => {
    const { a } = page();
    a.told({ t: 'allow', peer: P, grant: 1, slots: 4, credit: 8 });
    a.stop(P);
    a.told({ t: 'allow', peer: P, grant: 1, slots: 4, credit: 16 });
    expect(a.take(P, call(1))).toBe(false);
  });

  it('gives a revoked grant back once its calls have ended, after their frames', async () => {
    const { a, toWorker, release, holdHandlers } = page();
    holdHandlers();
    a.told({ t: 'allow', peer: P, grant: 1, slots: 4, credit: 8 });
    a.take(P, call(1));
    a.told({ t: 'revoke', peer: P, grant: 1 });
    expect(a.take(P, call(2))).toBe(false);
    expect(toWorker).toEqual([]);
    await release();
    expect(toWorker.map((m) => m.t)).toEqual(['frame', 'returned']);
    expect(toWorker[1]).toEqual({ t: 'returned', peer: P, grant: 1 });
    // One with nothing running goes back at once; one the page does not hold too.
    a.told({ t: 'allow', peer: Q, grant: 2, slots: 4, credit: 8 });
    a.told({ t: 'revoke', peer: Q, grant: 2 });
    a.told({ t: 'revoke', peer: Q, grant: 9 });
    expect(toWorker.slice(2)).toEqual([
      { t: 'returned', peer: Q, grant: 2 },
      { t: 'returned', peer: Q, grant: 9 },
    ]);
  });
});
