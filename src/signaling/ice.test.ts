import { describe, expect, it } from 'vitest';
import { iceServersProblem, MAX_ICE_SERVERS, normaliseIceServers, parseRelayIce } from './ice.js';

describe('ICE server lists', () => {
  it('accepts what RTCPeerConnection accepts: one URL or several, TURN with credentials', () => {
    const list = [
      { urls: 'stun:stun.example.org:3478' },
      {
        urls: ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:443?transport=tcp'],
        username: 'u',
        credential: 'c',
      },
    ];
    expect(iceServersProblem(list)).toBeNull();
    expect(normaliseIceServers(list)).toEqual([
      { urls: ['stun:stun.example.org:3478'] },
      {
        urls: ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:443?transport=tcp'],
        username: 'u',
        credential: 'c',
      },
    ]);
    expect(iceServersProblem([])).toBeNull();
  });

  it('names what is wrong, including what would make the RTCPeerConnection constructor throw', () => {
    expect(iceServersProblem('stun:x')).toBe('not a list');
    expect(iceServersProblem([null])).toMatch(/server 0: not an object/);
    expect(iceServersProblem([{ urls: [] }])).toMatch(/urls: 1 to 4/);
    expect(iceServersProblem([{ urls: 'http://example.org' }])).toMatch(/not a stun:, stuns:, turn: or turns: URL/);
    expect(iceServersProblem([{ urls: 'stun:a b' }])).toMatch(/not a stun/);
    expect(iceServersProblem([{ urls: 'turn:turn.example.org' }])).toMatch(/needs a username and a credential/);
    expect(iceServersProblem([{ urls: 'turn:turn.example.org', username: 'u' }])).toMatch(
      /needs a username and a credential/,
    );
    expect(iceServersProblem([{ urls: 'stun:x', username: 7 }])).toMatch(/username/);
    expect(iceServersProblem([{ urls: 'stun:x', credential: 'c'.repeat(513) }])).toMatch(/credential/);
    expect(iceServersProblem(Array.from({ length: MAX_ICE_SERVERS + 1 }, () => ({ urls: 'stun:x' })))).toMatch(
      /more than 8/,
    );
  });

  it("parses the relay's field into the wire shape and drops extra fields; junk is null, never a throw", () => {
    expect(parseRelayIce({ iceServers: [{ urls: 'stun:x', extra: 1 }], ttl: 60, more: true })).toEqual({
      iceServers: [{ urls: ['stun:x'] }],
      ttl: 60,
    });
    expect(parseRelayIce({ iceServers: [] })).toEqual({ iceServers: [] });
    for (const junk of [
      null,
      1,
      'x',
      [],
      {},
      { iceServers: 'stun:x' },
      { iceServers: [], ttl: 0 },
      { iceServers: [], ttl: 1.5 },
      { iceServers: [], ttl: 8 * 86_400 },
      { iceServers: [{ urls: 'turn:x' }] },
    ]) {
      expect(parseRelayIce(junk)).toBeNull();
    }
  });
});

describe('ICE in the relay protocol', () => {
  const id = 'a'.repeat(64);
  it('a welcome may carry ICE servers, an `ice` message always does; a bad list makes the frame junk', async () => {
    const { parseServerMessage, parseClientMessage } = await import('./protocol.js');
    const ice = { iceServers: [{ urls: ['turn:t'], username: '1:x', credential: 'c' }], ttl: 60 };
    expect(parseServerMessage(JSON.stringify({ t: 'welcome', nodeId: id, peers: [], ice }))).toEqual({
      t: 'welcome',
      nodeId: id,
      peers: [],
      ice,
    });
    expect(parseServerMessage(JSON.stringify({ t: 'welcome', nodeId: id, peers: [] }))).toEqual({
      t: 'welcome',
      nodeId: id,
      peers: [],
    });
    expect(
      parseServerMessage(
        JSON.stringify({ t: 'welcome', nodeId: id, peers: [], ice: { iceServers: [{ urls: 'turn:t' }] } }),
      ),
    ).toBeNull();
    expect(parseServerMessage(JSON.stringify({ t: 'ice', ice }))).toEqual({ t: 'ice', ice });
    expect(parseServerMessage(JSON.stringify({ t: 'ice' }))).toBeNull();
    expect(parseClientMessage(JSON.stringify({ t: 'ice', extra: 1 }))).toEqual({ t: 'ice' });
  });
});
