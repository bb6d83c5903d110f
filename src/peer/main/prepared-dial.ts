import type { PeerChannel } from '../../transport/peer-channel.js';

/**
 * A dial's connection made before its peer is known (docs/ARCHITECTURE.md, Joining): an offer
 * names no peer, so a page can make its first initiator connection, its offer and its
 * candidates while the relay admits it. What the connection produces meanwhile is held here
 * until a dial takes it (ConnectionManager.prepareDial) and sends it, stamped for that peer.
 * One nobody takes is closed; one that fails first is forgotten. Either way `unused` is told.
 */
export class PreparedDial {
  private prepared: { channel: PeerChannel; held: unknown[] } | undefined;

  constructor(private readonly unused: () => void) {}

  get ready(): boolean {
    return this.prepared !== undefined;
  }

  /** Hold what `channel` produces until a dial takes it. */
  hold(channel: PeerChannel): void {
    const prepared = { channel, held: [] as unknown[] };
    channel.onSignal = (data) => prepared.held.push(data);
    // Failed before any dial took it: it is gone, and the dial makes a connection of its own.
    channel.onClose = () => {
      if (this.prepared !== prepared) return;
      this.prepared = undefined;
      this.unused();
    };
    this.prepared = prepared;
  }

  /** The connection and what it produced so far, for a dial to set its handlers and send; none if nothing is held. */
  take(): { channel: PeerChannel; held: unknown[] } | undefined {
    const prepared = this.prepared;
    this.prepared = undefined;
    return prepared;
  }

  /** Close the connection nobody took. */
  discard(): void {
    const prepared = this.take();
    if (prepared === undefined) return;
    this.unused();
    prepared.channel.close();
  }
}
