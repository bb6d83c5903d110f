import { describe, expect, it } from 'vitest';
import { describeDeployment, parseRelayArgs, relayDeployment } from './relay-args.js';

describe('relay flags', () => {
  it('reads flags (repeatable STUN/TURN, --flag=value too) and lets them win over the environment', () => {
    const args = parseRelayArgs(
      [
        '--port',
        '9000',
        '--stun',
        'stun:a:3478',
        '--stun=stun:b:3478',
        '--turn',
        'turn:t:3478',
        '--turn-ttl',
        '600',
        '--tls-cert',
        'c.pem',
        '--tls-key=k.pem',
      ],
      { PORT: '1', TURN_SECRET: 'from-env', STUN_URLS: 'stun:ignored', HOST: '127.0.0.1' },
    );
    expect(args).toEqual({
      port: 9000,
      host: '127.0.0.1',
      ice: { stun: ['stun:a:3478', 'stun:b:3478'], turn: ['turn:t:3478'], turnSecret: 'from-env', turnTtl: 600 },
      tlsCert: 'c.pem',
      tlsKey: 'k.pem',
    });
  });

  it('takes everything from the environment alone (lists comma- or space-separated)', () => {
    const args = parseRelayArgs([], {
      STUN_URLS: 'stun:a, stun:b',
      TURN_URLS: 'turn:t?transport=udp turns:t:443',
      TURN_SECRET: 's',
      TURN_TTL: '60',
      TLS_CERT: 'c',
      TLS_KEY: 'k',
    });
    expect(args.ice).toEqual({
      stun: ['stun:a', 'stun:b'],
      turn: ['turn:t?transport=udp', 'turns:t:443'],
      turnSecret: 's',
      turnTtl: 60,
    });
    expect([args.tlsCert, args.tlsKey]).toEqual(['c', 'k']);
    expect(parseRelayArgs([], { STUN_URLS: ' ' }).ice).toEqual({});
  });

  it('--trust-proxy is a switch, TRUST_PROXY=1 its environment form', () => {
    expect(parseRelayArgs(['--trust-proxy', '--port', '1'], {})).toMatchObject({ trustProxy: true, port: 1 });
    expect(parseRelayArgs([], { TRUST_PROXY: '1' }).trustProxy).toBe(true);
    expect(parseRelayArgs([], { TRUST_PROXY: '0' }).trustProxy).toBeUndefined();
  });

  it('refuses unknown flags, missing values and bad numbers, naming the flag', () => {
    expect(() => parseRelayArgs(['--stunn', 'x'], {})).toThrow(/--stunn/);
    expect(() => parseRelayArgs(['--turn'], {})).toThrow(/--turn: expected a value/);
    expect(() => parseRelayArgs(['--port', '70000'], {})).toThrow(/--port/);
    expect(() => parseRelayArgs(['--turn-ttl', '1h'], {})).toThrow(/--turn-ttl/);
    expect(() => parseRelayArgs([], { PORT: '-1' })).toThrow(/--port/);
  });

  it('turns the flags into an ICE issuer (TURN needs its secret) and describes them without the secret', () => {
    expect(() => relayDeployment(parseRelayArgs(['--turn', 'turn:t:3478'], {}))).toThrow(/turnSecret/);
    const args = parseRelayArgs(['--turn', 'turn:t:3478', '--turn-secret', 'hush'], {});
    const { ice, tls } = relayDeployment(args);
    expect(tls).toBeUndefined();
    expect(ice!.issue('ab'.repeat(32)).iceServers[0]!.urls).toEqual(['turn:t:3478']);
    expect(describeDeployment(args)).toContain('TURN turn:t:3478');
    expect(describeDeployment(args)).not.toContain('hush');
    expect(describeDeployment(parseRelayArgs([], {}))).toMatch(/no STUN\/TURN/);
  });
});
