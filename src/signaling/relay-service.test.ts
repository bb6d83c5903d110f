import { describe, expect, it } from 'vitest';
import { parseRelayUrl, RELAY_SERVICE, relayServiceMetadata, relayUrlOf } from './relay-service.js';

describe('the relay service in the DHT', () => {
  it('is one well-known id, its metadata round-trips the public URL', () => {
    expect(RELAY_SERVICE).toBe('macula.relay');
    const metadata = relayServiceMetadata('wss://relay.example.org/relay');
    expect(relayUrlOf({ metadata })).toBe('wss://relay.example.org/relay');
    expect(() => relayServiceMetadata('https://relay.example.org/')).toThrow(TypeError);
  });

  it('takes only ws(s) URLs with a host, no credentials, no fragment, at most 512 characters', () => {
    expect(parseRelayUrl('ws://127.0.0.1:8788/relay')).toBe('ws://127.0.0.1:8788/relay');
    expect(parseRelayUrl('WS://Host:8787/relay')).toBe('ws://host:8787/relay');
    for (const bad of [
      'http://host/relay',
      'ws://',
      'ws://u:p@host/relay',
      'ws://host/relay#x',
      'not a url',
      '',
      `ws://host/${'a'.repeat(600)}`,
      42,
      null,
      { url: 'ws://host/relay' },
    ]) {
      expect(parseRelayUrl(bad), JSON.stringify(bad)).toBeNull();
    }
    expect(relayUrlOf({ metadata: {} })).toBeNull();
    expect(relayUrlOf({ metadata: { url: ['ws://host/relay'] } })).toBeNull();
  });
});
