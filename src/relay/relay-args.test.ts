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
      join: [],
      peer: true,
    });
  });

  it('federation: --join (repeatable; JOIN comma-separated), --public-url, --no-peer (RELAY_PEER=0)', () => {
    const a = 'ws://localhost:8787/relay';
    const b = 'wss://relay-b.example.org/relay';
    expect(
      parseRelayArgs(['--join', a, `--join=${b}`, '--public-url', 'wss://me.example.org/relay'], {}),
    ).toMatchObject({ join: [a, b], publicUrl: 'wss://me.example.org/relay', peer: true });
    expect(parseRelayArgs([], { JOIN: `${a}, ${b}`, PUBLIC_URL: 'ws://10.0.0.2:8788/relay' })).toMatchObject({
      join: [a, b],
      publicUrl: 'ws://10.0.0.2:8788/relay',
    });
    // Flags win over the environment, as for every other flag.
    expect(parseRelayArgs(['--join', b], { JOIN: a })).toMatchObject({ join: [b] });
    expect(parseRelayArgs(['--no-peer'], {})).toMatchObject({ peer: false, join: [] });
    expect(parseRelayArgs([], { RELAY_PEER: '0' })).toMatchObject({ peer: false });
    expect(parseRelayArgs([], { RELAY_PEER: '1' })).toMatchObject({ peer: true });
  });

  it('refuses federation mistakes with the flag named: not a relay URL, credentials, joining without a peer', () => {
    const mistakes: Array<[string[], Record<string, string>, RegExp]> = [
      [['--join', 'http://localhost:8787/relay'], {}, /--join/],
      [['--join', 'localhost:8787'], {}, /--join/],
      [['--join'], {}, /--join/],
      [[], { JOIN: 'ws://ok/relay,ftp://nope' }, /--join/],
      [['--public-url', 'ws://user:pw@host/relay'], {}, /--public-url.*credentials/],
      [['--public-url', 'https://host/relay'], {}, /--public-url/],
      [['--no-peer', '--join', 'ws://a/relay'], {}, /--no-peer/],
      [[], { RELAY_PEER: '0', JOIN: 'ws://a/relay' }, /--join/],
      [[], { RELAY_PEER: 'maybe' }, /RELAY_PEER/],
    ];
    for (const [argv, env, message] of mistakes) {
      expect(() => parseRelayArgs(argv, env), argv.join(' ') || JSON.stringify(env)).toThrow(message);
    }
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
