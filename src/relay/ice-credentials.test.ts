import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isMeshError } from '../core/errors.js';
import { createIceIssuer, turnRestCredentials, type IceIssuerOptions } from './ice-credentials.js';

const nodeId = 'ab'.repeat(32);

describe('TURN REST credentials (coturn use-auth-secret)', () => {
  it('username is "<expiry>:<node id>", password base64 HMAC-SHA1 of it under the secret (vector from openssl dgst -sha1 -hmac)', () => {
    const c = turnRestCredentials('north-wind', nodeId, 86_400, 1_700_000_000_500);
    expect(c.username).toBe(`1700086400:${nodeId}`);
    expect(c.credential).toBe('2RvhjW/5xCLD+lSKSPgSi5nM+uk=');
  });

  it('an issuer hands STUN as is and TURN with fresh credentials that expire ttl seconds from now', () => {
    let now = 1_000_000_000_000;
    const issuer = createIceIssuer({
      stun: ['stun:s.example:3478'],
      turn: ['turn:t.example:3478?transport=udp'],
      turnSecret: 'k',
      turnTtl: 600,
      now: () => now,
    })!;
    const first = issuer.issue(nodeId);
    expect(first.ttl).toBe(600);
    expect(first.iceServers[0]).toEqual({ urls: ['stun:s.example:3478'] });
    const turn = first.iceServers[1]!;
    expect(turn.urls).toEqual(['turn:t.example:3478?transport=udp']);
    expect(turn.username).toBe(`${1_000_000_000 + 600}:${nodeId}`);
    expect(turn.credential).toBe(createHmac('sha1', 'k').update(turn.username!).digest('base64'));
    now += 300_000;
    expect(issuer.issue(nodeId).iceServers[1]!.username).toBe(`${1_000_000_300 + 600}:${nodeId}`);
  });

  it('STUN only: no credentials and no ttl; nothing configured: no issuer', () => {
    expect(createIceIssuer({ stun: ['stun:s.example'] })!.issue(nodeId)).toEqual({
      iceServers: [{ urls: ['stun:s.example'] }],
    });
    expect(createIceIssuer({})).toBeUndefined();
  });

  it('refuses a configuration browsers would reject, naming the option', () => {
    const bad: Array<[IceIssuerOptions, string]> = [
      [{ turn: ['turn:t.example'] }, 'turnSecret'],
      [{ turnSecret: 's' }, 'turn'],
      [{ stun: ['turn:t.example'] }, 'stun'],
      [{ turn: ['stun:t.example'], turnSecret: 's' }, 'turn'],
      [{ turn: ['turn:t.example'], turnSecret: 's', turnTtl: 5 }, 'turnTtl'],
      [{ stun: ['stun:a', 'stun:b', 'stun:c', 'stun:d', 'stun:e'] }, 'stun/turn'],
    ];
    for (const [options, argument] of bad) {
      let error: unknown;
      try {
        createIceIssuer(options);
      } catch (e) {
        error = e;
      }
      expect(isMeshError(error) && error.details?.['argument']).toBe(argument);
    }
  });
});
