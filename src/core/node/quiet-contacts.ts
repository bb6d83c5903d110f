import type { Messaging, NodeBasics, Neighbours } from '../context.js';
import { toHex } from '../id.js';
import type { RoutingTable } from '../routing/routing-table.js';

/** Checks of one contact in a row left unanswered before it counts as lost (as for lookups, lookup-run.ts). */
const CHECK_FAILURES_BEFORE_LOST = 2;
/** A contact that answered a check is not checked again for this long (lookups keep the busy ones fresh). */
const RECHECK_AFTER_MS = 5 * 60_000;

export interface QuietContactsHost extends NodeBasics {
  readonly neighbours: Neighbours;
  readonly table: Pick<RoutingTable, 'closest' | 'get' | 'update' | 'recordFailure' | 'markLost'>;
  readonly messenger: Pick<Messaging, 'newId' | 'queryPeer'>;
  isClosed(): boolean;
  /** A round may be due at `at`, earlier than dueAt() said (maintenance.ts). */
  wake?(at: number): void;
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
 * traffic than it saves. A neighbour leaving unasked (at most once per ping interval) ends
 * the rests and sweeps: every such contact is checked at once, quiet or not. Departures
 * come together (a browser closing its tabs, a network going down), and those we could
 * not see are likeliest then; one at a time, once quiet, a contact heard from just before
 * it left was dropped only a minute later (30 s quiet, its turn, two unanswered pings),
 * and each more waited a round. A sweep costs at most k routed PINGs per ping interval.
 */
export class QuietContacts {
  private readonly inFlight = new Set<string>();
  /** When each contact last answered a check: not checked again before RECHECK_AFTER_MS. */
  private readonly answeredAt = new Map<string, number>();
  private nextCheckAt = 0;
  private restsEndedAt = -Infinity;
  /** A neighbour left unasked: the next round checks every contact without a channel (see above). */
  private sweepDue = false;

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
    const sweep = this.sweepDue;
    this.sweepDue = false;
    for (const [hex, at] of this.answeredAt) if (now - at >= RECHECK_AFTER_MS) this.answeredAt.delete(hex);
    // The quietest first: the longest unheard is the likeliest gone.
    const quiet = host.table
      .closest(host.self, host.k)
      .filter(
        (c) =>
          !host.neighbours.has(c.idHex) &&
          !this.inFlight.has(c.idHex) &&
          !this.answeredAt.has(c.idHex) &&
          (sweep || now - c.lastSeen >= this.intervalMs),
      )
      .sort((a, b) => a.lastSeen - b.lastSeen);
    if (host.neighbours.size === 0) return;
    for (const contact of sweep ? quiet : quiet.slice(0, 1)) this.check(contact.idHex);
  }

  /** A neighbour's channel closed without our asking: others may have gone too (see above). */
  neighbourLeft(): void {
    const now = this.host.clock.now();
    if (now - this.restsEndedAt < this.intervalMs) return;
    this.restsEndedAt = now;
    this.answeredAt.clear();
    // Swept at the next tick rather than here: the channel's other listeners are still being told.
    this.sweepDue = true;
    this.nextCheckAt = now;
    this.host.wake?.(now);
  }

  private check(hex: string): void {
    const { host } = this;
    this.inFlight.add(hex);
    host.count('contacts.checked');
    host.messenger.queryPeer(hex, 'PING', { rid: host.messenger.newId() }).then(
      ({ info }) => {
        this.inFlight.delete(hex);
        if (host.isClosed() || toHex(info.from) !== hex) return;
        this.answeredAt.set(hex, host.clock.now());
        host.table.update(info.from, host.clock.now());
      },
      () => {
        this.inFlight.delete(hex);
        if (host.isClosed()) return;
        const contact = host.table.get(hex);
        // It may have opened a channel meanwhile (the channel speaks for it now), or be gone already.
        // With no channel left the ping had no way out: that says nothing about the contact.
        if (contact === undefined || contact.lost === true || host.neighbours.has(hex) || host.neighbours.size === 0)
          return;
        host.count('contacts.checkUnanswered');
        // One loss is not a death (the ping or its answer may have been dropped on the way): ask again now.
        if (host.table.recordFailure(hex) < CHECK_FAILURES_BEFORE_LOST) return this.check(hex);
        if (host.table.markLost(hex) !== 'unknown') host.count('contacts.lostUnchecked');
      },
    );
  }

  close(): void {
    this.inFlight.clear();
    this.answeredAt.clear();
  }
}
