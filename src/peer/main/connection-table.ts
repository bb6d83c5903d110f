import type { IdHex } from '../../core/id.js';
import type { Connection } from './connection.js';

/**
 * The page's connections by peer, open and negotiating (at most one per peer), and the counts
 * the manager's bounds and the peer's stats() read from them.
 */
export class ConnectionTable extends Map<IdHex, Connection> {
  get openCount(): number {
    let n = 0;
    for (const c of this.values()) if (c.open) n++;
    return n;
  }

  /** Inbound negotiations in progress: offers answered whose channel has not opened yet. */
  get pendingInbound(): number {
    let n = 0;
    for (const c of this.values()) if (!c.initiator && !c.open) n++;
    return n;
  }

  isOpen(peer: IdHex): boolean {
    return this.get(peer)?.open === true;
  }

  openPeers(): IdHex[] {
    return [...this].filter(([, c]) => c.open).map(([p]) => p);
  }

  /** Whether `connection` is still the one held for `peer` (not replaced, not dropped). */
  holds(peer: IdHex, connection: Connection): boolean {
    return this.get(peer) === connection;
  }
}
