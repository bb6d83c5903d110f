import type { Verifier } from '../identity.js';
import { checkRecord, checkRemoval, type SignedRecord, type SignedRemoval } from './records.js';
import { OwnerProofs } from './owner-proofs.js';
import type { Tombstone } from './tombstones.js';

/** The persisted form of a record store: msgpack- and structured-clone-friendly plain objects. */
export interface RecordStoreJSON {
  version: 1;
  entries: Array<{ record: SignedRecord; expiresAt: number }>;
  /** held: the removal deleted an entry here (tombstones.ts). */
  tombstones: Array<{ removal: SignedRemoval; expiresAt: number; held?: boolean }>;
}

/** Where a snapshot's checked items go, in the order they must be applied. */
export interface SnapshotSink {
  /** Tombstones first, so no record they removed comes back. */
  removal(removal: SignedRemoval, expiresAt: number, held: boolean): void;
  /** `ids`: the record's owner in hex and its slot id, made once per batch (batch-ids.ts). */
  record(record: SignedRecord, expiresAt: number, ids: { owner: string; slot: string }): void;
}

/** A snapshot of what is live at `now` (a `now` that is not a number filters nothing out). */
export function writeSnapshot(
  entries: Iterable<{ record: SignedRecord; expiresAt: number }>,
  tombstones: Iterable<Tombstone>,
  now: number,
): RecordStoreJSON {
  const live = (expiresAt: number): boolean => typeof now !== 'number' || expiresAt > now;
  const out: RecordStoreJSON = { version: 1, entries: [], tombstones: [] };
  for (const e of entries) if (live(e.expiresAt)) out.entries.push({ record: e.record, expiresAt: e.expiresAt });
  for (const t of tombstones)
    if (live(t.expiresAt))
      out.tombstones.push({ removal: t.removal, expiresAt: t.expiresAt, ...(t.held ? { held: true } : {}) });
  return out;
}

/**
 * Read an untrusted snapshot (it may be corrupt or from an older build) into `sink`: every
 * removal and record is checked again with `verify`, and expired or malformed items are
 * skipped. Each owner's key is hashed once for the whole snapshot (owner-proofs.ts), and each
 * id copied and turned into hex once (batch-ids.ts). Never throws.
 */
export function readSnapshot(data: unknown, now: number, verify: Verifier, sink: SnapshotSink): void {
  if (typeof data !== 'object' || data === null) return;
  const owners = new OwnerProofs();
  const { entries, tombstones } = data as { entries?: unknown; tombstones?: unknown };
  if (Array.isArray(tombstones)) {
    for (const item of tombstones as unknown[]) {
      const expiresAt = expiryOf(item, now);
      if (expiresAt === undefined) continue;
      const checked = checkRemoval((item as { removal?: unknown }).removal, now, verify, owners);
      if (checked.ok) sink.removal(checked.removal, expiresAt, (item as { held?: unknown }).held === true);
    }
  }
  if (Array.isArray(entries)) {
    for (const item of entries as unknown[]) {
      const expiresAt = expiryOf(item, now);
      if (expiresAt === undefined) continue;
      const checked = checkRecord((item as { record?: unknown }).record, now, verify, owners);
      if (!checked.ok) continue;
      const { record } = checked;
      const ids = { owner: owners.ids.intern(record.nodeId).hex, slot: owners.ids.slotId(record.key, record.kind) };
      sink.record(record, expiresAt, ids);
    }
  }
}

function expiryOf(item: unknown, now: number): number | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  const expiresAt = (item as { expiresAt?: unknown }).expiresAt;
  return typeof expiresAt === 'number' && expiresAt > now ? expiresAt : undefined;
}
