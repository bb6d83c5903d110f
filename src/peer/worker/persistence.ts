import type { DhtNode } from '../../core/node/dht-node.js';
import type { Store } from '../../core/environment.js';
import { ErrorCode, MeshError } from '../../core/errors.js';
import { trustSignatures } from '../../core/records/records.js';
import { RoutingTable } from '../../core/routing/routing-table.js';

/** Writes are batched: at most one transaction per interval, however busy the node is. */
const RECORDS_FLUSH_MS = 2_000;
const CONTACTS_FLUSH_MS = 30_000;
/** 2: every part is stamped with the snapshot that wrote it, and meta names the snapshot of each. */
const FORMAT_VERSION = 2;
/** Failed writes in a row, each a STORAGE_ERROR, after which the node stops trying and runs from memory. */
const FAILURES_BEFORE_DISABLED = 3;

export interface SavedService {
  serviceId: string;
  metadata: Record<string, unknown>;
  ttl: number;
}

/** A stored part: its data and the snapshot (flush) that wrote it. */
interface Part {
  snapshot: number;
  data: unknown;
}

interface Meta {
  version: number;
  savedAt: number;
  /** The snapshot each part was last written by; restore refuses parts that disagree. */
  parts: { state: number; contacts: number };
}

/**
 * Durable state of a tab's node: routing contacts, the records it stores for others and
 * its own advertisements (handlers are registered again by the app).
 *
 * Records and services are one state: they are always written together, in one setMany
 * (one IndexedDB transaction) with a meta entry naming the snapshot number that wrote
 * them. A tab closed mid-write therefore leaves the previous snapshot or the new one,
 * never records of one and services of another, and restore checks exactly that: a part
 * stamped with another snapshot than meta names is refused. Contacts are only a hint for
 * rejoining, so they are written on their own, slower schedule (still under meta).
 */
export class Persistence {
  private recordsDirty = false;
  private servicesDirty = false;
  private services: SavedService[] = [];
  private lastRecordsFlush = 0;
  private lastContactsFlush = 0;
  private flushing: Promise<void> | undefined;
  /** A forced flush waiting for the write in flight to end. */
  private followUp: Promise<void> | undefined;
  /** The last snapshot number used; each flush takes the next. */
  private snapshot = 0;
  private parts = { state: 0, contacts: 0 };
  private failures = 0;
  private consecutiveFailures = 0;
  private quotaExceeded = 0;
  private warned = false;
  private writes = 0;
  private restoredRecords = 0;
  private restoredSnapshot = 0;
  private droppedRecords = 0;
  private inconsistent = 0;
  private savedRecords = 0;
  private disabled = false;

  constructor(
    private readonly node: DhtNode,
    private readonly store: Store,
  ) {
    node.on((e) => {
      if (e.type === 'records-changed') this.recordsDirty = true;
    });
  }

  async restore(): Promise<SavedService[]> {
    const [meta, contacts, records, services] = await this.store.getMany(['meta', 'contacts', 'records', 'services']);
    if (!isMeta(meta)) return [];
    // Numbering goes on from the stored snapshot, so a later flush is always a higher number.
    this.snapshot = Math.max(meta.parts.state, meta.parts.contacts);
    this.parts = { ...meta.parts };
    const now = this.node.clock.now();
    if (isPart(contacts) && contacts.snapshot === meta.parts.contacts) {
      for (const c of RoutingTable.fromJSON(this.node.self, contacts.data).all())
        this.node.table.update(c.id, c.lastSeen, c.rttMs);
    }
    // No state written yet (only contacts were): nothing to restore, nothing wrong.
    if (meta.parts.state === 0) return [];
    const stateParts = [records, services];
    if (!stateParts.every((p) => isPart(p) && p.snapshot === meta.parts.state)) {
      // Only a write that was not atomic can leave this; half a state is worse than none.
      this.inconsistent++;
      return [];
    }
    const [recordsPart, servicesPart] = stateParts as [Part, Part];
    // Signatures were checked when these records arrived, and only this origin's own
    // scripts can write its IndexedDB (anything that could forge them here could run code
    // here): re-verifying 10,000 of them cost ~3.7 s of a 3.9 s restore (BENCHMARKS.md,
    // Micro). Shape, ownership and expiry are still checked.
    this.restoredRecords = this.node.records.load(recordsPart.data, now, trustSignatures);
    // What the snapshot held and the checks refused (corrupt, expired, over a bound): dropped, and said so.
    const held = (recordsPart.data as { entries?: unknown } | null)?.entries;
    this.droppedRecords = Array.isArray(held) ? Math.max(0, held.length - this.restoredRecords) : 0;
    this.restoredSnapshot = meta.parts.state;
    this.services = Array.isArray(servicesPart.data) ? servicesPart.data.filter(isSavedService) : [];
    return this.services;
  }

  saveServices(services: SavedService[]): void {
    this.services = services;
    this.servicesDirty = true;
  }

  /**
   * Write what changed, if the interval has passed (or `force`). A forced flush (close())
   * that finds a write in flight waits for it and then writes again: that write's snapshot
   * was taken before whatever happened since, and an unadvertise missed there would be
   * advertised again by the next reload.
   */
  flush(now: number, force = false): Promise<void> {
    if (this.disabled) return Promise.resolve();
    if (this.flushing !== undefined) {
      if (!force) return this.flushing;
      // One follow-up however many forced flushes wait: it writes whatever is dirty by then.
      this.followUp ??= this.flushing.then(() => {
        this.followUp = undefined;
        return this.flush(Math.max(now, this.node.clock.now()), true);
      });
      return this.followUp;
    }
    const snapshot = this.snapshot + 1;
    const entries: Array<[string, Part | Meta]> = [];
    const parts = { ...this.parts };
    let records: number | undefined;
    const recordsDue = this.recordsDirty && (force || now - this.lastRecordsFlush >= RECORDS_FLUSH_MS);
    if (recordsDue || this.servicesDirty) {
      const data = this.node.records.toJSON(now);
      records = data.entries.length;
      entries.push(['records', { snapshot, data }], ['services', { snapshot, data: this.services }]);
      parts.state = snapshot;
    }
    if (force || now - this.lastContactsFlush >= CONTACTS_FLUSH_MS) {
      entries.push(['contacts', { snapshot, data: this.node.table.toJSON() }]);
      parts.contacts = snapshot;
    }
    if (entries.length === 0) return Promise.resolve();
    entries.push(['meta', { version: FORMAT_VERSION, savedAt: now, parts }]);
    // Marked clean before the write: changes made while it runs dirty them again for the next flush.
    const wroteState = parts.state === snapshot;
    if (wroteState) {
      this.recordsDirty = false;
      this.servicesDirty = false;
      this.lastRecordsFlush = now;
    }
    if (parts.contacts === snapshot) this.lastContactsFlush = now;
    this.snapshot = snapshot;
    this.flushing = this.store
      .setMany(entries)
      .then(
        () => {
          this.writes++;
          this.consecutiveFailures = 0;
          this.parts = parts;
          if (records !== undefined) this.savedRecords = records;
        },
        (e: unknown) => this.failed(e, wroteState),
      )
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }

  /** What stats() reports for a peer that persists nothing (`storage: 'memory'`): the same names, at zero. */
  static readonly idleStats: Readonly<Record<string, number>> = {
    'persistence.writes': 0,
    'persistence.failures': 0,
    'persistence.quotaExceeded': 0,
    'persistence.disabled': 0,
    'persistence.snapshot': 0,
    'persistence.savedRecords': 0,
    'persistence.restoredRecords': 0,
    'persistence.restoredSnapshot': 0,
    'persistence.droppedRecords': 0,
    'persistence.inconsistent': 0,
  };

  stats(): Record<string, number> {
    return {
      'persistence.writes': this.writes,
      'persistence.failures': this.failures,
      'persistence.quotaExceeded': this.quotaExceeded,
      'persistence.disabled': this.disabled ? 1 : 0,
      'persistence.snapshot': this.parts.state,
      'persistence.savedRecords': this.savedRecords,
      'persistence.restoredRecords': this.restoredRecords,
      'persistence.restoredSnapshot': this.restoredSnapshot,
      'persistence.droppedRecords': this.droppedRecords,
      'persistence.inconsistent': this.inconsistent,
    };
  }

  /** A failed write must not stop the node: it keeps running from memory and says why, once. */
  private failed(e: unknown, wroteState: boolean): void {
    this.failures++;
    this.consecutiveFailures++;
    this.node.count('persistence.failed');
    // What this write carried is still unsaved: the next flush must try it again.
    if (wroteState) {
      this.recordsDirty = true;
      this.servicesDirty = true;
    }
    const storageError = e instanceof MeshError && e.code === ErrorCode.STORAGE_ERROR;
    if (storageError && (e.details as { name?: unknown } | undefined)?.name === 'QuotaExceededError')
      this.quotaExceeded++;
    if (storageError && this.consecutiveFailures >= FAILURES_BEFORE_DISABLED) this.disabled = true;
    if (!this.warned) {
      this.warned = true;
      console.warn(`macula-web: ${ErrorCode.STORAGE_ERROR}: ${(e as Error | null)?.message ?? String(e)}`);
    }
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

const isSnapshotNumber = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

function isMeta(v: unknown): v is Meta {
  return (
    isObject(v) &&
    v.version === FORMAT_VERSION &&
    isObject(v.parts) &&
    isSnapshotNumber(v.parts.state) &&
    isSnapshotNumber(v.parts.contacts)
  );
}

const isPart = (v: unknown): v is Part => isObject(v) && isSnapshotNumber(v.snapshot);

function isSavedService(v: unknown): v is SavedService {
  return isObject(v) && typeof v.serviceId === 'string' && isObject(v.metadata) && typeof v.ttl === 'number';
}
