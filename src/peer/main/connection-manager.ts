import { CONNECTION_BUDGET, MAX_NEIGHBOURS } from '../../core/constants.js';
import type { Clock } from '../../core/environment.js';
import { isIdHex, type IdHex } from '../../core/id.js';
import type { Identity } from '../../core/identity.js';
import { newSignalSession, type StampedSignal } from '../../signaling/protocol.js';
import { BusyReplies, DEFAULT_BUSY_REPLY_LIMITS, isBusy } from './busy-reply.js';
import type { Connection, ConnectionHooks, ConnectionLimits } from './connection.js';
import { ConnectionTable } from './connection-table.js';
import { newConnection, wireConnection } from './connection-wiring.js';
import { ConnectionStats } from './connection-stats.js';
import { DEFAULT_INBOUND_LIMITS, InboundGate } from './inbound-gate.js';
import { admitOffer } from './offer-admission.js';
import { PreparedDial } from './prepared-dial.js';
import { markStartup } from './startup-marks.js';
import { SignalSender } from './signal-sender.js';
import { fitSignal } from './signal-fit.js';
import { DEFAULT_FRESHNESS, SignalFreshness } from './signal-freshness.js';

/**
 * The main thread's side of the mesh: it owns the WebRTC channels and carries out what
 * the worker's node decides (connect, disconnect, send), within the browser's limits —
 * a cap on live channels and a budget on connections created per page lifetime, since
 * Chrome refuses the 501st RTCPeerConnection even after the others closed.
 *
 * Signals go through the overlay when the node has open channels (a routed SIGNAL) and
 * through the relay otherwise, or when the overlay did not bring an answer in time
 * (signal-sender.ts). Its counters are kept in connection-stats.ts.
 *
 * The page holds at most `maxChannels` connections, open and negotiating, the node's cap; a
 * stranger's offer also passes the inbound gate, and one refused is answered busy or dropped
 * (offer-admission.ts).
 *
 * Every signal is stamped (time, session, sequence) under its signature: one that is
 * stale or had before is dropped (signal-freshness.ts), and the rest go to the negotiation
 * they belong to (signal-fit.ts), so an old signal routed again opens nothing and closes nothing.
 * A page's first dial can be prepared before its peer is known (prepared-dial.ts); a connection's
 * record and its channel's events are wired in connection-wiring.ts, and kept by peer in
 * connection-table.ts.
 */

export class ConnectionManager {
  private readonly connections = new ConnectionTable();
  private readonly limits: Omit<ConnectionLimits, 'inbound' | 'freshness' | 'busyReplies'>;
  private readonly gate: InboundGate;
  private readonly freshness: SignalFreshness;
  private readonly sender: SignalSender;
  private readonly counted = new ConnectionStats();
  private readonly preparedDial = new PreparedDial(() => this.stats.preparedUnused++);
  /** What happened to dials and offers, by kind (connection-stats.ts). */
  readonly stats = this.counted.counts;
  /** Offers that got no connection, by the gate's reason. */
  readonly offersRefused = this.counted.offersRefused;
  /** Connections given up before they opened (timed out, or their ICE failed), with the reason. */
  readonly failures = this.counted.failures;
  /** Signals dropped unused, by reason (signal-freshness.ts, signal-fit.ts). */
  readonly signalsRefused = this.counted.signalsRefused;

  constructor(
    private readonly identity: Identity,
    private readonly clock: Clock,
    private readonly hooks: ConnectionHooks,
    limits: Partial<ConnectionLimits> = {},
  ) {
    const { inbound, freshness, busyReplies, ...rest } = limits;
    this.limits = {
      maxChannels: MAX_NEIGHBOURS,
      budget: CONNECTION_BUDGET,
      overlayAnswerMs: 2_000,
      openTimeoutMs: 15_000,
      ...rest,
    };
    this.gate = new InboundGate(clock, {
      ...DEFAULT_INBOUND_LIMITS,
      reserve: Math.floor(this.limits.budget / 4),
      ...inbound,
    });
    this.freshness = new SignalFreshness({ ...DEFAULT_FRESHNESS, ...freshness });
    this.sender = new SignalSender(
      clock,
      hooks,
      this.counted,
      new BusyReplies(clock, { ...DEFAULT_BUSY_REPLY_LIMITS, ...busyReplies }),
      this.limits.overlayAnswerMs,
      (peer, connection) => this.connections.holds(peer, connection),
    );
  }

  get openCount(): number {
    return this.connections.openCount;
  }

  get budgetLeft(): number {
    return this.limits.budget - this.stats.created;
  }

  isOpen(peer: IdHex): boolean {
    return this.connections.isOpen(peer);
  }

  openPeers(): IdHex[] {
    return this.connections.openPeers();
  }

  /** This side's counters, as the peer's stats() reports them. */
  counters(): Record<string, number> {
    return this.counted.toCounters({
      open: this.openCount,
      budgetLeft: this.budgetLeft,
      pendingInbound: this.pendingInbound,
    });
  }

  /** Connection attempts given up before they opened, since the start. */
  get failuresTotal(): number {
    return this.failures.total;
  }

  /** Inbound negotiations in progress: offers answered whose channel has not opened yet. */
  get pendingInbound(): number {
    return this.connections.pendingInbound;
  }

  /** The worker's node refuses `peer` (banned, convicted, distrusted) for `forMs` more: no connection with it either way. */
  refuse(peer: IdHex, forMs: number): void {
    if (!isIdHex(peer) || !(forMs > 0)) return;
    this.gate.refuse(peer, forMs);
  }

  /**
   * Make the next dial's connection now (its offer and candidates come meanwhile and are held),
   * while the budget allows and none is prepared already. It costs one of the page's
   * connections whether or not a dial takes it: `discardPrepared` closes one nobody took.
   */
  prepareDial(): void {
    if (this.preparedDial.ready || !this.spend()) return;
    this.stats.prepared++;
    this.preparedDial.hold(this.hooks.createChannel(true, true));
  }

  /** Count one more of the page's connections; false when the budget is spent. */
  private spend(): boolean {
    if (this.stats.created >= this.limits.budget) return false;
    this.stats.created++;
    this.hooks.created(this.stats.created);
    return true;
  }

  /** Close the prepared connection if no dial took it (nobody to dial, or the relay's ICE servers came after it). */
  discardPrepared(): void {
    this.preparedDial.discard();
  }

  /** Open a channel to `peer` as initiator (the node asked, or the relay introduced it). */
  connect(peer: IdHex): boolean {
    if (!isIdHex(peer) || peer === this.identity.nodeIdHex || this.connections.has(peer)) return false;
    const connection = this.create(peer, true);
    return connection !== undefined;
  }

  /** A verified signal from `from` (relay or overlay). */
  signal(from: IdHex, signal: StampedSignal, viaRelay: boolean): void {
    markStartup('first-signal-in');
    let connection = this.connections.get(from);
    const verdict = this.freshness.check(from, signal, this.clock.now());
    if (verdict !== 'fresh') {
      this.signalsRefused[verdict]++;
      // The relay's copy of what the overlay brought: the peer went over to the relay, so we answer that way too.
      if (verdict === 'duplicate' && viaRelay && connection?.session === signal.session) connection.viaRelay = true;
      return;
    }
    if (isBusy(signal.data)) return this.busyReceived(from, connection, signal);
    const fit = fitSignal(connection, signal);
    if (fit === 'stale' || fit === 'otherSession') return void this.signalsRefused[fit]++;
    // Crossed dials: the smaller node id keeps its offer, the other answers.
    if (fit === 'ignore' || (fit === 'crossed' && this.identity.nodeIdHex < from)) return;
    if (fit === 'restart' || fit === 'crossed') {
      this.drop(from, true);
      connection = undefined;
    }
    if (connection === undefined) {
      const parts = { gate: this.gate, counted: this.counted, sender: this.sender };
      const admitted = admitOffer(parts, from, signal, viaRelay, fit === 'crossed', {
        pending: this.pendingInbound,
        budgetLeft: this.budgetLeft,
        full: this.connections.size >= this.limits.maxChannels,
      });
      if (admitted === undefined) return;
      connection = this.create(from, false, admitted.gated, signal.session);
      if (connection === undefined) {
        if (admitted.gated) this.gate.release();
        return;
      }
    }
    connection.answered = true;
    connection.peerTs = Math.max(connection.peerTs, signal.ts);
    if (viaRelay) connection.viaRelay = true;
    connection.channel.signal(signal.data);
  }

  send(peer: IdHex, frame: Uint8Array): boolean {
    const connection = this.connections.get(peer);
    if (connection === undefined || !connection.open) return false;
    return connection.channel.send(frame);
  }

  disconnect(peer: IdHex): void {
    this.drop(peer, true);
  }

  closeAll(): void {
    this.discardPrepared();
    for (const peer of [...this.connections.keys()]) this.drop(peer, true, true);
  }

  /** `session`: the offer's, when answering; a dial draws a new one. */
  private create(peer: IdHex, initiator: boolean, gated = false, session = newSignalSession()): Connection | undefined {
    if (this.gate.isRefused(peer)) {
      // An inbound offer from a refused peer is stopped at the gate; only dials get here.
      this.stats.refusedVerdict++;
      if (initiator) this.hooks.channelClosed(peer, false);
      return undefined;
    }
    if (this.connections.size >= this.limits.maxChannels) {
      // Only a dial gets here (signal() answers offers past the cap): the peer is not at fault.
      this.stats.refusedAtCap++;
      if (initiator) this.hooks.dialBusy(peer);
      return undefined;
    }
    // A dial takes the prepared connection, already counted, if there is one.
    const prepared = initiator ? this.preparedDial.take() : undefined;
    if (prepared === undefined && !this.spend()) {
      this.stats.refusedBudget++;
      if (initiator) this.hooks.channelClosed(peer, false);
      return undefined;
    }
    const channel = prepared?.channel ?? this.hooks.createChannel(initiator);
    const connection = newConnection(channel, initiator, gated, session, this.clock.now());
    this.connections.set(peer, connection);
    wireConnection(
      connection,
      {
        current: (c) => this.connections.holds(peer, c),
        signal: (c, data) => this.sender.send(peer, c, data),
        opened: (c) => {
          if (c.gated) this.gate.opened(peer);
          this.stats.opened++;
          this.hooks.channelOpened(peer);
        },
        frame: (frame) => this.hooks.frame(peer, frame),
        closed: (c, failed) => {
          if (failed) this.failed(c, 'error');
          this.drop(peer, false);
        },
        timedOut: (c) => {
          this.stats.openTimeouts++;
          this.failed(c, 'timeout');
          this.drop(peer, true);
        },
      },
      this.clock,
      this.limits.openTimeoutMs,
    );
    if (prepared !== undefined) {
      markStartup('first-dial');
      // What the prepared connection produced so far (its offer, candidates) goes out now, in order, stamped for this peer.
      for (const data of prepared.held.splice(0)) channel.onSignal(data);
    }
    return connection;
  }

  /** A busy answer: it ends our dial in that session, and nothing else. */
  private busyReceived(from: IdHex, connection: Connection | undefined, signal: StampedSignal): void {
    if (connection === undefined || !connection.initiator || connection.open || connection.session !== signal.session) {
      this.signalsRefused.otherSession++;
      return;
    }
    this.stats.busyReceived++;
    this.drop(from, true, false, true);
  }

  private failed(connection: Connection, fallback: 'error' | 'timeout'): void {
    this.failures.record(connection.channel.failureReason?.() ?? fallback, this.clock.now() - connection.createdAt);
  }

  /** `busy`: a dial the peer answered busy, reported as such rather than as a closed attempt. */
  private drop(peer: IdHex, closeChannel: boolean, shuttingDown = false, busy = false): void {
    const connection = this.connections.get(peer);
    if (connection === undefined) return;
    this.connections.delete(peer);
    if (!connection.initiator && !connection.open && !shuttingDown) {
      this.stats.inboundFailed++;
      if (connection.gated) this.gate.failed(peer);
    }
    for (const cancel of connection.cancelTimers) cancel();
    if (closeChannel) connection.channel.close();
    this.stats.closed++;
    if (busy) this.hooks.dialBusy(peer);
    else this.hooks.channelClosed(peer, connection.open);
  }
}
