import type { DhtNode } from '../core/dht-node.js';
import type { Store } from '../core/environment.js';
import { ErrorCode, MeshError } from '../core/errors.js';
import { RecordStore } from '../core/record-store.js';
import { RoutingTable } from '../core/routing-table.js';

/** Writes are batched: at most one transaction per interval, however busy the node is. */
const RECORDS_FLUSH_MS = 2_000;
const CONTACTS_FLUSH_MS = 30_000;
const FORMAT_VERSION = 1;

export interface SavedService {
  serviceId: string;
  metadata: Record<string, unknown>;
  ttl: number;
}

/**
 * Durable state of a tab's node: routing contacts, the records it stores for others and
 * its own advertisements (handlers are registered again by the app). Each flush is one
 * setMany — one IndexedDB transaction — so a tab closed mid-write leaves either the
 * previous snapshot or the new one, never a mix.
 */
export class Persistence {
  private recordsDirty = false;
  private servicesDirty = false;
  private services: SavedService[] = [];
  private lastRecordsFlush = 0;
  private lastContactsFlush = 0;
  private flushing: Promise<void> | undefined;
  private failures = 0;
  private writes = 0;
  private restoredRecords = 0;
  private savedRecords = 0;
  private disabled = false;

  constructor(private readonly node: DhtNode, private readonly store: Store) {
    node.on((e) => {
      if (e.type === 'records-changed') this.recordsDirty = true;
    });
  }

  async restore(): Promise<SavedService[]> {
    const [meta, contacts, records, services] = await this.store.getMany(['meta', 'contacts', 'records', 'services']);
    if (!isObject(meta) || meta.version !== FORMAT_VERSION) return [];
    const now = this.node.clock.now();
    for (const c of RoutingTable.fromJSON(this.node.self, contacts).all()) this.node.table.update(c.id, c.lastSeen, c.rttMs);
    // Signatures were checked when these records arrived, and only this origin's own
    // scripts can write its IndexedDB (anything that could forge them here could run code
    // here): re-verifying 10,000 of them cost ~3.7 s of a 3.9 s restore (BENCHMARKS.md,
    // Micro). Shape, ownership and expiry are still checked.
    const restored = RecordStore.fromJSON(records, now, trustOwnSnapshot);
    this.node.records.absorb(restored, now);
    this.restoredRecords = restored.size;
    this.services = Array.isArray(services) ? services.filter(isSavedService) : [];
    return this.services;
  }

  saveServices(services: SavedService[]): void {
    this.services = services;
    this.servicesDirty = true;
  }

  /** Write what changed, if the interval has passed (or `force`). */
  flush(now: number, force = false): Promise<void> {
    if (this.disabled || this.flushing) return this.flushing ?? Promise.resolve();
    const entries: Array<[string, unknown]> = [];
    let records: number | undefined;
    if (this.recordsDirty && (force || now - this.lastRecordsFlush >= RECORDS_FLUSH_MS)) {
      const snapshot = this.node.records.toJSON(now);
      records = snapshot.entries.length;
      entries.push(['records', snapshot]);
      this.recordsDirty = false;
      this.lastRecordsFlush = now;
    }
    if (this.servicesDirty) {
      entries.push(['services', this.services]);
      this.servicesDirty = false;
    }
    if (force || now - this.lastContactsFlush >= CONTACTS_FLUSH_MS) {
      entries.push(['contacts', this.node.table.toJSON()]);
      this.lastContactsFlush = now;
    }
    if (entries.length === 0) return Promise.resolve();
    entries.push(['meta', { version: FORMAT_VERSION, savedAt: now }]);
    this.flushing = this.store.setMany(entries).then(
      () => {
        this.writes++;
        if (records !== undefined) this.savedRecords = records;
      },
      (e: unknown) => {
        // A full quota must not stop the node: it keeps running from memory.
        this.failures++;
        this.node.count('persistence.failed');
        if ((e as MeshError).code === ErrorCode.STORAGE_ERROR) this.disabled = this.failures >= 3;
      },
    ).finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  stats(): Record<string, number> {
    return {
      'persistence.writes': this.writes,
      'persistence.failures': this.failures,
      'persistence.disabled': this.disabled ? 1 : 0,
      'persistence.savedRecords': this.savedRecords,
      'persistence.restoredRecords': this.restoredRecords,
    };
  }
}

const trustOwnSnapshot = (): boolean => true;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function isSavedService(v: unknown): v is SavedService {
  return isObject(v) && typeof v.serviceId === 'string' && isObject(v.metadata) && typeof v.ttl === 'number';
}

