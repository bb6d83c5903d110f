import type { ProviderInfo } from '../core/records/records.js';

/**
 * What the requester's page needs to settle a forced discovery from the lookup's first
 * answer (docs/ARCHITECTURE.md, Threads: "A forced discovery is settled by the requester's
 * page"; main/page-discoveries.ts), sent by the worker with each of the lookup's first paths
 * (worker/page-answers.ts, from core/lookup's FindBrief).
 */
export interface SeekBrief {
  /** The key looked up (hex) and the kind of record. */
  key: string;
  kind: 'provider' | 'subscriber';
  /** The nodes nearest the key the lookup knew as it started (hex, closest first; value-holders.ts). */
  near: string[];
  /** The records the node holds for the key itself, as the lookup's union keeps them, first. */
  held: ProviderInfo[];
}

/**
 * How long after a lookup started the page may settle it from its first answer: less than the
 * least grace the lookup's first round gives its slower paths (core/lookup/lookup-run.ts,
 * MIN_GRACE_MS, 20 ms; page-answers.test.ts holds them side by side), so the node, taking the
 * same answer first, ends the same round with the same union; the margin is for the answer's
 * way from the page to the node. Here, not beside MIN_GRACE_MS, so that the page's bundle
 * does not take in the lookup's code for a number.
 */
export const PAGE_SEEK_WINDOW_MS = 15;

/** At most this many near nodes (value-holders.ts's NEAREST_HOLDERS is 3) and held records (64 per key, with room). */
const MAX_NEAR = 8;
const MAX_HELD = 1_024;

const isHexId = (v: unknown): v is string => typeof v === 'string' && v.length === 64 && /^[0-9a-f]+$/.test(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.length <= 4_096;
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function isProvider(v: unknown): v is ProviderInfo {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  return (
    isHexId(p.nodeId) &&
    isText(p.endpoint) &&
    typeof p.metadata === 'object' &&
    p.metadata !== null &&
    isTime(p.advertisedAt) &&
    isTime(p.ttl)
  );
}

/**
 * What a forced discovery's lookup would send first if it started now (core/lookup's
 * FirstPaths, worker/page-seeks.ts): the first hops (hex, in order) and what it knows as it
 * starts. The page sends those FIND_VALUEs itself (main/page-seeks.ts).
 */
export interface SeekPlan {
  hops: string[];
  brief: SeekBrief;
}

/** The FIND_VALUEs of a forced discovery the page sent itself (ToWorker `sought`), one per first hop. */
export interface SoughtPath {
  peer: string;
  rid: number;
  hid: number;
  /** The frame's header, for the worker's accounting. */
  head: Uint8Array;
}

/** A lookup's first round sends alpha paths (3); a few more leave room. */
const MAX_HOPS_IN_PLAN = 8;

/** A plan from the port, checked; null if malformed. */
export function parseSeekPlan(v: unknown): SeekPlan | null {
  if (typeof v !== 'object' || v === null) return null;
  const p = v as Record<string, unknown>;
  if (!Array.isArray(p.hops) || p.hops.length === 0 || p.hops.length > MAX_HOPS_IN_PLAN || !p.hops.every(isHexId))
    return null;
  const brief = parseSeekBrief(p.brief);
  return brief === null ? null : { hops: p.hops as string[], brief };
}

const isRid = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;

/** The paths of a `sought` notice, checked; null if malformed. */
export function parseSoughtPaths(v: unknown): SoughtPath[] | null {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_HOPS_IN_PLAN) return null;
  const out: SoughtPath[] = [];
  for (const s of v as unknown[]) {
    const x = (typeof s === 'object' && s !== null ? s : {}) as Record<string, unknown>;
    if (!isHexId(x.peer) || !isRid(x.rid) || !isRid(x.hid) || !(x.head instanceof Uint8Array) || x.head.length !== 8)
      return null;
    out.push({ peer: x.peer, rid: x.rid, hid: x.hid, head: x.head });
  }
  return out;
}

/** A brief from the port, checked (our own worker sent it, but a bug must not crash the page's loop); null if malformed. */
export function parseSeekBrief(v: unknown): SeekBrief | null {
  if (typeof v !== 'object' || v === null) return null;
  const b = v as Record<string, unknown>;
  if (!isHexId(b.key) || (b.kind !== 'provider' && b.kind !== 'subscriber')) return null;
  if (!Array.isArray(b.near) || b.near.length > MAX_NEAR || !b.near.every(isHexId)) return null;
  if (!Array.isArray(b.held) || b.held.length > MAX_HELD || !b.held.every(isProvider)) return null;
  return { key: b.key, kind: b.kind, near: b.near as string[], held: b.held as ProviderInfo[] };
}
