import type { Clock } from '../../core/environment.js';
import type { PeerChannel } from '../../transport/peer-channel.js';
import type { Connection } from './connection.js';

/**
 * A connection's record, and what its channel's events do to it (connection-manager.ts decides
 * whether there is a connection at all: the gate, the cap, the budget, the prepared dial).
 * Every event first asks whether the record is still the peer's current one: a connection
 * replaced (a restarted negotiation, crossed dials) or dropped may still fire events, and
 * those must neither open, close nor deliver anything.
 */
export interface ConnectionEvents {
  /** Whether `connection` is still the one the manager holds for its peer. */
  current(connection: Connection): boolean;
  /** A signal the channel produced, to stamp and send (signal-sender.ts). */
  signal(connection: Connection, data: unknown): void;
  /** Its data channel opened (already marked open and its timers cancelled). */
  opened(connection: Connection): void;
  frame(frame: Uint8Array): void;
  /** The channel closed by itself; `failed` when it had never opened (an error, not a timeout). */
  closed(connection: Connection, failed: boolean): void;
  /** It did not open within the time allowed. */
  timedOut(connection: Connection): void;
}

/** A new connection's record: `session` is the offer's when answering, a new one when dialling. */
export function newConnection(
  channel: PeerChannel,
  initiator: boolean,
  gated: boolean,
  session: string,
  now: number,
): Connection {
  return {
    channel,
    initiator,
    gated,
    open: false,
    createdAt: now,
    session,
    nextSeq: 0,
    peerTs: -Infinity,
    sent: [],
    answered: false,
    viaRelay: false,
    cancelTimers: [],
  };
}

/** Set the channel's handlers for `connection`, and give it `openTimeoutMs` to open. */
export function wireConnection(
  connection: Connection,
  events: ConnectionEvents,
  clock: Clock,
  openTimeoutMs: number,
): void {
  const { channel } = connection;
  channel.onSignal = (data) => events.signal(connection, data);
  channel.onOpen = () => {
    if (!events.current(connection)) return;
    connection.open = true;
    for (const cancel of connection.cancelTimers) cancel();
    events.opened(connection);
  };
  channel.onData = (frame) => {
    if (events.current(connection)) events.frame(frame);
  };
  channel.onClose = () => {
    if (events.current(connection)) events.closed(connection, !connection.open);
  };
  connection.cancelTimers.push(
    clock.setTimer(openTimeoutMs, () => {
      if (!connection.open && events.current(connection)) events.timedOut(connection);
    }),
  );
}
