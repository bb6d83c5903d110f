import { idsEqual, toHex } from '../id.js';

/** One distinct id of a batch: the batch's own copy of its bytes, and its hex. */
export interface BatchId {
  readonly bytes: Uint8Array;
  readonly hex: string;
  /** slotId(hex, kind), made at first use (entry-table.ts). */
  slots?: Record<string, string>;
}

/**
 * The ids met while one batch of records is read (a restored snapshot), each copied and
 * turned into hex once, then shared by every record of the batch that names it. A snapshot
 * of 10,000 records names perhaps 2,000 keys and 500 owners: a fresh 64-character string
 * per record and per use, and four fresh byte arrays per record, were most of a trusted
 * restore (BENCHMARKS.md, Micro). A string the store's maps have met before keeps its hash,
 * so handing the same one back also makes every Map lookup cheaper; records never change
 * their byte arrays, so sharing one copy is safe, and it is less memory too.
 *
 * Found by the batch's own copy (the records it checked hold those), else by the id's first
 * three bytes and then compared in full: ids are SHA-256 outputs, so a shared prefix is
 * rare, and a collision only costs a walk over the few ids that share it (three bytes, not
 * four: a 24-bit number is a small integer to V8, a Map key it hashes cheaply). It lives
 * for one batch and holds at most one entry per distinct id of that batch.
 */
export class BatchIds {
  private readonly byPrefix = new Map<number, BatchId[]>();
  private readonly byCopy = new Map<Uint8Array, BatchId>();

  /** The batch's entry for `id` (32 bytes, checked by the caller). */
  intern(id: Uint8Array): BatchId {
    const own = this.byCopy.get(id);
    if (own !== undefined) return own;
    const prefix = (id[0]! << 16) | (id[1]! << 8) | id[2]!;
    let known = this.byPrefix.get(prefix);
    if (known !== undefined) {
      for (const k of known) if (idsEqual(k.bytes, id)) return k;
    } else {
      this.byPrefix.set(prefix, (known = []));
    }
    // A copy: the caller's array may change after this.
    const entry: BatchId = { bytes: new Uint8Array(id), hex: toHex(id) };
    known.push(entry);
    this.byCopy.set(entry.bytes, entry);
    return entry;
  }

  /** The slot id of (key, kind) (a checked record's kind), the same string for every record of the batch in that slot. */
  slotId(key: Uint8Array, kind: string): string {
    const id = this.intern(key);
    const slots = (id.slots ??= {});
    return (slots[kind] ??= `${id.hex}:${kind}`);
  }
}
