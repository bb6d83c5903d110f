import { describe, expect, it } from 'vitest';
import { parseArgs, USAGE, UsageError } from './args.js';

const serveArgs = (argv: string[], env: Record<string, string> = {}) => {
  const args = parseArgs(argv, env);
  if (args.command !== 'relay' && args.command !== 'demo')
    throw new Error(`expected a server command, got ${args.command}`);
  return args;
};

describe('macula-web command line', () => {
  it('runs a relay on 8787 on every interface by default', () => {
    expect(serveArgs(['relay'])).toEqual({
      command: 'relay',
      port: 8787,
      host: '0.0.0.0',
      socketsPerAddress: undefined,
      root: undefined,
      deployment: { ice: {}, join: [], peer: true },
    });
  });

  it('serves the demo on loopback only unless told otherwise', () => {
    expect(serveArgs(['demo'])).toMatchObject({ command: 'demo', host: '127.0.0.1' });
    expect(serveArgs(['demo'], { HOST: '0.0.0.0' })).toMatchObject({ host: '0.0.0.0' });
  });

  it('takes flags in both spellings, and they win over the environment', () => {
    const env = { PORT: '9000', HOST: '10.0.0.1' };
    expect(serveArgs(['relay'], env)).toMatchObject({ port: 9000, host: '10.0.0.1' });
    expect(serveArgs(['relay', '--port', '8800', '--host=127.0.0.1'], env)).toMatchObject({
      port: 8800,
      host: '127.0.0.1',
    });
    expect(serveArgs(['demo', '-p', '0', '-H', '::1'])).toMatchObject({ command: 'demo', port: 0, host: '::1' });
    expect(serveArgs(['demo', '--sockets-per-address', '512', '--root', 'build'])).toMatchObject({
      socketsPerAddress: 512,
      root: 'build',
    });
    expect(serveArgs(['demo'], { RELAY_SOCKETS_PER_ADDRESS: '256', STATIC_ROOT: 'out' })).toMatchObject({
      socketsPerAddress: 256,
      root: 'out',
    });
  });

  it('passes the deployment flags (STUN/TURN, TLS, proxy) and their environment to relay-args', () => {
    const args = serveArgs(
      ['demo', '--turn', 'turn:198.18.0.1:3478', '--turn-ttl=600', '--trust-proxy', '--port', '9'],
      { TURN_SECRET: 's' },
    );
    expect(args).toMatchObject({
      port: 9,
      deployment: { ice: { turn: ['turn:198.18.0.1:3478'], turnTtl: 600, turnSecret: 's' }, trustProxy: true },
    });
    expect(() => parseArgs(['relay', '--turn-ttl', 'soon'], {})).toThrow(UsageError);
    expect(() => parseArgs(['relay', '--stun'], {})).toThrow(UsageError);
  });

  it('passes the federation flags through, for relay and demo (npm start) alike; --no-peer takes no value', () => {
    for (const command of ['relay', 'demo']) {
      expect(
        serveArgs([command, '--no-peer', '--port', '8788', '--public-url', 'ws://b.example.org:8788/relay']),
      ).toMatchObject({
        port: 8788,
        deployment: { peer: false, join: [], publicUrl: 'ws://b.example.org:8788/relay' },
      });
      expect(
        serveArgs([command, '--join', 'ws://localhost:8787/relay', '--join', 'ws://localhost:8789/relay'], {
          PORT: '8788',
        }),
      ).toMatchObject({
        port: 8788,
        deployment: { peer: true, join: ['ws://localhost:8787/relay', 'ws://localhost:8789/relay'] },
      });
    }
    expect(serveArgs(['relay'], { JOIN: 'ws://a:1/relay', RELAY_PEER: '1' }).deployment).toMatchObject({
      join: ['ws://a:1/relay'],
    });
    expect(() => parseArgs(['relay', '--join', 'http://a/relay'], {})).toThrow(/--join/);
    expect(() => parseArgs(['demo', '--no-peer', '--join', 'ws://a/relay'], {})).toThrow(UsageError);
    expect(USAGE).toMatch(/--join URL/);
  });

  it('answers --help and --version without starting anything', () => {
    for (const argv of [[], ['--help'], ['-h'], ['help'], ['relay', '--help'], ['demo', '--port', '1', '-h']]) {
      expect(parseArgs(argv, {})).toEqual({ command: 'help' });
    }
    expect(parseArgs(['--version'], {})).toEqual({ command: 'version' });
    expect(USAGE).toMatch(/npx macula-web relay --port 8787/);
  });

  it('refuses unknown commands, unknown flags, missing values and bad ports', () => {
    const mistakes: Array<[string[], Record<string, string>]> = [
      [['serve'], {}],
      [['relay', '--prot', '1'], {}],
      [['relay', '--root', 'x'], {}],
      [['relay', '--port'], {}],
      [['relay', '--port', '65536'], {}],
      [['relay', '--port', '-1'], {}],
      [['relay', '--port', '80.5'], {}],
      [['relay'], { PORT: 'eighty' }],
      [['demo', '--sockets-per-address', '0'], {}],
    ];
    for (const [argv, env] of mistakes) expect(() => parseArgs(argv, env), argv.join(' ')).toThrow(UsageError);
  });
});
