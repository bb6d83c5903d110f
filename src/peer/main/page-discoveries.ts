import type { Clock } from '../../core/environment.js';
import { compareDistance, fromHex, toHex, type NodeId } from '../../core/id.js';
import type { Verifier } from '../../core/identity.js';
import { NEAREST_HOLDERS } from '../../core/lookup/value-holders.js';
import { checkRecord, toProviderInfo, type ProviderInfo } from '../../core/records/records.js';
import { readValueReply, straightValueReply, type StraightValueReply } from '../../core/registry/value-answer.js';
import type { WebEd25519 } from '../../crypto/web-ed25519.js';
import type { AwaitedReply, SeekBrief } from '../bridge-protocol.js';

/**
 * The requester's page settles a forced discovery from the lookup's first answer
 * (docs/ARCHITECTURE.md, Threads: "A forced discovery is settled by the requester's page"; the
 * worker's side is worker/page-answers.ts, watchFind). With the answering tabs' pages
 * answering FIND_VALUEs themselves, a forced discovery still woke the requester's worker at
 * its end: channel → page → worker (preverify, router, the lookup's books, its end rule, the
 * cache) → Comlink → page, 1.4-14.7 ms at p50 on a loaded machine (BENCHMARKS.md, Cold
 * discovery on 2026-12-07, session 17).
 *
 * The worker still runs the lookup. Each of its first FIND_VALUEs comes to the page with what
 * the lookup knew as it started (SeekBrief: the nodes nearest the key, the records this node
 * holds), before the frame is on the channel. When the lookup's first answer comes back, the
 * page settles the app's discovery itself where the worker, taking the same answer first,
 * would end the lookup with the same providers:
 * - the answer came straight from the neighbour asked, over its own channel, for this node
 *   (value-answer.ts reads it as the codec and the router would);
 * - it carries records, every one of which checks as the lookup checks them (records.ts,
 *   checkRecord: shape, owner, dates; the signature by WebCrypto's Ed25519), for this key and kind;
 * - its sender is one of the NEAREST_HOLDERS nearest nodes the lookup knows, the ids the
 *   answer names included, and was among them as the lookup started (value-holders.ts: a near
 *   holder straight over its own channel ends the lookup: the rest could add no record);
 * - it came within PAGE_SEEK_WINDOW_MS of the lookup's start, before the least grace the
 *   lookup gives its slower paths, so the worker is still waiting for this very answer.
 * The providers are then those the lookup's union would hold: the records this node holds,
 * then the answer's, the newest per owner. The frame goes on to the worker marked as settled:
 * the worker takes it as ever (the answer ends its lookup and fills its cache) and sends no
 * result back (`lookups.settledOnPage`). Anything else (an answer after the first, whatever
 * the first was; a routed one; one without records or with a record that does not check; no
 * WebCrypto Ed25519) goes the worker's way as before, and the worker's result settles the
 * discovery.
 */

/** Valid signatures remembered: a few services' providers, each record a few hundred bytes of key. */
const MAX_VERIFIED = 256;

interface Seeking {
  token: number;
  brief: SeekBrief;
  until: number;
  rids: number[];
}

/** A signature the answer's records need checked, as checkRecord asks for it. */
interface Check {
  signature: Uint8Array;
  message: Uint8Array;
  publicKey: Uint8Array;
}

export class PageDiscoveries {
  private web: WebEd25519 | undefined;
  /** Signatures WebCrypto found valid lately (`verify`); the oldest gives way past MAX_VERIFIED. */
  private readonly verified = new Set<string>();
  /** Each first FIND_VALUE's request id, with the neighbour it went to and its discovery. */
  private readonly byRid = new Map<number, { peer: string; seeking: Seeking }>();
  private readonly byToken = new Map<number, Seeking>();
  private readonly selfHex: string;

  constructor(
    private readonly self: NodeId,
    private readonly clock: Clock,
    found: Promise<WebEd25519 | undefined>,
    /** Settle discovery `token` with `providers`: false when it was settled already. */
    private readonly settle: (token: number, providers: ProviderInfo[]) => boolean,
  ) {
    this.selfHex = toHex(self);
    void found.then((web) => (this.web = web));
  }

  /** The worker sends one of discovery `awaits.token`'s first FIND_VALUEs to `peer` (before it is on the channel). */
  expect(peer: string, awaits: AwaitedReply, seek: SeekBrief): void {
    this.purge();
    let seeking = this.byToken.get(awaits.token);
    if (seeking === undefined) {
      seeking = { token: awaits.token, brief: seek, until: awaits.until, rids: [] };
      this.byToken.set(awaits.token, seeking);
    }
    seeking.rids.push(awaits.rid);
    this.byRid.set(awaits.rid, { peer, seeking });
  }

  /** The FIND_VALUE could not be put on the channel: no answer will come to it. */
  unsent(awaits: AwaitedReply): void {
    if (this.byRid.get(awaits.rid)?.seeking.token === awaits.token) this.byRid.delete(awaits.rid);
  }

  /**
   * A frame from `peer`: undefined when it is not the first answer to a discovery's
   * FIND_VALUE (it goes to the worker as any frame); otherwise a promise of the discovery's
   * token once settled here, or of undefined when the page left it to the worker after all.
   * Never throws: bad bytes are the worker's to count.
   */
  take(peer: string, frame: Uint8Array): Promise<number | undefined> | undefined {
    if (this.byRid.size === 0) return undefined;
    const read = readValueReply(frame);
    if (read === null) return undefined;
    this.purge();
    const entry = this.byRid.get(read.rid);
    if (entry === undefined) return undefined;
    const { seeking } = entry;
    // The lookup's first answer decides, whoever sent it and however it came: once the worker has taken another
    // (a routed one, say), its union may hold more than any later answer's.
    this.drop(seeking);
    const reply = entry.peer === peer ? straightValueReply(read, peer, this.self) : null;
    if (reply === null) return undefined;
    const web = this.web;
    const now = this.clock.now();
    if (web === undefined || now >= seeking.until) return undefined;
    const found = this.union(seeking.brief, reply, now);
    if (found === null) return undefined;
    const checked = found.checks.map((c) => this.verify(web, c));
    return Promise.all(checked).then(
      (valid) => (valid.every(Boolean) && this.settle(seeking.token, found.providers) ? seeking.token : undefined),
      () => undefined,
    );
  }

  /**
   * WebCrypto's verdict on `c`, from memory when it said valid before: a forced discovery
   * repeated by an app brings back the same records every time, and each check is a hop to
   * the browser's crypto threads and back on the discovery's way. Keyed by the whole
   * (signature, key, signed bytes), as a core's memoizing verifier is (identity.ts).
   */
  private verify(web: WebEd25519, c: Check): Promise<boolean> {
    const key = `${toHex(c.signature)}:${toHex(c.publicKey)}:${toHex(c.message)}`;
    if (this.verified.has(key)) return Promise.resolve(true);
    return web.verify(c.signature, c.message, c.publicKey).then((ok) => {
      if (ok) {
        this.verified.add(key);
        if (this.verified.size > MAX_VERIFIED) this.verified.delete(this.verified.values().next().value!);
      }
      return ok;
    });
  }

  /** Discoveries and request ids awaited (for tests). */
  get size(): { discoveries: number; awaited: number } {
    return { discoveries: this.byToken.size, awaited: this.byRid.size };
  }

  /**
   * The providers the lookup would end with on taking `reply` first, and the signatures that
   * must check for it; null when the lookup would not end there, or a record does not check.
   */
  private union(
    brief: SeekBrief,
    reply: StraightValueReply,
    now: number,
  ): { providers: ProviderInfo[]; checks: Check[] } | null {
    if (reply.kind !== brief.kind || toHex(reply.key) !== brief.key || reply.records.length === 0) return null;
    if (!this.endsLookup(brief, reply)) return null;
    const checks: Check[] = [];
    // checkRecord asks for the signature last, once everything else held: noted here, checked by WebCrypto after.
    const noted: Verifier = (signature, message, publicKey) => {
      checks.push({ signature, message, publicKey });
      return true;
    };
    const providers = new Map<string, ProviderInfo>();
    for (const p of brief.held) providers.set(p.nodeId, p);
    for (const raw of reply.records) {
      const checked = checkRecord(raw, now, noted);
      if (!checked.ok || checked.record.kind !== brief.kind || toHex(checked.record.key) !== brief.key) return null;
      const p = toProviderInfo(checked.record);
      const current = providers.get(p.nodeId);
      // The lookup keeps the newest record per owner, in the place its first one took (lookup-run.ts, keep).
      if (current === undefined || p.advertisedAt > current.advertisedAt) providers.set(p.nodeId, p);
    }
    return { providers: [...providers.values()], checks };
  }

  /**
   * value-holders.ts's rule for an answer straight over its sender's own channel: its sender
   * is among the NEAREST_HOLDERS nearest nodes the lookup knows once it took the answer's
   * named ids. The worker's candidates are those the brief names and the answer's ids, less
   * any it does not believe; counting them all here can only push the sender out, never in.
   * The sender must also have been among the nearest as the lookup started: so it is one the
   * lookup believes.
   */
  private endsLookup(brief: SeekBrief, reply: StraightValueReply): boolean {
    const from = toHex(reply.from);
    if (!brief.near.includes(from)) return false;
    const known = new Map<string, NodeId>();
    for (const hex of brief.near) known.set(hex, fromHex(hex));
    for (const id of reply.nodes) {
      const hex = toHex(id);
      if (hex !== this.selfHex) known.set(hex, id);
    }
    const nearest = [...known]
      .sort((a, b) => compareDistance(reply.key, a[1], b[1]))
      .slice(0, NEAREST_HOLDERS)
      .map(([hex]) => hex);
    return nearest.includes(from);
  }

  private drop(seeking: Seeking): void {
    this.byToken.delete(seeking.token);
    for (const rid of seeking.rids) if (this.byRid.get(rid)?.seeking === seeking) this.byRid.delete(rid);
  }

  /** Discoveries past their window: no answer settles them here any more. */
  private purge(): void {
    const now = this.clock.now();
    for (const seeking of this.byToken.values()) if (now >= seeking.until) this.drop(seeking);
  }
}
