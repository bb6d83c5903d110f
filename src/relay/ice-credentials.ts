/**
 * STUN/TURN servers a relay hands to every peer it admits, so a deployment configures
 * NAT traversal once, on the relay, instead of in every page.
 *
 * TURN credentials follow the TURN REST scheme that coturn checks with `use-auth-secret`
 * and `static-auth-secret`: the username is "<expiry unix seconds>:<node id>" and the
 * password is base64(HMAC-SHA1(secret, username)). coturn recomputes the password from the
 * shared secret and refuses a username whose expiry has passed, so the relay never talks
 * to the TURN server and a leaked credential is only good until its expiry.
 */
import { createHmac } from 'node:crypto';
import { invalidArgument } from '../core/errors.js';
import { iceServersProblem, MAX_ICE_TTL_S, type IceServerSpec, type RelayIce } from '../signaling/ice.js';

export interface IceIssuerOptions {
  /** stun: URLs, e.g. `stun:stun.example.org:3478`. */
  stun?: string[];
  /** turn: or turns: URLs, e.g. `turn:turn.example.org:3478?transport=udp`; need `turnSecret`. */
  turn?: string[];
  /** coturn's static-auth-secret. */
  turnSecret?: string;
  /** How long issued TURN credentials hold, in seconds (default a day). */
  turnTtl?: number;
  /** Unix time in ms (tests). */
  now?: () => number;
}

export interface IceIssuer {
  /** The servers for `nodeId`, with fresh TURN credentials when TURN is configured. */
  issue(nodeId: string): RelayIce;
}

export const DEFAULT_TURN_TTL_S = 86_400;
/** Shorter than this and a peer would spend its time renewing. */
export const MIN_TURN_TTL_S = 10;
/** coturn's REST API separator (`--rest-api-separator`, default ':'). */
const SEPARATOR = ':';

/** TURN REST credentials for `user`, valid until `nowMs` + `ttlS`. */
export function turnRestCredentials(
  secret: string,
  user: string,
  ttlS: number,
  nowMs: number,
): { username: string; credential: string } {
  const expiry = Math.floor(nowMs / 1000) + ttlS;
  const username = `${expiry}${SEPARATOR}${user}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential };
}

/**
 * An issuer for the given servers, or undefined when none are configured. Throws
 * INVALID_ARGUMENT naming the option that is wrong, so a relay refuses to start rather
 * than hand out lists that browsers reject.
 */
export function createIceIssuer(options: IceIssuerOptions): IceIssuer | undefined {
  const stun = options.stun ?? [];
  const turn = options.turn ?? [];
  for (const url of stun) if (!/^stuns?:/.test(url)) throw invalidArgument('stun', 'stun: or stuns: URLs', url);
  for (const url of turn) if (!/^turns?:/.test(url)) throw invalidArgument('turn', 'turn: or turns: URLs', url);
  const secret = options.turnSecret;
  if (turn.length > 0 && (typeof secret !== 'string' || secret.length === 0)) {
    throw invalidArgument(
      'turnSecret',
      "the TURN server's shared secret (coturn static-auth-secret) when TURN URLs are given",
    );
  }
  if (turn.length === 0 && secret !== undefined)
    throw invalidArgument('turn', 'at least one turn: URL when a TURN secret is given');
  const ttl = options.turnTtl ?? DEFAULT_TURN_TTL_S;
  if (!Number.isInteger(ttl) || ttl < MIN_TURN_TTL_S || ttl > MAX_ICE_TTL_S) {
    throw invalidArgument('turnTtl', `an integer number of seconds in [${MIN_TURN_TTL_S}, ${MAX_ICE_TTL_S}]`, ttl);
  }
  if (stun.length === 0 && turn.length === 0) return undefined;
  const now = options.now ?? Date.now;
  // Checked once with placeholder credentials: the same rules the peers apply to what they receive.
  const sample: IceServerSpec[] = [
    ...(stun.length > 0 ? [{ urls: stun }] : []),
    ...(turn.length > 0 ? [{ urls: turn, username: 'u', credential: 'c' }] : []),
  ];
  const problem = iceServersProblem(sample);
  if (problem !== null) throw invalidArgument('stun/turn', `a valid ICE server list (${problem})`);

  return {
    issue(nodeId) {
      const iceServers: IceServerSpec[] = stun.length > 0 ? [{ urls: [...stun] }] : [];
      if (turn.length === 0) return { iceServers };
      iceServers.push({ urls: [...turn], ...turnRestCredentials(secret!, nodeId, ttl, now()) });
      return { iceServers, ttl };
    },
  };
}
