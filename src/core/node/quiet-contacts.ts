import type { Messaging, NodeBasics, Neighbours } from '../context.js';
import { toHex } from '../id.js';
import type { RoutingTable } from '../routing/routing-table.js';

/** Checks of one contact in a row left unanswered before it counts as lost (as for lookups, lookup-run.ts). */
const CHECK_FAILURES_BEFORE_LOST = 2;
/** A contact that answered a check is not checked again for this long (lookups keep the busy ones fresh). */
const RECHECK_AFTER_MS = 5 * 60_000;

export interface QuietContactsHost extends NodeBasics {
  readonly neighbours: Neighbours;
  readonly table: Pick<RoutingTable, 'closest' | 'lastSeen' | 'isLive' | 'update' | 'recordFailure' | 'markLost'>;
  readonly messenger: Pick<Messaging, 'newId' | 'queryPeer'>;
  isClosed(): boolean;
}

/**
 * Checking contacts we hold no channel to. A neighbour's departure shows at once (its
 * channel closes) and quiet neighbours are pinged (liveness.ts), but a contact we only
 * learned of (from a lookup) has no channel to close: when it leaves, nothing tells us,
 * and we keep handing it out until lookups happen to ask it twice. So the contacts among
 * our k closest (the ones we hand out for our own region, and in a small mesh every one)
 * that have no channel and have been quiet for a ping interval are pinged, routed to
 * their exact id: one check per round, and an unanswered one is repeated at once; two in a
 * row unanswered make the contact lost, like a neighbour whose channel closed.
 *
 * A contact that answered rests for RECHECK_AFTER_MS: farther and busier contacts are
 * left to the lookups that use them, and checking them all the time would cost more
 * traffic than it saves. A neighbour leaving (its channel closed unasked, or it stopped
 * answering; at most once per ping interval) ends the rests: departures come together (a
 * browser closing its tabs, a network going down), and those we could not see are
 * likeliest then. For the same reason, until the next departure a contact not heard from
 * since this one is checked at its turn without waiting to be quiet for a ping interval:
 * one heard from just before it left was otherwise dropped a minute later (30 s quiet, its
 * turn, two unanswered pings). Still one check per round: checking them all at once got
 * more of them lost through colluders' paths, and honest neighbours distrusted.
 */
export class QuietContacts {
  // Both made at first use: an empty Map or Set is ~0.2 KB a node.
  private inFlight: Set<string> | undefined;
  /** When each contact last answered a check: not checked again before RECHECK_AFTER_MS. */
  private answeredAt: Map<string, number> | undefined;
  private nextCheckAt = 0;
  private restsEndedAt = -Infinity;
  /** When a neighbour last left: contacts not heard from since are due a check (see above). */
  private departedAt = -Infinity;

  constructor(
    private readonly host: QuietContactsHost,
    /** How long a contact is quiet before it is checked, and half of it the pace of rounds. */
    private readonly intervalMs: number,
  ) {}

  dueAt(): number {
    return this.nextCheckAt;
  }

  tick(now: number): void {
    if (now < this.nextCheckAt) return;
    this.nextCheckAt = now + this.intervalMs / 2;
    const { host } = this;
    const { answeredAt, inFlight } = this;
    if (answeredAt !== undefined)
      for (const [hex, at] of answeredAt) if (now - at >= RECHECK_AFTER_MS) answeredAt.delete(hex);
    // The quietest first: the longest unheard is the likeliest gone.
    const quiet = host.table
      .closest(host.self, host.k)
      .map((c) => ({ idHex: c.idHex, lastSeen: host.table.lastSeen(c.idHex)! }))
      .filter(
        (c) =>
          !host.neighbours.has(c.idHex) &&
          inFlight?.has(c.idHex) !== true &&
          answeredAt?.has(c.idHex) !== true &&
          (now - c.lastSeen >= this.intervalMs || c.lastSeen <= this.departedAt),
      )
      .sort((a, b) => a.lastSeen - b.lastSeen);
    const contact = quiet[0];
    if (contact === undefined || host.neighbours.size === 0) return;
    this.check(contact.idHex);
  }

  /** A neighbour left (its channel closed unasked, or it stopped answering): others may have gone too (see above). */
  neighbourLeft(): void {
    const now = this.host.clock.now();
    if (now - this.restsEndedAt < this.intervalMs) return;
    this.restsEndedAt = now;
    this.answeredAt?.clear();
    this.departedAt = now;
  }

  private check(hex: string): void {
    const { host } = this;
    const inFlight = (this.inFlight ??= new Set());
    inFlight.add(hex);
    host.count('contacts.checked');
    host.messenger.queryPeer(hex, 'PING', { rid: host.messenger.newId() }).then(
      ({ info }) => {
        inFlight.delete(hex);
        if (host.isClosed() || toHex(info.from) !== hex) return;
        (this.answeredAt ??= new Map()).set(hex, host.clock.now());
        host.table.update(info.from, host.clock.now());
      },
      () => {
        inFlight.delete(hex);
        if (host.isClosed()) return;
        // It may have opened a channel meanwhile (the channel speaks for it now), or be gone already.
        // With no channel left the ping had no way out: that says nothing about the contact.
        if (!host.table.isLive(hex) || host.neighbours.has(hex) || host.neighbours.size === 0) return;
        host.count('contacts.checkUnanswered');
        // One loss is not a death (the ping or its answer may have been dropped on the way): ask again now.
        if (host.table.recordFailure(hex) < CHECK_FAILURES_BEFORE_LOST) return this.check(hex);
        if (host.table.markLost(hex) !== 'unknown') host.count('contacts.lostUnchecked');
      },
    );
  }

  close(): void {
    this.inFlight?.clear();
    this.answeredAt?.clear();
  }
}
