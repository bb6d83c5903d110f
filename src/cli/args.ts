/**
 * The command line of `npx macula-web`: a subcommand, then flags, each with an
 * environment variable that stands in for it (flags win). Nothing here starts anything,
 * so every mistake is reported before a port is taken.
 */
import { parseRelayArgs, RELAY_FLAGS_HELP, RELAY_SWITCHES, type RelayArgs } from '../relay/relay-args.js';

export type Command = 'relay' | 'demo';

export interface ServeArgs {
  command: Command;
  port: number;
  host: string;
  socketsPerAddress: number | undefined;
  /** Directory of the built demo (`demo` only); undefined: the one inside the package. */
  root: string | undefined;
  /** STUN/TURN, TLS and proxy settings (relay-args.ts), the same for both commands and `npm start`. */
  deployment: RelayArgs;
}

export type CliArgs = ServeArgs | { command: 'help' } | { command: 'version' };

/** A usage mistake: printed with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `Usage: macula-web <command> [options]

Commands:
  relay   run a bootstrap relay (WebSocket signaling at ws://HOST:PORT/relay)
  demo    serve the demo page and its relay on one port (http://HOST:PORT/)

Options:                          environment
  -p, --port <n>     port, 0 picks a free one (default 8787)        PORT
  -H, --host <addr>  interface to bind (relay: 0.0.0.0, demo: 127.0.0.1) HOST
  --sockets-per-address <n>  relay sockets per client address (default 64)
                                                                   RELAY_SOCKETS_PER_ADDRESS
  --root <dir>       demo: directory of a built demo (default: the packaged one)
                                                                   STATIC_ROOT
  -h, --help         show this help
  -v, --version      print the version

Deployment (both commands; see the README's Deploying section):
${RELAY_FLAGS_HELP.split('\n')
  .filter((l) => !/--(port|host) /.test(l))
  .join('\n')}

Examples:
  npx macula-web relay --port 8787
  npx macula-web relay --port 8788 --join ws://relay-a.example.org:8787/relay --public-url wss://relay-b.example.org/relay
  PORT=9000 npx macula-web demo`;

const DEFAULT_PORT = 8787;
/**
 * A relay exists to be reached from other machines, so it binds every interface by default;
 * the demo (and `npm start`) is something to try on this machine, so it binds loopback only.
 */
const DEFAULT_HOST: Record<Command, string> = { relay: '0.0.0.0', demo: '127.0.0.1' };

export function parseArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CliArgs {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help')
    return { command: 'help' };
  if (command === '-v' || command === '--version') return { command: 'version' };
  if (command !== 'relay' && command !== 'demo') throw new UsageError(`unknown command ${JSON.stringify(command)}`);

  const flags = new Map<string, string>();
  /** Flags of the relay's deployment, parsed by relay-args.ts. */
  const deploymentFlags: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '-h' || arg === '--help') return { command: 'help' };
    const eq = arg.indexOf('=');
    const name = canonical(eq > 0 ? arg.slice(0, eq) : arg);
    if (name === undefined && arg.startsWith('--') && arg !== '--root') {
      deploymentFlags.push(arg);
      if (eq < 0 && !RELAY_SWITCHES.has(arg) && rest[i + 1] !== undefined) deploymentFlags.push(rest[++i]!);
      continue;
    }
    if (name === undefined || (name === 'root' && command !== 'demo'))
      throw new UsageError(`unknown option ${JSON.stringify(arg)} for ${command}`);
    const value = eq > 0 ? arg.slice(eq + 1) : rest[++i];
    if (value === undefined || value === '') throw new UsageError(`${arg} needs a value`);
    flags.set(name, value);
  }
  const port = integer('port', flags.get('port') ?? env['PORT'], DEFAULT_PORT, 0, 65_535);
  const host = flags.get('host') ?? nonEmpty(env['HOST']) ?? DEFAULT_HOST[command];
  const sockets = flags.get('sockets-per-address') ?? nonEmpty(env['RELAY_SOCKETS_PER_ADDRESS']);
  const socketsPerAddress =
    sockets === undefined ? undefined : integer('sockets-per-address', sockets, 0, 1, 1_000_000);
  const root = command === 'demo' ? (flags.get('root') ?? nonEmpty(env['STATIC_ROOT'])) : undefined;
  let deployment: RelayArgs;
  try {
    deployment = parseRelayArgs(deploymentFlags, env);
  } catch (e) {
    throw new UsageError(`unknown or incomplete option for ${command}: ${(e as Error).message}`);
  }
  return { command, port, host, socketsPerAddress, root, deployment };
}

function canonical(flag: string): string | undefined {
  switch (flag) {
    case '-p':
    case '--port':
      return 'port';
    case '-H':
    case '--host':
      return 'host';
    case '--sockets-per-address':
      return 'sockets-per-address';
    case '--root':
      return 'root';
    default:
      return undefined;
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}
