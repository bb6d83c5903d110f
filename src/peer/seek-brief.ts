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

/** A brief from the port, checked (our own worker sent it, but a bug must not crash the page's loop); null if malformed. */
export function parseSeekBrief(v: unknown): SeekBrief | null {
  if (typeof v !== 'object' || v === null) return null;
  const b = v as Record<string, unknown>;
  if (!isHexId(b.key) || (b.kind !== 'provider' && b.kind !== 'subscriber')) return null;
  if (!Array.isArray(b.near) || b.near.length > MAX_NEAR || !b.near.every(isHexId)) return null;
  if (!Array.isArray(b.held) || b.held.length > MAX_HELD || !b.held.every(isProvider)) return null;
  return { key: b.key, kind: b.kind, near: b.near as string[], held: b.held as ProviderInfo[] };
}
