import { FAILURE_REASONS, type FailureReason } from '../../transport/channel-diagnostics.js';

/**
 * Connections that never opened, by reason (channel-diagnostics.ts), and how long the
 * longest of them held its neighbour slot. Every such connection was closed when it was
 * counted here, so `connections.created` minus the open, failed and otherwise closed ones
 * is what is still negotiating; nothing else may hold an RTCPeerConnection.
 */
export class ConnectionFailures {
  total = 0;
  private readonly byReason = new Map<FailureReason, number>(FAILURE_REASONS.map((r) => [r, 0]));
  private heldMsMax = 0;

  record(reason: FailureReason, heldMs: number): void {
    this.total++;
    this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1);
    this.heldMsMax = Math.max(this.heldMsMax, heldMs);
  }

  /** stats() entries: `connections.failed`, `connections.failed.<reason>`, `connections.failedHeldMsMax`. */
  toStats(): Record<string, number> {
    const out: Record<string, number> = {
      'connections.failed': this.total,
      'connections.failedHeldMsMax': Math.round(this.heldMsMax),
    };
    for (const [reason, n] of this.byReason) out[`connections.failed.${reason}`] = n;
    return out;
  }
}
