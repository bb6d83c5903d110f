import type { Clock } from '../../core/environment.js';
import { compareDistance, fromHex, toHex, type NodeId } from '../../core/id.js';
import type { Verifier } from '../../core/identity.js';
import { NEAREST_HOLDERS } from '../../core/lookup/value-holders.js';
import { checkRecord, toProviderInfo, type ProviderInfo } from '../../core/records/records.js';
import { readValueReply, straightValueReply, type StraightValueReply } from '../../core/registry/value-answer.js';
import type { WebEd25519 } from '../../crypto/web-ed25519.js';
import type { AwaitedReply, SeekBrief } from '../bridge-protocol.js';

/**
 * The requester's page settles a forced discovery from its lookup's first round
 * (docs/ARCHITECTURE.md, Threads: "A forced discovery is settled by the requester's page"; the
 * worker's side is worker/page-answers.ts, watchFind, and the page may have sent the round's
 * FIND_VALUEs itself: page-seeks.ts). With the answering tabs' pages answering FIND_VALUEs
 * themselves, a forced discovery still woke the requester's worker at its end: channel → page
 * → worker (preverify, router, the lookup's books, its end rule, the cache) → Comlink → page,
 * 1.4-14.7 ms at p50 on a loaded machine (BENCHMARKS.md, Cold discovery on 2026-12-07, session 17).
 *
 * The worker still runs the lookup. Each of its first FIND_VALUEs is known here before the
 * frame is on the channel, with what the lookup knew as it started (SeekBrief: the nodes
 * nearest the key, the records this node holds). The page follows the first round's answers
 * as the lookup takes them, in the order they come, and settles the app's discovery itself at
 * the answer where the worker, taking the same answers in the same order, ends the round
 * (lookup-run.ts, round) with the same providers:
 * - every answer so far came straight from the neighbour asked, over its own channel, for this
 *   node (value-answer.ts reads it as the codec and the router would), and every record in
 *   them checks as the lookup checks them (records.ts, checkRecord: shape, owner, dates; the
 *   signature by WebCrypto's Ed25519, checked at the end), for this key and kind;
 * - the round ends at an answer with records from one of the NEAREST_HOLDERS nearest nodes the
 *   lookup knows (value-holders.ts: a near holder straight over its own channel), the ids the
 *   answers named included, that was among them as the lookup started; or at the last of the
 *   round's answers, with records in hand;
 * - within PAGE_SEEK_WINDOW_MS of the lookup's start, before the least grace the lookup gives
 *   its slower paths once a record is in, so no timer of the worker's ended the round first.
 * An answer from a node that was not among the nearest as the lookup started does not end the
 * round for the worker, and the page waits on with it. The providers are those the lookup's
 * union holds: the records this node holds, then the answers', the newest per owner. The
 * settling answer goes on to the worker marked as settled: the worker takes it as ever (it
 * ends the lookup and fills the cache) and sends no result back (`lookups.settledOnPage`).
 * Anything else (a routed or bare answer, a record that does not check, a sender among the
 * nearest at the start that the page cannot place among them now, no WebCrypto Ed25519, the
 * window passed) leaves the discovery to the worker, whose result settles it.
 */

interface Seeking {
  token: number;
  brief: SeekBrief;
  until: number;
  /** The round's request ids: the page knows of each before its frame is on the channel. */
  rids: number[];
  /**
   * The page sent the round itself (page-seeks.ts), so `rids` is the whole round. The worker's
   * may hold a path the page never heard of (a first hop that shed it, rerouted by the router).
   */
  whole: boolean;
  /** Answers taken so far. */
  answered: number;
  /** The lookup's union so far, by owner, in the order it keeps them (lookup-run.ts, keep). */
  providers: Map<string, ProviderInfo>;
  /** The signatures of the answers' records, checked once the round ends here. */
  checks: Check[];
  /** The nodes the lookup knows nearest the key: the brief's and those the answers named. */
  known: Map<string, NodeId>;
}

/** A signature the answer's records need checked, as checkRecord asks for it. */
interface Check {
  signature: Uint8Array;
  message: Uint8Array;
  publicKey: Uint8Array;
}

export class PageDiscoveries {
  private web: WebEd25519 | undefined;
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

  /**
   * One of discovery `awaits.token`'s first FIND_VALUEs goes to `peer` (before it is on the
   * channel), sent by the worker, or by the page (`byPage`: page-seeks.ts sends the whole round).
   */
  expect(peer: string, awaits: AwaitedReply, seek: SeekBrief, byPage = false): void {
    this.purge();
    let seeking = this.byToken.get(awaits.token);
    if (seeking === undefined) {
      const known = new Map<string, NodeId>();
      for (const hex of seek.near) known.set(hex, fromHex(hex));
      const providers = new Map<string, ProviderInfo>();
      for (const p of seek.held) providers.set(p.nodeId, p);
      seeking = {
        token: awaits.token,
        brief: seek,
        until: awaits.until,
        rids: [],
        whole: byPage,
        answered: 0,
        providers,
        checks: [],
        known,
      };
      this.byToken.set(awaits.token, seeking);
    }
    seeking.rids.push(awaits.rid);
    this.byRid.set(awaits.rid, { peer, seeking });
  }

  /** The FIND_VALUE could not be put on the channel: no answer will come to it. */
  unsent(awaits: AwaitedReply): void {
    const entry = this.byRid.get(awaits.rid);
    if (entry === undefined || entry.seeking.token !== awaits.token) return;
    this.byRid.delete(awaits.rid);
    entry.seeking.rids = entry.seeking.rids.filter((rid) => rid !== awaits.rid);
  }

  /** Discovery `token` awaits nothing here any more (none of its FIND_VALUEs went out). */
  forget(token: number): void {
    const seeking = this.byToken.get(token);
    if (seeking !== undefined) this.drop(seeking);
  }

  /**
   * A frame from `peer`: undefined when it is not the answer of a discovery's first round at
   * which the page settles it (it goes to the worker as any frame); otherwise a promise of the
   * discovery's token once settled here, or of undefined when the page left it to the worker
   * after all. Never throws: bad bytes are the worker's to count.
   */
  take(peer: string, frame: Uint8Array): Promise<number | undefined> | undefined {
    if (this.byRid.size === 0) return undefined;
    const read = readValueReply(frame);
    if (read === null) return undefined;
    this.purge();
    const entry = this.byRid.get(read.rid);
    if (entry === undefined) return undefined;
    this.byRid.delete(read.rid);
    const { seeking } = entry;
    const reply = entry.peer === peer ? straightValueReply(read, peer, this.self) : null;
    const web = this.web;
    const now = this.clock.now();
    const step =
      reply === null || web === undefined || now >= seeking.until ? 'leave' : this.absorb(seeking, reply, now);
    if (step === 'wait') return undefined;
    this.drop(seeking);
    if (step === 'leave') return undefined;
    const checked = seeking.checks.map((c) => web!.verify(c.signature, c.message, c.publicKey));
    return Promise.all(checked).then(
      (valid) =>
        valid.every(Boolean) && this.settle(seeking.token, [...seeking.providers.values()]) ? seeking.token : undefined,
      () => undefined,
    );
  }

  /** Discoveries and request ids awaited (for tests). */
  get size(): { discoveries: number; awaited: number } {
    return { discoveries: this.byToken.size, awaited: this.byRid.size };
  }

  /**
   * Take `reply` into the round as the lookup would (lookup-run.ts, absorb and round): whether
   * the round ends here (`settle`), goes on (`wait`), or is the worker's to follow (`leave`).
   */
  private absorb(seeking: Seeking, reply: StraightValueReply, now: number): 'settle' | 'wait' | 'leave' {
    const { brief } = seeking;
    if (reply.kind !== brief.kind || toHex(reply.key) !== brief.key) return 'leave';
    // checkRecord asks for the signature last, once everything else held: noted here, checked by WebCrypto after.
    const noted: Verifier = (signature, message, publicKey) => {
      seeking.checks.push({ signature, message, publicKey });
      return true;
    };
    for (const raw of reply.records) {
      const checked = checkRecord(raw, now, noted);
      if (!checked.ok || checked.record.kind !== brief.kind || toHex(checked.record.key) !== brief.key) return 'leave';
      const p = toProviderInfo(checked.record);
      const current = seeking.providers.get(p.nodeId);
      // The lookup keeps the newest record per owner, in the place its first one took (lookup-run.ts, keep).
      if (current === undefined || p.advertisedAt > current.advertisedAt) seeking.providers.set(p.nodeId, p);
    }
    for (const id of reply.nodes) {
      const hex = toHex(id);
      if (hex !== this.selfHex && !seeking.known.has(hex)) seeking.known.set(hex, id);
    }
    seeking.answered++;
    const from = toHex(reply.from);
    if (reply.records.length > 0 && brief.near.includes(from))
      return this.nearest(seeking, reply.key).includes(from) ? 'settle' : 'leave';
    if (seeking.answered < seeking.rids.length || !seeking.whole) return 'wait';
    // The round's last answer: the lookup ends with what it has, or looks further without records.
    return seeking.providers.size > 0 ? 'settle' : 'leave';
  }

  /**
   * value-holders.ts's nearest: the NEAREST_HOLDERS nodes nearest the key among those the
   * lookup knows. The worker's candidates are the brief's and the answers' ids, less any it
   * does not believe; counting them all here can only push a sender out, never in.
   */
  private nearest(seeking: Seeking, key: NodeId): string[] {
    return [...seeking.known]
      .sort((a, b) => compareDistance(key, a[1], b[1]))
      .slice(0, NEAREST_HOLDERS)
      .map(([hex]) => hex);
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
