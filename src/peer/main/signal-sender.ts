import type { Clock } from '../../core/environment.js';
import type { IdHex } from '../../core/id.js';
import { MAX_SIGNAL_SEQ, type StampedSignal } from '../../signaling/protocol.js';
import { busySignal, type BusyReplies } from './busy-reply.js';
import type { Connection, ConnectionHooks } from './connection.js';
import type { ConnectionStats } from './connection-stats.js';

/**
 * How this page's signals reach a peer: through the overlay (a routed SIGNAL) while the
 * node has channels, through the relay otherwise, or when the overlay brought no answer in
 * time. The overlay gives no delivery receipt, so a dial that hears nothing within
 * `overlayAnswerMs` sends everything again, with the same stamps, through the relay; the
 * peer's freshness check (signal-freshness.ts) drops whichever copy comes second.
 */
export class SignalSender {
  constructor(
    private readonly clock: Clock,
    private readonly hooks: Pick<ConnectionHooks, 'sendViaOverlay' | 'sendViaRelay'>,
    private readonly stats: ConnectionStats,
    private readonly busyReplies: BusyReplies,
    private readonly overlayAnswerMs: number,
    /** True while `connection` is still the one held for `peer` (a timer may outlive it). */
    private readonly isCurrent: (peer: IdHex, connection: Connection) => boolean,
  ) {}

  /** A signal our side of `connection` produced: stamp it in the connection's session and send it. */
  send(peer: IdHex, connection: Connection, data: unknown): void {
    // No negotiation comes near this many signals; past it they could not be stamped validly.
    if (connection.nextSeq > MAX_SIGNAL_SEQ) return;
    const signal: StampedSignal = {
      data,
      ts: this.clock.now(),
      session: connection.session,
      seq: connection.nextSeq++,
    };
    connection.sent.push(signal);
    if (connection.viaRelay) {
      this.relay(peer, signal);
      return;
    }
    const counts = this.stats.counts;
    void this.hooks.sendViaOverlay(peer, signal).then((routed) => {
      if (!routed) {
        // The first refusal sends everything so far through the relay; later signals go there
        // directly, so a refusal that resolves after that has nothing left to send.
        if (connection.viaRelay) return;
        connection.viaRelay = true;
        for (const d of connection.sent) this.relay(peer, d);
        return;
      }
      counts.signalsViaOverlay++;
      if (connection.initiator && connection.sent.length === 1) {
        // The overlay gives no delivery receipt: if no answer comes back in time, try the relay.
        connection.cancelTimers.push(
          this.clock.setTimer(this.overlayAnswerMs, () => {
            if (connection.answered || connection.open || !this.isCurrent(peer, connection)) return;
            counts.relayFallbacks++;
            connection.viaRelay = true;
            for (const d of connection.sent) this.relay(peer, d);
          }),
        );
      }
    });
  }

  /** Answer an offer we take no connection for "busy", the way it came (paced: busy-reply.ts). */
  replyBusy(to: IdHex, offer: StampedSignal, viaRelay: boolean): void {
    if (!this.busyReplies.take(to)) return;
    this.stats.counts.busySent++;
    const reply = busySignal(offer.session, this.clock.now());
    if (viaRelay) return this.relay(to, reply);
    void this.hooks.sendViaOverlay(to, reply).then((routed) => {
      if (!routed) this.relay(to, reply);
    });
  }

  private relay(peer: IdHex, signal: StampedSignal): void {
    if (this.hooks.sendViaRelay(peer, signal)) this.stats.counts.signalsViaRelay++;
  }
}
