/**
 * The relay's deployment flags, shared by `npm start` (serve.ts), the standalone relay
 * (main.ts) and any CLI that starts one: NAT traversal and TLS, each also settable from
 * the environment (flags win). A secret is better passed as TURN_SECRET than on the
 * command line, where other users of the machine can read it in the process list.
 *
 *   --port N            PORT         listening port
 *   --host ADDR         HOST         listening address
 *   --stun URL          STUN_URLS    STUN server handed to peers (flag repeatable; env comma-separated)
 *   --turn URL          TURN_URLS    TURN server handed to peers with per-peer credentials (repeatable)
 *   --turn-secret S     TURN_SECRET  coturn's static-auth-secret
 *   --turn-ttl SECONDS  TURN_TTL     lifetime of issued TURN credentials (default 86400)
 *   --tls-cert PATH     TLS_CERT     PEM certificate: serve https and wss
 *   --tls-key PATH      TLS_KEY      PEM private key
 *   --trust-proxy       TRUST_PROXY=1  behind a reverse proxy: per-address limits use X-Forwarded-For
 *   --join URL          JOIN         another relay whose mesh this relay's peer enters (repeatable; env comma-separated)
 *   --public-url URL    PUBLIC_URL   the ws(s):// URL other machines reach this relay at (advertised in the DHT)
 *   --no-peer           RELAY_PEER=0 run no DHT peer of the relay's own (signaling only; cannot --join)
 */
import { invalidArgument } from '../core/errors.js';
import { parseRelayUrl } from '../signaling/relay-service.js';
import { createIceIssuer, type IceIssuer, type IceIssuerOptions } from './ice-credentials.js';
import { loadTlsFiles, type TlsFiles } from './tls.js';

export interface RelayArgs {
  port?: number;
  host?: string;
  ice: IceIssuerOptions;
  tlsCert?: string;
  tlsKey?: string;
  trustProxy?: boolean;
  /** Relays whose mesh the relay's own peer enters as a client would (README, Deploying: several relays). */
  join: string[];
  /** The URL this relay advertises in the DHT; undefined: the address it listens on. */
  publicUrl?: string;
  /** Whether the relay runs a DHT peer of its own (false with --no-peer or RELAY_PEER=0). */
  peer: boolean;
}

export const RELAY_FLAGS_HELP = [
  '  --port N             listening port (env PORT)',
  '  --host ADDR          listening address (env HOST)',
  '  --stun URL           STUN server for peers, repeatable (env STUN_URLS, comma-separated)',
  '  --turn URL           TURN server for peers, repeatable; needs --turn-secret (env TURN_URLS)',
  '  --turn-secret S      coturn static-auth-secret (env TURN_SECRET; preferred over the flag)',
  '  --turn-ttl SECONDS   lifetime of the TURN credentials issued per peer, default 86400 (env TURN_TTL)',
  '  --tls-cert PATH      PEM certificate: serve https/wss on the same port (env TLS_CERT)',
  '  --tls-key PATH       PEM private key (env TLS_KEY)',
  '  --trust-proxy        behind a reverse proxy: per-address limits use X-Forwarded-For (env TRUST_PROXY=1)',
  "  --join URL           another relay (ws:// or wss://) this relay's peer joins, repeatable (env JOIN, comma-separated)",
  '  --public-url URL     the ws(s):// URL this relay is reached at, advertised in the DHT (env PUBLIC_URL)',
  '  --no-peer            run no DHT peer of its own: signaling only, no --join (env RELAY_PEER=0)',
].join('\n');

const REPEATABLE = new Set(['--stun', '--turn', '--join']);
const SINGLE = new Set(['--port', '--host', '--turn-secret', '--turn-ttl', '--tls-cert', '--tls-key', '--public-url']);
/** Flags that take no value (the CLI needs to know them to tell a value from the next flag). */
export const RELAY_SWITCHES: ReadonlySet<string> = new Set(['--trust-proxy', '--no-peer']);
const SWITCHES = RELAY_SWITCHES;

/**
 * Parse the relay flags in `argv` (arguments only, no node/script path) over `env`.
 * Unknown flags and missing values throw INVALID_ARGUMENT naming the flag.
 */
export function parseRelayArgs(argv: readonly string[], env: Record<string, string | undefined>): RelayArgs {
  const single = new Map<string, string>();
  const repeated = new Map<string, string[]>();
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (SWITCHES.has(arg)) {
      switches.add(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (!REPEATABLE.has(flag) && !SINGLE.has(flag))
      throw invalidArgument(flag, `one of ${[...SINGLE, ...REPEATABLE, ...SWITCHES].join(', ')}`);
    const value = eq > 0 && arg.startsWith('--') ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') throw invalidArgument(flag, 'a value');
    if (REPEATABLE.has(flag)) repeated.set(flag, [...(repeated.get(flag) ?? []), value]);
    else single.set(flag, value);
  }
  const pick = (flag: string, envName: string): string | undefined => single.get(flag) ?? nonEmpty(env[envName]);
  const list = (flag: string, envName: string): string[] | undefined =>
    repeated.get(flag) ??
    nonEmpty(env[envName])
      ?.split(/[\s,]+/)
      .filter((u) => u.length > 0);

  const args: RelayArgs = { ice: {}, join: [], peer: true };
  const port = pick('--port', 'PORT');
  if (port !== undefined) args.port = integer('--port', port, 0, 65_535);
  const host = pick('--host', 'HOST');
  if (host !== undefined) args.host = host;
  const stun = list('--stun', 'STUN_URLS');
  if (stun !== undefined) args.ice.stun = stun;
  const turn = list('--turn', 'TURN_URLS');
  if (turn !== undefined) args.ice.turn = turn;
  const secret = pick('--turn-secret', 'TURN_SECRET');
  if (secret !== undefined) args.ice.turnSecret = secret;
  const ttl = pick('--turn-ttl', 'TURN_TTL');
  if (ttl !== undefined) args.ice.turnTtl = integer('--turn-ttl', ttl, 1, Number.MAX_SAFE_INTEGER);
  const cert = pick('--tls-cert', 'TLS_CERT');
  if (cert !== undefined) args.tlsCert = cert;
  const key = pick('--tls-key', 'TLS_KEY');
  if (key !== undefined) args.tlsKey = key;
  if (switches.has('--trust-proxy') || ['1', 'true', 'yes'].includes(env['TRUST_PROXY']?.toLowerCase() ?? ''))
    args.trustProxy = true;
  args.join = (list('--join', 'JOIN') ?? []).map((url) => relayUrl('--join', url));
  const publicUrl = pick('--public-url', 'PUBLIC_URL');
  if (publicUrl !== undefined) args.publicUrl = relayUrl('--public-url', publicUrl);
  const peerEnv = env['RELAY_PEER']?.trim().toLowerCase();
  if (peerEnv !== undefined && peerEnv !== '' && !['0', '1', 'true', 'false', 'yes', 'no'].includes(peerEnv))
    throw invalidArgument('RELAY_PEER', '0 or 1', env['RELAY_PEER']);
  if (switches.has('--no-peer') || ['0', 'false', 'no'].includes(peerEnv ?? '')) args.peer = false;
  // Joining is what the relay's own peer does: without one there is nothing to join with.
  if (!args.peer && args.join.length > 0)
    throw invalidArgument(
      '--join',
      'no relay to join with --no-peer (RELAY_PEER=0): the relay joins through its own peer',
      args.join,
    );
  return args;
}

/** What startRelay needs from the flags: the ICE issuer and the TLS files (read now, so errors show at start). */
export function relayDeployment(args: RelayArgs): { ice: IceIssuer | undefined; tls: TlsFiles | undefined } {
  return { ice: createIceIssuer(args.ice), tls: loadTlsFiles(args.tlsCert, args.tlsKey) };
}

/** One line for the start-up log: what peers are handed, never the secret. */
export function describeDeployment(args: RelayArgs): string {
  const parts = [];
  if (args.ice.stun?.length) parts.push(`STUN ${args.ice.stun.join(' ')}`);
  if (args.ice.turn?.length)
    parts.push(`TURN ${args.ice.turn.join(' ')} (credentials for ${args.ice.turnTtl ?? 86_400} s)`);
  return parts.length === 0
    ? 'no STUN/TURN servers configured (peers connect only where their own addresses reach: one machine, a LAN)'
    : `ICE: ${parts.join('; ')}`;
}

/** A relay URL flag: what peers would dial (signaling/relay-service.ts), or INVALID_ARGUMENT naming the flag. */
export function relayUrl(flag: string, raw: string): string {
  const url = parseRelayUrl(raw);
  if (url !== null) return url;
  const hasCredentials = /^wss?:\/\/[^/]*@/.test(raw) || raw.includes('#');
  throw invalidArgument(
    flag,
    hasCredentials
      ? 'a ws(s):// URL without credentials or #fragment'
      : 'a ws:// or wss:// URL such as ws://relay.example.org:8787/relay',
    raw,
  );
}

const nonEmpty = (v: string | undefined): string | undefined =>
  v === undefined || v.trim() === '' ? undefined : v.trim();

function integer(flag: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max)
    throw invalidArgument(flag, `an integer in [${min}, ${max}]`, v);
  return n;
}
