import type { Contacts, Messaging, NeighbourActions, NodeBasics, Neighbours } from '../context.js';
import type { Liars } from '../defence/liars.js';
import type { NeighbourTrust } from '../defence/neighbour-trust.js';
import { ExpiringIds } from '../expiring-ids.js';
import { isIdHex, toHex, type NodeId } from '../id.js';
import type { ContactId, RoutingTable } from '../routing/routing-table.js';
import { REDIAL_COOLDOWN_MS } from './neighbour-set.js';

/** A lost contact is probed this long after its channel closed, then again after each further wait while unanswered. */
const LOST_PROBE_DELAYS_MS = [2_000, 30_000];
/** An unanswered probe is repeated only by a node with fewer neighbours than this (it may have had no route). */
const PROBE_AGAIN_BELOW_NEIGHBOURS = 3;
/**
 * A contact declared dead (or replaced when its channel closed) is not taken back on
 * hearsay for this long: peers that have not noticed its departure keep naming it in
 * lookup answers. Hearing from it directly brings it back at once.
 */
const DEPARTED_MEMORY_MS = 10 * 60_000;
const MAX_DEPARTED = 1_024;

/** The memory of departed contacts: the routing table fills it (its onDead), ContactBook reads it. */
export const departedMemory = (): ExpiringIds => new ExpiringIds(DEPARTED_MEMORY_MS, MAX_DEPARTED);

export interface ContactBookHost extends NodeBasics {
  readonly table: Pick<RoutingTable, 'get' | 'isLost' | 'update' | 'markDead' | 'markLost' | 'lost'>;
  readonly neighbours: Neighbours;
  /** Nodes a lookup caught naming ids that do not exist. */
  readonly liars: Liars;
  /** Contacts this node dropped as dead, refused as hearsay for a while (departedMemory). */
  readonly departed: ExpiringIds;
  readonly trust: Pick<NeighbourTrust, 'isDistrusted' | 'distrustedCount'>;
  readonly actions: Pick<NeighbourActions, 'hangUp' | 'revived'>;
  readonly messenger: Pick<Messaging, 'newId' | 'queryPeer'>;
  /** A contact joined the table (replication.ts offers it the records it should hold). */
  added(idHex: string): void;
  /** A node that answered us found its bucket full (liveness.ts pings the oldest and evicts it if dead). */
  bucketFull(oldest: ContactId, candidate: NodeId): void;
  isClosed(): boolean;
}

/**
 * What a node believes about the nodes it hears of: who goes into the routing table and
 * who does not (liars, distrusted neighbours, departed contacts named by hearsay), who is
 * convicted of lying, and whether a contact whose channel closed has really gone.
 */
export class ContactBook implements Contacts {
  /** When each recently lost contact was probed: at most one probe per contact per cooldown. */
  private probedAt: Map<string, number> | undefined;
  /** Probes waiting for their delay, cancelled when the node closes. */
  private probeTimers: Set<() => void> | undefined;
  // Both made at the first probe: an empty Map or Set is ~0.2 KB a node.

  constructor(private readonly host: ContactBookHost) {}

  /**
   * Record a node we heard of. `heard` means it answered us (or opened a channel): a full
   * bucket then pings its oldest contact and evicts it only if dead. Ids merely named in
   * someone's reply wait in the replacement cache instead of costing a ping.
   */
  learn(id: NodeId, heard: boolean, rttMs?: number): void {
    const { host } = this;
    const hex = toHex(id);
    const now = host.clock.now();
    if (host.liars.size > 0 && host.liars.has(hex, now)) return;
    if (host.trust.distrustedCount > 0 && host.trust.isDistrusted(hex, now)) return;
    const known = host.table.get(hex);
    const lost = known !== undefined && host.table.isLost(hex);
    // Others naming a contact we lost (or dropped) do not prove it alive: they may not have noticed yet.
    if (!heard && (lost || (host.departed.size > 0 && host.departed.has(hex, now)))) return;
    // Nor does naming one we hold: only hearing from it refreshes it. Hearsay from peers that
    // have not noticed a departure would otherwise keep a gone contact fresh, and wipe the
    // unanswered queries that are to show it gone (lookup-run.ts, quiet-contacts.ts).
    if (!heard && known !== undefined) return;
    if (heard && host.departed.size > 0) host.departed.delete(hex);
    const result = host.table.update(id, now, rttMs);
    if (lost) {
      // It answered (a probe, or any query): it did not leave, so it may be dialled again at once.
      host.count('contacts.revived');
      host.actions.revived(hex);
    }
    if (result.kind === 'added') host.added(result.contact.idHex);
    if (result.kind === 'full' && heard) host.bucketFull(result.oldest, id);
  }

  /**
   * A lookup caught `peer` naming an id implausibly close to its target that never
   * answered: a forgery (liars.ts). For LIAR_MEMORY_MS no lookup takes its word, it leaves
   * the routing table (a replacement takes its place) and its channel closes, so it
   * carries none of our traffic either.
   */
  convict(peer: string): void {
    const { host } = this;
    if (peer === host.selfHex || !isIdHex(peer) || !host.liars.convict(peer, host.clock.now())) return;
    host.count('contacts.convicted');
    host.table.markDead(peer);
    if (host.neighbours.has(peer)) {
      host.count('neighbours.droppedLiar');
      host.actions.hangUp(peer);
    }
  }

  /** A neighbour's channel closed; `unasked`: the far side (or the network) closed it. */
  channelClosed(peer: string, unasked: boolean): void {
    // Channels closing because this node closes say nothing about the peers (and a probe's timer would hold a Node process open).
    if (this.host.isClosed()) return;
    // Nothing else would tell us it left (only open channels are pinged), so stop handing it out now.
    if (unasked && this.host.table.markLost(peer) === 'lost') {
      this.host.count('contacts.lost');
      this.probeLost(peer);
    }
  }

  /**
   * A channel also closes when the far side declared *us* dead (we were paused, or cut off):
   * it is still there, and if it is one of our siblings, routing to us depends on that
   * channel. Routed PINGs tell the two cases apart without a connection: an answer revives
   * the contact and lifts its redial cooldown; silence leaves it lost (the neighbour policy
   * redials it once the cooldown ends, the last way to find it). They are spread out
   * because right after such a close we may have no route at all: every channel of a
   * paused node closes at once. A node that still had a few neighbours when a probe went
   * unanswered had routes: the contact left (the common case under churn), and it is not
   * probed again.
   */
  private probeLost(peer: string): void {
    const { host } = this;
    const now = host.clock.now();
    const probedAt = (this.probedAt ??= new Map());
    if ((probedAt.get(peer) ?? -Infinity) > now - REDIAL_COOLDOWN_MS) return;
    probedAt.set(peer, now);
    for (const [p, at] of probedAt) if (at <= now - REDIAL_COOLDOWN_MS) probedAt.delete(p);
    let attempt = 0;
    const probe = (): void => {
      if (host.isClosed() || !host.table.isLost(peer)) return;
      host.count('contacts.probed');
      host.messenger.queryPeer(peer, 'PING', { rid: host.messenger.newId() }).then(
        ({ info }) => {
          if (!host.isClosed() && toHex(info.from) === peer) this.learn(info.from, true);
        },
        () => {
          host.count('contacts.probeUnanswered');
          const delay = LOST_PROBE_DELAYS_MS[++attempt];
          if (delay !== undefined && host.neighbours.size < PROBE_AGAIN_BELOW_NEIGHBOURS) this.later(delay, probe);
        },
      );
    };
    this.later(LOST_PROBE_DELAYS_MS[0]!, probe);
  }

  private later(delayMs: number, run: () => void): void {
    const timers = (this.probeTimers ??= new Set());
    const cancel = this.host.clock.setTimer(delayMs, () => {
      timers.delete(cancel);
      run();
    });
    timers.add(cancel);
  }

  close(): void {
    if (this.probeTimers === undefined) return;
    for (const cancel of this.probeTimers) cancel();
    this.probeTimers.clear();
  }
}
