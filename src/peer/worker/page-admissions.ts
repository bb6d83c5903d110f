import type { FromWorker } from '../bridge-protocol.js';

/**
 * The worker's side of CALLs the provider's page admits straight from a neighbour itself
 * (docs/ARCHITECTURE.md, Threads; the page's side is main/page-admissions.ts). The worker
 * admitted every CALL before its handler ran on the page: channel → page → worker → page →
 * channel, 0.35-0.43 ms of a quiet call's ~1.5 ms spent in the provider's worker. The page can
 * only skip it under allowances that keep every bound the worker keeps, and this grants them:
 *
 * - **Slots.** A grant reserves PAGE_SLOTS of the neighbour's call slots in the node's bounds
 *   (core/registry/call-slots.ts): they count as running calls of that neighbour, against the
 *   bounds per caller, per neighbour and in all, for as long as the grant lasts, so the page's
 *   calls and the worker's together never exceed them. The page runs at most that many at once.
 *   Grants go only to neighbours that call this tab (one CALL the worker admitted first), and at
 *   most MAX_PAGE_SLOTS slots are reserved in all, a quarter of the 256 running calls, so routed
 *   callers and every other neighbour keep the rest.
 * - **Credit.** The page admits at most PAGE_CREDIT CALLs beyond those the worker has accounted
 *   for: each one it admits reaches the worker's flood guard after its REPLY went out (marked
 *   `admitted`), and only one the guard let through and the node read earns credit back. A
 *   neighbour over its CALL budget therefore gets no more on the page than the guard lets
 *   through plus PAGE_CREDIT, and its strikes and ban come as they would.
 * - **Revocation.** A grant ends when its channel closes, for whatever reason (the neighbour
 *   left, was convicted of lying, banned for flooding: the node hangs up on those), and when it
 *   went unused GRANT_IDLE_MS. The page stops admitting at once and says `returned` when its
 *   calls under it have ended; only then are its slots free.
 */

/** Slots reserved per grant: a quarter of the 16 a caller may have running. */
export const PAGE_SLOTS = 4;
/** Slots reserved for the page in all: a quarter of the 256 calls running at once (call-slots.ts). */
export const MAX_PAGE_SLOTS = 64;
/** CALLs the page may admit beyond those the worker accounted for; half of it is given back at a time. */
export const PAGE_CREDIT = 32;
/** A grant the page has not used this long is revoked, so its slots go back to others. */
export const GRANT_IDLE_MS = 30_000;

export interface PageAdmissionsHost {
  /** Reserve `n` call slots for `peer` in the node's bounds (CallSlots.reserve); false when they do not fit. */
  reserve(peer: string, n: number): boolean;
  unreserve(peer: string, n: number): void;
  /** Whether the node holds `peer` as an open neighbour it does not refuse. */
  admits(peer: string): boolean;
  now(): number;
  post(m: FromWorker): void;
}

interface Grant {
  readonly id: number;
  /** CALLs accounted for since credit was last given back. */
  used: number;
  lastUsed: number;
}

export class PageAdmissionGrants {
  private readonly grants = new Map<string, Grant>();
  /** Revoked grants whose slots the page may still be using, by grant id: their neighbour. */
  private readonly revoked = new Map<number, string>();
  private reservedSlots = 0;
  private nextId = 0;
  /** The services the page was last told of. */
  private told = '';

  constructor(private readonly host: PageAdmissionsHost) {}

  /** Slots reserved for the page now, revoked grants not yet returned included. */
  get reserved(): number {
    return this.reservedSlots;
  }

  /** The services this tab provides now: the page is told when they change. */
  serving(services: readonly string[]): void {
    const said = [...services].sort().join('\n');
    if (said === this.told) return;
    this.told = said;
    this.host.post({ t: 'serving', services: [...services] });
  }

  /**
   * The worker admitted a CALL straight from `peer` (the page had no grant for it, or none
   * left): grant the page slots for its next ones, when they fit.
   */
  calledByWorker(peer: string): void {
    const { host } = this;
    if (this.grants.has(peer) || this.reservedSlots + PAGE_SLOTS > MAX_PAGE_SLOTS || !host.admits(peer)) return;
    if (!host.reserve(peer, PAGE_SLOTS)) return;
    this.reservedSlots += PAGE_SLOTS;
    const grant: Grant = { id: ++this.nextId, used: 0, lastUsed: host.now() };
    this.grants.set(peer, grant);
    host.post({ t: 'allow', peer, grant: grant.id, slots: PAGE_SLOTS, credit: PAGE_CREDIT });
  }

  /**
   * A CALL the page admitted from `peer` passed the flood guard and was read: credit back,
   * half of PAGE_CREDIT at a time (one message for several calls).
   */
  accounted(peer: string): void {
    const grant = this.grants.get(peer);
    if (grant === undefined) return;
    grant.lastUsed = this.host.now();
    if (++grant.used < PAGE_CREDIT / 2) return;
    this.host.post({ t: 'allow', peer, grant: grant.id, slots: PAGE_SLOTS, credit: grant.used });
    grant.used = 0;
  }

  /** `peer`'s channel closed (it left, or the node cut it off): the page admits nothing more from it. */
  closed(peer: string): void {
    this.revoke(peer);
  }

  /** Revoke the grants the page has not used for GRANT_IDLE_MS. */
  tick(): void {
    const idleSince = this.host.now() - GRANT_IDLE_MS;
    for (const [peer, grant] of [...this.grants]) if (grant.lastUsed <= idleSince) this.revoke(peer);
  }

  /** The page holds nothing under `grant` any more: its slots are free. */
  returned(peer: string, grant: number): void {
    if (this.revoked.get(grant) !== peer) return;
    this.revoked.delete(grant);
    this.reservedSlots -= PAGE_SLOTS;
    this.host.unreserve(peer, PAGE_SLOTS);
  }

  private revoke(peer: string): void {
    const grant = this.grants.get(peer);
    if (grant === undefined) return;
    this.grants.delete(peer);
    this.revoked.set(grant.id, peer);
    this.host.post({ t: 'revoke', peer, grant: grant.id });
  }
}
