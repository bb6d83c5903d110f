import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, MeshError } from '../src/core/errors.js';
import { Sampler, type SampledPeer } from './federation-sample.js';

/**
 * The benchmark's guarantee that a call which never answers costs one failed sample and not
 * the run, and that a failure keeps its cause, checked against a scripted peer on fake time.
 */
type Listener = (p: {
  kind: string;
  hops?: number;
  answered?: number;
  subject?: { kind: string; name?: string };
}) => void;

function scriptedPeer(overrides: Partial<SampledPeer>): SampledPeer & { emit: Listener } {
  let listener: Listener = () => undefined;
  return {
    discover: async () => [{}],
    callDetailed: async () => ({ provider: 'p1' }),
    peers: async () => [{ nodeId: 'p1' }],
    on: (_event, cb) => (listener = cb),
    emit: (p) => listener(p),
    ...overrides,
  };
}

describe('Sampler', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('fails a call that never answers at its deadline, and the sampler goes on', async () => {
    const peer = scriptedPeer({ callDetailed: () => new Promise(() => undefined) });
    const sampler = new Sampler(peer);
    const pending = sampler.sample('call', 'svc', 8_000);
    await vi.advanceTimersByTimeAsync(8_000);
    const sample = await pending;
    expect(sample).toMatchObject({ ok: false, error: 'DEADLINE' });
    expect(sample.direct).toBeUndefined();
    const next = sampler.sample('discover', 'svc', 8_000);
    await vi.advanceTimersByTimeAsync(0);
    expect(await next).toMatchObject({ ok: true });
  });

  it("keeps a failed call's cause and says whether its provider was a neighbour", async () => {
    const failing = new MeshError(ErrorCode.ALL_PROVIDERS_FAILED, '1 provider(s) failed', {
      attempts: [{ nodeId: 'far', code: 'TIMEOUT', message: 'no answer' }],
    });
    const peer = scriptedPeer({ callDetailed: () => Promise.reject(failing) });
    const sample = await new Sampler(peer).sample('call', 'svc', 8_000);
    expect(sample).toMatchObject({ ok: false, error: 'ALL_PROVIDERS_FAILED(TIMEOUT)', direct: false });
  });

  it('marks a call that reached a neighbour as direct', async () => {
    const sample = await new Sampler(scriptedPeer({})).sample('call', 'svc', 8_000);
    expect(sample).toMatchObject({ ok: true, direct: true });
  });

  it('counts a discovery that finds nobody as failed', async () => {
    const sample = await new Sampler(scriptedPeer({ discover: async () => [] })).sample('discover', 'svc', 8_000);
    expect(sample).toMatchObject({ ok: false, error: 'NOT_FOUND' });
  });

  it("keeps only answered service lookups' hops, once", () => {
    const peer = scriptedPeer({});
    const sampler = new Sampler(peer);
    peer.emit({ kind: 'done', hops: 2, answered: 1, subject: { kind: 'service', name: 'svc' } });
    peer.emit({ kind: 'done', hops: 3, answered: 0, subject: { kind: 'service', name: 'svc' } });
    peer.emit({ kind: 'done', hops: 4, answered: 1, subject: { kind: 'maintenance' } });
    peer.emit({ kind: 'path-start', subject: { kind: 'service', name: 'svc' } });
    expect(sampler.takeHops()).toEqual([{ service: 'svc', hops: 2 }]);
    expect(sampler.takeHops()).toEqual([]);
  });
});
