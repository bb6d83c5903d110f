import type { InboundRefusal } from './inbound-gate.js';
import { ConnectionFailures } from './connection-failures.js';

/** What the counters cannot count themselves: read off the live connections when stats() asks. */
export interface LiveConnections {
  open: number;
  budgetLeft: number;
  pendingInbound: number;
}

/**
 * The connection manager's counters (the `connections.*`, `offers.refused.*` and
 * `signals.*` entries of the peer's stats(), README): what happened to dials, offers and
 * signals since the page started. The manager and its signal sender (signal-sender.ts)
 * both count here, so one object answers stats().
 */
export class ConnectionStats {
  readonly counts = {
    created: 0,
    opened: 0,
    closed: 0,
    refusedAtCap: 0,
    refusedBudget: 0,
    signalsViaOverlay: 0,
    signalsViaRelay: 0,
    relayFallbacks: 0,
    openTimeouts: 0,
    /** Dials not made because the node refuses the peer. */
    refusedVerdict: 0,
    /** Inbound negotiations that ended without a channel. */
    inboundFailed: 0,
    /** Offers answered busy (busy-reply.ts). */
    busySent: 0,
    /** Dials the peer answered busy. */
    busyReceived: 0,
    /** Connections made for a dial before its peer was known (counted in `created` too). */
    prepared: 0,
    /** Prepared connections closed without a dial taking them. */
    preparedUnused: 0,
  };
  /** Offers that got no connection, by the gate's reason. */
  readonly offersRefused: Record<InboundRefusal, number> = {
    verdict: 0,
    cooling: 0,
    busy: 0,
    throttled: 0,
    reserved: 0,
  };
  /** Connections given up before they opened (timed out, or their ICE failed), with the reason. */
  readonly failures = new ConnectionFailures();
  /** Signals dropped unused, by reason (signal-freshness.ts, signal-fit.ts). */
  readonly signalsRefused = { stale: 0, duplicate: 0, otherSession: 0 };

  /** The counters as the peer's stats() reports them. */
  toCounters(live: LiveConnections): Record<string, number> {
    const s = this.counts;
    const refused = Object.entries(this.offersRefused).map(([reason, n]) => [`offers.refused.${reason}`, n] as const);
    const signals = Object.entries(this.signalsRefused).map(([reason, n]) => [`signals.${reason}`, n] as const);
    return {
      'connections.open': live.open,
      'connections.created': s.created,
      'connections.budgetLeft': live.budgetLeft,
      'connections.refusedAtCap': s.refusedAtCap,
      'connections.refusedVerdict': s.refusedVerdict,
      'connections.openTimeouts': s.openTimeouts,
      'connections.inboundPending': live.pendingInbound,
      'connections.inboundFailed': s.inboundFailed,
      'connections.busySent': s.busySent,
      'connections.busyReceived': s.busyReceived,
      'connections.prepared': s.prepared,
      'connections.preparedUnused': s.preparedUnused,
      ...this.failures.toStats(),
      ...Object.fromEntries(refused),
      'signals.viaOverlay': s.signalsViaOverlay,
      'signals.viaRelay': s.signalsViaRelay,
      'signals.relayFallbacks': s.relayFallbacks,
      ...Object.fromEntries(signals),
    };
  }
}
