import { MAX_NEIGHBOURS } from '../../core/constants.js';
import { ErrorCode, invalidArgument, MeshError } from '../../core/errors.js';
import type { PeerTuning } from '../worker/worker-api.js';
import type { CommonPeerOptions } from './compose-peer.js';
import { iceServersProblem, normaliseIceServers, type IceServerSpec } from '../../signaling/ice.js';

/** An RTCIceServer as createPeer accepts it (the DOM type, restated so the options need no DOM lib). */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** The options the browser's and the Node entry's createPeer share. */
export interface SharedPeerOptions {
  /** WebSocket URL(s) of bootstrap relays, e.g. `ws://localhost:8787/relay`. */
  bootstrap: string | string[];
  /** Peers only meet peers of the same realm. */
  realm?: string;
  /** TTL of advertisements in the DHT (s, default 300). */
  defaultTtl?: number;
  /** How long discovered providers are cached (s, default 60). */
  cacheTtl?: number;
  k?: number;
  alpha?: number;
  /**
   * The most channels (RTCPeerConnections) this peer keeps open at once, inbound ones
   * included, in [8, 64] (default 64). Fewer cost less memory per tab and make routes
   * longer: the neighbour policy keeps the closest siblings and one neighbour per bucket
   * first (docs/ARCHITECTURE.md, The neighbour-set rule).
   */
  maxNeighbours?: number;
  /** STUN/TURN servers of the app, used together with those the relay hands out (at most 8). */
  iceServers?: IceServer[];
  /** `'relay'` uses TURN only (to check a TURN server, or to hide addresses); default `'all'`. */
  iceTransportPolicy?: 'all' | 'relay';
}

export interface PeerOptions extends SharedPeerOptions {
  storage?: 'indexeddb' | 'memory';
  /**
   * Where the DHT worker's script is, for hosting the package's bundlers do not handle
   * (esbuild, Rollup, Rolldown, a CDN, a strict `worker-src` CSP): a same-origin http(s)
   * URL (relative ones resolve against the page), or a `blob:`/`data:` URL, of a copy of
   * the package's `dist/browser/worker.js`. It is started as a module worker. By default
   * the worker next to this module is used, which Vite and webpack emit on their own.
   */
  workerUrl?: string | URL;
  /**
   * How long (s) the IndexedDB database of a tab identity no tab runs any more is kept
   * before a peer of this origin removes it (default 7 days; a live tab's never is).
   */
  abandonedStorageTtl?: number;
}

/**
 * createPeer once took `serviceTtl` (macula's service_ttl: local services not re-advertised
 * within it are dropped) and never applied it. Here a peer re-advertises its services itself
 * until unadvertise() or close(), so such a TTL would either never run out or drop a service
 * the app still offers between two re-advertisements; it is refused rather than ignored.
 */
const SERVICE_TTL_REMOVED =
  "a local service lives until unadvertise() or close() (the peer re-advertises it itself); how long a peer's record outlives it in the DHT is advertise()'s ttl";

/**
 * The lowest channel cap: the policy's 4 siblings plus one neighbour in each of the farthest
 * buckets. Below it a node of a mesh of a few hundred tabs keeps too few buckets covered for
 * greedy routing, and lookups fall back on asking candidates one by one.
 */
const MIN_NEIGHBOUR_CAP = 8;

/** The options the worker's node and registry take (the rest are the main thread's). */
const TUNING_KEYS = ['defaultTtl', 'cacheTtl', 'k', 'alpha', 'maxNeighbours'] as const satisfies ReadonlyArray<
  keyof PeerTuning
>;

/** The shared options, checked: lists normalised, defaults filled in where the main thread needs them. */
export interface ValidSharedOptions extends Omit<
  SharedPeerOptions,
  'bootstrap' | 'realm' | 'iceServers' | 'iceTransportPolicy'
> {
  bootstrap: string[];
  realm: string;
  iceServers: IceServerSpec[];
  iceTransportPolicy: 'all' | 'relay';
}

export interface ValidPeerOptions extends ValidSharedOptions {
  storage: 'indexeddb' | 'memory';
  /** Absolute, when the app gave one. */
  workerUrl?: string;
  abandonedStorageTtl?: number;
}

/** Every option the browser's createPeer takes: anything else is a misspelling, refused rather than ignored. */
const OPTION_SET = {
  bootstrap: true,
  realm: true,
  defaultTtl: true,
  cacheTtl: true,
  k: true,
  alpha: true,
  maxNeighbours: true,
  storage: true,
  iceServers: true,
  iceTransportPolicy: true,
  workerUrl: true,
  abandonedStorageTtl: true,
} as const satisfies Record<keyof PeerOptions, true>;
export const PEER_OPTION_NAMES = Object.keys(OPTION_SET) as ReadonlyArray<keyof PeerOptions>;

/** Checks every option of the browser's createPeer up front, naming the one that is wrong (INVALID_ARGUMENT). */
export function validatePeerOptions(options: PeerOptions): ValidPeerOptions {
  const shared = validateSharedOptions(options, PEER_OPTION_NAMES);
  const abandoned = options.abandonedStorageTtl;
  if (abandoned !== undefined && !(Number.isInteger(abandoned) && abandoned >= 60 && abandoned <= 31_536_000)) {
    throw invalidArgument('abandonedStorageTtl', 'an integer number of seconds in [60, 31536000]', abandoned);
  }
  const storage = options.storage ?? 'indexeddb';
  if (storage !== 'indexeddb' && storage !== 'memory')
    throw invalidArgument('storage', "'indexeddb' or 'memory'", storage);
  const valid: ValidPeerOptions = { ...shared, storage };
  if (abandoned !== undefined) valid.abandonedStorageTtl = abandoned;
  if (options.workerUrl !== undefined) valid.workerUrl = resolveWorkerUrl(options.workerUrl, globalThis.location?.href);
  return valid;
}

/**
 * Checks the options every entry shares, and refuses any name not in `names` (the entry's
 * whole option list). Only the shared options are returned: the entry checks its own.
 */
export function validateSharedOptions(options: SharedPeerOptions, names: ReadonlyArray<string>): ValidSharedOptions {
  if (typeof options !== 'object' || options === null) throw invalidArgument('options', 'an object', options);
  if (Object.prototype.hasOwnProperty.call(options, 'serviceTtl')) {
    throw new MeshError(ErrorCode.INVALID_ARGUMENT, `serviceTtl: not an option: ${SERVICE_TTL_REMOVED}`, {
      argument: 'serviceTtl',
    });
  }
  for (const name of Object.keys(options)) {
    if (!names.includes(name)) {
      throw new MeshError(
        ErrorCode.INVALID_ARGUMENT,
        `${name}: not an option of createPeer (they are ${names.join(', ')})`,
        { argument: name },
      );
    }
  }
  const bootstrap = typeof options.bootstrap === 'string' ? [options.bootstrap] : options.bootstrap;
  if (!Array.isArray(bootstrap) || bootstrap.length === 0 || !bootstrap.every(isWsUrl)) {
    throw invalidArgument('bootstrap', 'a ws:// or wss:// URL, or a non-empty list of them', options.bootstrap);
  }
  const realm = options.realm ?? 'default';
  if (typeof realm !== 'string' || realm.length === 0 || realm.length > 64)
    throw invalidArgument('realm', '1 to 64 characters', realm);
  // defaultTtl is the ttl of advertisements and subscriptions that name none, held to advertise's range.
  const defaultTtl = options.defaultTtl;
  if (defaultTtl !== undefined && !(Number.isInteger(defaultTtl) && defaultTtl >= 10 && defaultTtl <= 86_400)) {
    throw invalidArgument('defaultTtl', 'an integer number of seconds in [10, 86400]', defaultTtl);
  }
  const cacheTtl = options.cacheTtl;
  if (cacheTtl !== undefined && !(Number.isInteger(cacheTtl) && cacheTtl >= 1 && cacheTtl <= 86_400)) {
    throw invalidArgument('cacheTtl', 'an integer number of seconds in [1, 86400]', cacheTtl);
  }
  if (options.k !== undefined && !(Number.isInteger(options.k) && options.k >= 2 && options.k <= 64))
    throw invalidArgument('k', 'an integer in [2, 64]', options.k);
  if (options.alpha !== undefined && !(Number.isInteger(options.alpha) && options.alpha >= 1 && options.alpha <= 8)) {
    throw invalidArgument('alpha', 'an integer in [1, 8]', options.alpha);
  }
  const cap = options.maxNeighbours;
  if (cap !== undefined && !(Number.isInteger(cap) && cap >= MIN_NEIGHBOUR_CAP && cap <= MAX_NEIGHBOURS)) {
    throw invalidArgument('maxNeighbours', `an integer in [${MIN_NEIGHBOUR_CAP}, ${MAX_NEIGHBOURS}]`, cap);
  }
  const iceServers = options.iceServers ?? [];
  const iceProblem = iceServersProblem(iceServers);
  if (iceProblem !== null)
    throw invalidArgument('iceServers', `a list of RTCIceServer (${iceProblem})`, options.iceServers);
  const iceTransportPolicy = options.iceTransportPolicy ?? 'all';
  if (iceTransportPolicy !== 'all' && iceTransportPolicy !== 'relay')
    throw invalidArgument('iceTransportPolicy', "'all' or 'relay'", iceTransportPolicy);
  return {
    ...pickDefined(options, TUNING_KEYS),
    bootstrap,
    realm,
    iceServers: normaliseIceServers(iceServers),
    iceTransportPolicy,
  };
}

/** What composePeer takes of the checked options. */
export function commonOf(opts: ValidSharedOptions): CommonPeerOptions {
  return {
    bootstrap: opts.bootstrap,
    realm: opts.realm,
    iceServers: opts.iceServers,
    iceTransportPolicy: opts.iceTransportPolicy,
    tuning: tuningOf(opts),
  };
}

/** The tuning options that were given, for the worker (absent ones keep the worker's defaults). */
export function tuningOf(opts: ValidSharedOptions): PeerTuning {
  return pickDefined(opts, TUNING_KEYS);
}

function pickDefined<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/**
 * A worker script must come from the page's own origin (the browser refuses others with a
 * SecurityError that names nothing): say so up front, naming the option.
 */
export function resolveWorkerUrl(value: unknown, pageUrl: string | undefined): string {
  const expected = 'a same-origin http(s) URL, or a blob: or data: URL, of the worker script';
  if (typeof value !== 'string' && !(value instanceof URL)) throw invalidArgument('workerUrl', expected, value);
  let url: URL;
  try {
    url = new URL(value, pageUrl);
  } catch {
    throw invalidArgument('workerUrl', expected, String(value));
  }
  if (url.protocol === 'blob:' || url.protocol === 'data:') return url.href;
  const page = pageUrl === undefined ? undefined : new URL(pageUrl);
  const sameOrigin = page === undefined || page.origin === url.origin;
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !sameOrigin)
    throw invalidArgument('workerUrl', expected, url.href);
  return url.href;
}

function isWsUrl(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  try {
    const u = new URL(v);
    return u.protocol === 'ws:' || u.protocol === 'wss:';
  } catch {
    return false;
  }
}
