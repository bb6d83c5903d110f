/**
 * Processes the network suites start themselves: coturn, the `npm start` server (demo +
 * relay, with the flags under test), each optionally inside a network namespace. Every
 * one is stopped by its own pid (never by name), and a suite's teardown stops them even
 * when a test failed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Service {
  /** Everything it printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** Run a command (through `ip netns exec NS` when `netns` is set) until `ready` resolves. */
export async function startService(
  name: string,
  command: string[],
  opts: {
    netns?: string | undefined;
    env?: Record<string, string>;
    ready: (output: () => string) => Promise<void>;
    cleanup?: () => void;
  },
): Promise<Service> {
  const argv = opts.netns === undefined ? command : ['ip', 'netns', 'exec', opts.netns, ...command];
  const child = spawn(argv[0]!, argv.slice(1), {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let log = '';
  const append = (b: Buffer): void => {
    log = (log + b.toString()).slice(-20_000);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (): Promise<void> => {
    await terminate(child, exited);
    opts.cleanup?.();
  };
  try {
    await Promise.race([
      opts.ready(() => log),
      exited.then((code) => {
        throw new Error(`${name} exited (${code}) before it was ready:\n${log}`);
      }),
    ]);
  } catch (e) {
    await stop();
    throw e;
  }
  return { output: () => log, stop };
}

async function terminate(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  // The process group: `ip netns exec` and tsx run the real process as a child.
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const killed = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 3_000))]);
  if (!killed) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    await exited;
  }
}

/** Poll `check` until it holds or `timeoutMs` passes. */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A STUN Binding request answered: the server is up (RFC 5389 header, no attributes). */
export function stunAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const request = Buffer.alloc(20);
    request.writeUInt16BE(0x0001, 0);
    request.writeUInt32BE(0x2112a442, 4);
    randomBytes(12).copy(request, 8);
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('message', (m) =>
      done(m.readUInt16BE(0) === 0x0101 && m.subarray(8, 20).equals(request.subarray(8, 20))),
    );
    socket.on('error', () => done(false));
    socket.send(request, port, host);
  });
}

export interface CoturnOptions {
  listenIp: string;
  port: number;
  /** Relay ports (allocations), inclusive. */
  minPort: number;
  maxPort: number;
  secret: string;
  netns?: string;
  /** Needed when the peers (browsers) are on the same host as the TURN server. */
  allowLoopbackPeers?: boolean;
}

/** coturn with TURN REST credentials (use-auth-secret), UDP/TCP only, no CLI, its own database. */
export async function startCoturn(o: CoturnOptions): Promise<Service & { url: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'macula-coturn-'));
  const service = await startService(
    'coturn',
    [
      'turnserver',
      '-n',
      `--listening-ip=${o.listenIp}`,
      `--relay-ip=${o.listenIp}`,
      `--listening-port=${o.port}`,
      `--min-port=${o.minPort}`,
      `--max-port=${o.maxPort}`,
      '--use-auth-secret',
      `--static-auth-secret=${o.secret}`,
      '--realm=macula.test',
      '--no-tls',
      '--no-dtls',
      '--no-cli',
      '--no-rfc5780',
      '--no-stun-backward-compatibility',
      '--log-file=stdout',
      '--simple-log',
      `--pidfile=${join(dir, 'turn.pid')}`,
      `--db=${join(dir, 'turndb')}`,
      ...(o.allowLoopbackPeers ? ['--allow-loopback-peers'] : []),
    ],
    {
      netns: o.netns,
      // From inside a namespace the probe cannot reach it; its log says when it listens.
      ready: (out) =>
        until(
          'coturn to listen',
          () => (o.netns === undefined ? stunAnswers(o.listenIp, o.port) : /Total General servers/.test(out())),
          15_000,
        ),
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    },
  );
  return { ...service, url: `turn:${o.listenIp}:${o.port}?transport=udp` };
}

/** `npm start`'s server (src/relay/serve.ts) with `args`, serving the built demo. */
export async function startServe(o: {
  port: number;
  host: string;
  args?: string[];
  netns?: string;
  env?: Record<string, string>;
  tls?: boolean;
}): Promise<Service & { origin: string }> {
  const scheme = o.tls === true ? 'https' : 'http';
  const service = await startService('serve', ['node', '--import', 'tsx', 'src/relay/serve.ts', ...(o.args ?? [])], {
    netns: o.netns,
    // Signaling only (no relay peer of its own), unless a suite asks: these suites check the
    // network path between their own tabs (every pair relayed, direct behind NATs), and a
    // relay's peer would be one more end to each tab, on whatever path its host has.
    env: { PORT: String(o.port), HOST: o.host, RELAY_SOCKETS_PER_ADDRESS: '512', RELAY_PEER: '0', ...o.env },
    ready: (out) => until('the server to listen', () => out().includes('macula-web: demo on'), 30_000),
  });
  return { ...service, origin: `${scheme}://${o.host}:${o.port}` };
}
