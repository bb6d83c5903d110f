/**
 * ICE server lists as they travel: from the app (createPeer's `iceServers`) and from the
 * relay (its welcome and `ice` answers, with time-limited TURN credentials). One checker
 * serves both, so a list the relay sends is held to what an app may pass, and neither can
 * reach RTCPeerConnection with something that makes its constructor throw (a `turn:` URL
 * without credentials does) or an unbounded list (Firefox already slows down past two).
 *
 * Plain data only: no DOM types, so the Node relay and its tests share this file.
 */

/** An ICE server with its URLs always as a list (RTCIceServer also allows one string). */
export interface IceServerSpec {
  urls: string[];
  username?: string;
  credential?: string;
}

/** What a relay hands a peer: its servers and, with TURN credentials, how long those hold (s). */
export interface RelayIce {
  iceServers: IceServerSpec[];
  ttl?: number;
}

export const MAX_ICE_SERVERS = 8;
export const MAX_URLS_PER_SERVER = 4;
const MAX_URL_CHARS = 256;
const MAX_CREDENTIAL_CHARS = 512;
/** Longest credential lifetime a relay may announce (a week); longer ones are a misconfiguration. */
export const MAX_ICE_TTL_S = 7 * 86_400;

const SCHEME_RE = /^(stun|stuns|turn|turns):[^\s]+$/;

const isShortString = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= max;

/** Why `v` is not an ICE server list, or null when it is one. */
export function iceServersProblem(v: unknown): string | null {
  if (!Array.isArray(v)) return 'not a list';
  if (v.length > MAX_ICE_SERVERS) return `more than ${MAX_ICE_SERVERS} servers`;
  for (const [i, server] of v.entries()) {
    const problem = iceServerProblem(server);
    if (problem !== null) return `server ${i}: ${problem}`;
  }
  return null;
}

function iceServerProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not an object';
  const { urls, username, credential } = v as Record<string, unknown>;
  const list = typeof urls === 'string' ? [urls] : urls;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_URLS_PER_SERVER)
    return `urls: 1 to ${MAX_URLS_PER_SERVER} URLs`;
  for (const url of list) {
    if (!isShortString(url, MAX_URL_CHARS) || !SCHEME_RE.test(url))
      return `urls: ${JSON.stringify(url)} is not a stun:, stuns:, turn: or turns: URL`;
  }
  if (username !== undefined && !isShortString(username, MAX_CREDENTIAL_CHARS)) return 'username: a string';
  if (credential !== undefined && !isShortString(credential, MAX_CREDENTIAL_CHARS)) return 'credential: a string';
  // RTCPeerConnection throws InvalidAccessError for a TURN URL without both; say so here instead.
  const turn = (list as string[]).some((u) => u.startsWith('turn'));
  if (turn && (username === undefined || credential === undefined))
    return 'a turn: or turns: URL needs a username and a credential';
  return null;
}

/** A checked list in the wire shape (URLs as arrays, no extra fields). Call iceServersProblem first. */
export function normaliseIceServers(v: readonly unknown[]): IceServerSpec[] {
  return v.map((s) => {
    const { urls, username, credential } = s as { urls: string | string[]; username?: string; credential?: string };
    const spec: IceServerSpec = { urls: typeof urls === 'string' ? [urls] : [...urls] };
    if (username !== undefined) spec.username = username;
    if (credential !== undefined) spec.credential = credential;
    return spec;
  });
}

/** Parse the relay's `ice` field: a checked RelayIce, or null. Never throws. */
export function parseRelayIce(v: unknown): RelayIce | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const { iceServers, ttl } = v as Record<string, unknown>;
  if (iceServersProblem(iceServers) !== null) return null;
  if (ttl !== undefined && !(Number.isInteger(ttl) && (ttl as number) >= 1 && (ttl as number) <= MAX_ICE_TTL_S))
    return null;
  const ice: RelayIce = { iceServers: normaliseIceServers(iceServers as unknown[]) };
  if (ttl !== undefined) ice.ttl = ttl as number;
  return ice;
}
