import { describe, expect, it } from 'vitest';
import { manualClock } from '../../core/manual-clock.js';
import { RELAY_URL_KEY } from '../../signaling/relay-service.js';
import { FIRST_REFRESH_MS, MIN_GAP_MS, REFRESH_MS, RelayDirectory } from './relay-directory.js';

const relay = (url: unknown, nodeId = 'a'.repeat(64)) => ({ nodeId, metadata: { [RELAY_URL_KEY]: url } });
const settle = () => new Promise((r) => setTimeout(r, 0));

describe('RelayDirectory: relays learned from the DHT', () => {
  it('looks up nothing before the peer joined; then once a little later, then rarely', async () => {
    const clock = manualClock();
    let lookups = 0;
    const dir = new RelayDirectory({
      bootstrap: ['ws://a/relay'],
      clock,
      discover: async () => (lookups++, [relay('ws://b:8788/relay')]),
    });
    clock.advance(REFRESH_MS);
    dir.relayDown();
    expect(lookups).toBe(0);
    dir.joined();
    dir.joined();
    clock.advance(FIRST_REFRESH_MS - 1);
    expect(lookups).toBe(0);
    clock.advance(1);
    await settle();
    expect(lookups).toBe(1);
    expect(dir.urls()).toEqual(['ws://b:8788/relay']);
    clock.advance(REFRESH_MS - 1);
    expect(lookups).toBe(1);
    clock.advance(1);
    expect(lookups).toBe(2);
    dir.close();
    clock.advance(REFRESH_MS * 3);
    expect(lookups).toBe(2);
  });

  it('a relay going down brings a lookup forward, at most one per MIN_GAP_MS', async () => {
    const clock = manualClock();
    let lookups = 0;
    const dir = new RelayDirectory({ bootstrap: ['ws://a/relay'], clock, discover: async () => (lookups++, []) });
    dir.joined();
    clock.advance(FIRST_REFRESH_MS);
    await settle();
    dir.relayDown();
    clock.advance(0);
    expect(lookups).toBe(1);
    clock.advance(MIN_GAP_MS);
    dir.relayDown();
    clock.advance(0);
    await settle();
    expect(lookups).toBe(2);
    dir.close();
  });

  it('keeps only relay URLs: deduplicated, at most 16, shuffled; a failed or empty lookup keeps what is known', async () => {
    const clock = manualClock();
    let answer: () => Promise<Array<{ nodeId: string; metadata: Record<string, unknown> }>> = async () => [
      relay('ws://b/relay'),
      relay('ws://b/relay', 'b'.repeat(64)),
      relay('http://c/relay'),
      relay('ws://user:pw@d/relay'),
      relay(42),
      relay(`ws://e/${'x'.repeat(600)}`),
      ...Array.from({ length: 30 }, (_, i) => relay(`wss://r${i}.example.org/relay`)),
    ];
    const dir = new RelayDirectory({ bootstrap: ['ws://a/relay'], clock, discover: () => answer(), random: () => 0 });
    await dir.refresh();
    const urls = dir.urls();
    expect(urls).toHaveLength(16);
    expect(new Set(urls).size).toBe(16);
    expect(urls.every((u) => u === 'ws://b/relay' || /^wss:\/\/r\d+\.example\.org\/relay$/.test(u))).toBe(true);
    expect(dir.learned()[0]).toHaveProperty('nodeId');
    answer = async () => [];
    await dir.refresh();
    expect(dir.urls()).toEqual(urls);
    answer = () => Promise.reject(new Error('NOT_CONNECTED'));
    await dir.refresh();
    expect(dir.urls()).toEqual(urls);
  });

  it('a peer on wss:// only learns wss:// relays (its page could not open ws://)', async () => {
    const dir = new RelayDirectory({
      bootstrap: ['wss://a.example.org/relay'],
      clock: manualClock(),
      discover: async () => [relay('ws://b:8788/relay'), relay('wss://c.example.org/relay')],
    });
    await dir.refresh();
    expect(dir.urls()).toEqual(['wss://c.example.org/relay']);
  });
});
