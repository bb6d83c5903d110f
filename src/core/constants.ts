/** Protocol and policy defaults, with units in their names. Defaults follow macula (docs/ARCHITECTURE.md, Defaults). */

export const ID_BYTES = 32;
export const ID_BITS = ID_BYTES * 8;

/** Kademlia bucket size and lookup parallelism. */
export const K = 20;
export const ALPHA = 3;

/** Service registry (macula_service_registry defaults). */
export const DEFAULT_TTL_S = 300;
export const CACHE_TTL_S = 60;
export const SERVICE_TTL_S = 300;
/** Re-advertise every max(10, ttl - 60) seconds. */
export const readvertiseIntervalS = (ttlS: number): number => Math.max(10, ttlS - 60);

/** A DHT query (one hop of a routed lookup) is abandoned after this long. */
export const HOP_TIMEOUT_MS = 5_000;
export const RPC_TIMEOUT_MS = 5_000;
/** Routed envelopes (macula RPC_ROUTE) are dropped after this many hops. */
export const MAX_HOPS = 10;

/** Neighbour set: open channels chosen by the buckets (docs/ARCHITECTURE.md, The neighbour-set rule). */
export const MAX_NEIGHBOURS = 64;
/**
 * Channels of the cap that the neighbour plan leaves free. The page refuses (answers
 * "busy") any connection past the cap, so a node whose plan filled the cap could never take
 * an offer from a newcomer, however much better a neighbour it would be: late joiners would
 * find the mesh full. With one slot free a full node takes the offer, then keeps what its
 * plan prefers (docs/ARCHITECTURE.md, The neighbour-set rule).
 */
export const OFFER_SLOTS = 1;
/** Neighbours kept per bucket, spread over the bucket's sub-prefixes. */
export const NEIGHBOURS_PER_BUCKET = 4;
/** The closest contacts to self that are always kept as neighbours. */
export const SIBLING_NEIGHBOURS = 4;
/** Chrome refuses the 501st RTCPeerConnection of a page; keep a margin. */
export const CONNECTION_BUDGET = 480;

/** Replacement cache per bucket for contacts seen while the bucket was full. */
export const REPLACEMENT_CACHE_SIZE = 5;

/** Record bounds: a storing node never holds more than this. */
export const MAX_ENTRIES_PER_KEY = 64;
export const MAX_KEYS_PER_OWNER = 64;
export const MAX_STORED_KEYS = 10_000;
export const MAX_METADATA_BYTES = 2_048;
/** Metadata is a flat map of at most this many scalars (records/metadata.ts says why). */
export const MAX_METADATA_ENTRIES = 16;
export const MAX_ENDPOINT_CHARS = 256;
export const MAX_SERVICE_NAME_CHARS = 256;
export const MIN_TTL_S = 1;
export const MAX_TTL_S = 86_400;
/**
 * How far two honest clocks may disagree: each within 15 min of true time, so up to
 * 30 min apart. Records dated further in the future than this (by the checking node's
 * clock) are refused, and a record is accepted until this long past its signed expiry.
 * (15 min here refused records between nodes skewed +10 and −10 min.)
 */
export const MAX_CLOCK_SKEW_MS = 30 * 60_000;

/** Maintenance cadence, all driven from one tick(). */
export const TICK_INTERVAL_MS = 1_000;
export const BUCKET_REFRESH_MS = 15 * 60_000;
/** A neighbour quiet this long is pinged (WebRTC itself notices closed tabs; pings catch silent ones and measure RTT). */
export const PING_INTERVAL_MS = 30_000;
/** Unanswered liveness probes before a neighbour is declared dead. */
export const PING_FAILURES_BEFORE_DEAD = 2;
export const NEIGHBOUR_REVIEW_MS = 5_000;

/**
 * An id sharing this many more leading bits with a target than our deepest bucket shares
 * with us (our deepest bucket is about log2 of the network's size), and at least 32, was
 * made up: about one chance in a million for a genuine one.
 */
export const implausiblePrefixBits = (table: { nonEmptyBuckets(): number[] }): number =>
  Math.max(32, Math.max(0, ...table.nonEmptyBuckets()) + 20);

/** Wire limits. */
export const MAX_FRAME_BYTES = 1_048_576 + 4_096;
export const MAX_CHANNEL_MESSAGE_BYTES = 16_384;
