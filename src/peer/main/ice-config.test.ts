import { describe, expect, it } from 'vitest';
import { manualClock } from '../../core/manual-clock.js';
import { IceConfig } from './ice-config.js';

const app = [{ urls: ['stun:app.example'] }];
const turn = { urls: ['turn:relay.example'], username: '1:x', credential: 'c' };

describe('IceConfig', () => {
  it("puts the relay's servers before the app's, under the app's policy", () => {
    const ice = new IceConfig(app, 'relay', manualClock(), () => true);
    expect(ice.configuration()).toEqual({ iceServers: [{ urls: ['stun:app.example'] }], iceTransportPolicy: 'relay' });
    ice.fromRelay({ iceServers: [turn] });
    expect(ice.configuration().iceServers).toEqual([turn, { urls: ['stun:app.example'] }]);
    expect(ice.stats).toEqual({ relayServers: 1, updates: 1 });
    // Each configuration is a copy: a connection cannot change what the next one gets.
    (ice.configuration().iceServers![0]!.urls as string[]).push('turn:evil');
    expect(ice.configuration().iceServers![0]!.urls).toEqual(['turn:relay.example']);
  });

  it('asks for fresh credentials once 80% of their lifetime has passed, and again when the answer brings a new ttl', () => {
    const clock = manualClock();
    let asked = 0;
    const ice = new IceConfig([], 'all', clock, () => (asked++, true));
    ice.fromRelay({ iceServers: [turn], ttl: 100 });
    clock.advance(79_000);
    expect(asked).toBe(0);
    clock.advance(1_000);
    expect(asked).toBe(1);
    ice.fromRelay({ iceServers: [turn], ttl: 100 });
    clock.advance(80_000);
    expect(asked).toBe(2);
  });

  it('retries a renewal the relay could not take, and stops when closed; a welcome replaces a pending renewal', () => {
    const clock = manualClock();
    let connected = false;
    let asked = 0;
    const ice = new IceConfig([], 'all', clock, () => (asked++, connected));
    ice.fromRelay({ iceServers: [turn], ttl: 10 });
    clock.advance(8_000);
    expect(asked).toBe(1);
    clock.advance(5_000);
    expect(asked).toBe(2);
    connected = true;
    clock.advance(5_000);
    expect(asked).toBe(3);
    // STUN only (no ttl): nothing to renew.
    ice.fromRelay({ iceServers: [{ urls: ['stun:s'] }] });
    clock.advance(1_000_000);
    expect(asked).toBe(3);
    ice.fromRelay({ iceServers: [turn], ttl: 10 });
    ice.close();
    clock.advance(1_000_000);
    expect(asked).toBe(3);
    ice.fromRelay({ iceServers: [turn], ttl: 10 });
    expect(ice.stats.updates).toBe(3);
  });
});
