import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../sim/event-queue.js';
import { ServiceRegistry, type ProviderInfo } from './service-registry.js';

const provider = (nodeId: string, advertisedAt: number, ttl = 300): ProviderInfo => ({
  nodeId: nodeId.padEnd(64, '0'),
  endpoint: 'peer:x',
  metadata: {},
  advertisedAt,
  ttl,
});

function setup(opts = {}) {
  const clock = new EventQueue(1_000_000);
  return { clock, registry: new ServiceRegistry(clock, opts) };
}

describe('ServiceRegistry (macula_service_registry)', () => {
  it('new/0 uses macula defaults: ttl 300 s, cache 60 s, service ttl 300 s', () => {
    const { registry } = setup();
    expect([registry.defaultTtl, registry.cacheTtl, registry.serviceTtl]).toEqual([300, 60, 300]);
  });

  it('new/1 takes custom options and refuses nonsense', () => {
    const { clock } = setup();
    const r = new ServiceRegistry(clock, { defaultTtl: 30, cacheTtl: 5, serviceTtl: 40 });
    expect([r.defaultTtl, r.cacheTtl, r.serviceTtl]).toEqual([30, 5, 40]);
    expect(() => new ServiceRegistry(clock, { cacheTtl: -1 })).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('advertiseLocal / getLocalHandler / listLocalServices / unadvertiseLocal', () => {
    const { registry } = setup();
    const handler = () => 42;
    registry.advertiseLocal('energy.home.get', handler, { unit: 'W' });
    registry.advertiseLocal('demo.echo', (x) => x);
    expect(registry.getLocalHandler('energy.home.get')).toBe(handler);
    expect(registry.getLocalService('energy.home.get')?.metadata).toEqual({ unit: 'W' });
    expect(registry.listLocalServices().sort()).toEqual(['demo.echo', 'energy.home.get']);
    registry.unadvertiseLocal('energy.home.get');
    expect(registry.getLocalHandler('energy.home.get')).toBeUndefined();
    expect(registry.listLocalServices()).toEqual(['demo.echo']);
    expect(() => registry.advertiseLocal('', handler)).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => registry.advertiseLocal('x', 5 as never)).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('discoverService: miss, then cached until the cache TTL, then miss again; forceRefresh skips the cache', async () => {
    const { clock, registry } = setup();
    expect(registry.discoverService('svc')).toEqual({ ok: false, cacheMiss: true });
    const p = provider('a', clock.now());
    registry.cacheService('svc', [p], 60);
    expect(registry.discoverService('svc')).toEqual({ ok: true, providers: [p] });
    expect(registry.discoverService('svc', { forceRefresh: true })).toEqual({ ok: false, cacheMiss: true });
    await clock.runFor(59_999);
    expect(registry.discoverService('svc').ok).toBe(true);
    await clock.runFor(1);
    expect(registry.discoverService('svc')).toEqual({ ok: false, cacheMiss: true });
  });

  it('a cached provider whose own advertisement expired is not handed out', async () => {
    const { clock, registry } = setup();
    registry.cacheService('svc', [provider('a', clock.now(), 10), provider('b', clock.now(), 300)], 60);
    await clock.runFor(11_000);
    const d = registry.discoverService('svc');
    expect(d.ok && d.providers.map((p) => p.nodeId[0])).toEqual(['b']);
  });

  it('judges a cached provider by this clock, so owners 10 min ahead or behind are still handed out', async () => {
    const { clock, registry } = setup();
    const tenMinutes = 10 * 60_000;
    const skewed = [
      provider('a', clock.now() + tenMinutes, 300),
      provider('b', clock.now() - tenMinutes + 30_000, 300),
    ];
    registry.cacheService('svc', skewed, 60);
    await clock.runFor(40_000);
    const d = registry.discoverService('svc');
    expect(d.ok && d.providers.map((p) => p.nodeId[0])).toEqual(['a', 'b']);
  });

  it('subscriber cache works the same way and is separate', async () => {
    const { clock, registry } = setup();
    registry.cacheSubscribers('t', [provider('s', clock.now())], 5);
    expect(registry.discoverService('t').ok).toBe(false);
    expect(registry.discoverSubscribers('t').ok).toBe(true);
    registry.clearSubscriberCache();
    expect(registry.discoverSubscribers('t').ok).toBe(false);
  });

  it('clearCache empties the provider cache', () => {
    const { clock, registry } = setup();
    registry.cacheService('a', [provider('a', clock.now())]);
    registry.clearCache();
    expect(registry.discoverService('a').ok).toBe(false);
  });

  it('pruneExpired / pruneExpiredSubscribers count what they drop', async () => {
    const { clock, registry } = setup();
    registry.cacheService('a', [], 1);
    registry.cacheService('b', [], 100);
    registry.cacheSubscribers('t', [], 1);
    await clock.runFor(2_000);
    expect(registry.pruneExpired()).toBe(1);
    expect(registry.pruneExpired()).toBe(0);
    expect(registry.pruneExpiredSubscribers()).toBe(1);
  });

  it('pruneExpiredLocalServices drops services not re-advertised within serviceTtl', async () => {
    const { clock, registry } = setup({ serviceTtl: 10 });
    registry.advertiseLocal('old', () => 1);
    await clock.runFor(6_000);
    registry.advertiseLocal('fresh', () => 2);
    await clock.runFor(5_000);
    expect(registry.pruneExpiredLocalServices()).toBe(1);
    expect(registry.listLocalServices()).toEqual(['fresh']);
  });
});
