import { describe, expect, it } from 'vitest';
import { isMeshError } from '../../core/errors.js';
import { validatePeerOptions, type PeerOptions } from './peer-options.js';

const base = { bootstrap: 'ws://localhost:8787/relay' };

function argumentOf(options: unknown): unknown {
  try {
    validatePeerOptions(options as PeerOptions);
  } catch (e) {
    return isMeshError(e) && e.code === 'INVALID_ARGUMENT' ? e.details?.['argument'] : e;
  }
  return 'accepted';
}

describe('createPeer options: ICE', () => {
  it('defaults to no servers of its own and every candidate type', () => {
    const v = validatePeerOptions(base);
    expect(v.iceServers).toEqual([]);
    expect(v.iceTransportPolicy).toBe('all');
  });

  it('accepts RTCIceServer lists and normalises their URLs to lists', () => {
    const v = validatePeerOptions({
      ...base,
      iceServers: [{ urls: 'stun:s.example' }, { urls: ['turn:t.example'], username: 'u', credential: 'p' }],
      iceTransportPolicy: 'relay',
    });
    expect(v.iceServers).toEqual([
      { urls: ['stun:s.example'] },
      { urls: ['turn:t.example'], username: 'u', credential: 'p' },
    ]);
    expect(v.iceTransportPolicy).toBe('relay');
  });

  it('refuses bad lists and policies with INVALID_ARGUMENT naming the option', () => {
    expect(argumentOf({ ...base, iceServers: 'stun:s.example' })).toBe('iceServers');
    expect(argumentOf({ ...base, iceServers: [{ urls: 'turn:t.example' }] })).toBe('iceServers');
    expect(argumentOf({ ...base, iceServers: [{ urls: 'https://t.example' }] })).toBe('iceServers');
    expect(argumentOf({ ...base, iceTransportPolicy: 'none' })).toBe('iceTransportPolicy');
    expect(argumentOf({ ...base, iceTransportPolicy: 'relay', iceServers: [] })).toBe('accepted');
  });
});
