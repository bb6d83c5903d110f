import { PING_FAILURES_BEFORE_DEAD } from '../constants.js';
import type { Messaging, Neighbour, NeighbourActions, NodeBasics, Neighbours } from '../context.js';
import type { ContactId, RoutingTable } from '../routing/routing-table.js';
import type { PeerKind } from '../wire/messages.js';

/** Unanswered hops or pings in a row before a neighbour is declared dead. */
const JUNK_FRAMES_BEFORE_DISCONNECT = 20;
const MIN_ACK_TIMEOUT_MS = 200;

/** What liveness keeps about a peer: in its neighbour's record (context.ts, Neighbour) while its channel is open. */
type PeerHealth = Pick<Neighbour, 'failures' | 'junk' | 'ping'>;

/** How long to wait for a hop acknowledgement from a neighbour: a few round trips (`rttMs`, learned from our pings), at most the hop timeout. */
export function ackTimeoutMs(rttMs: number | undefined, hopTimeoutMs: number): number {
  if (rttMs === undefined) return hopTimeoutMs;
  return Math.min(hopTimeoutMs, Math.max(MIN_ACK_TIMEOUT_MS, 4 * rttMs));
}

export interface LivenessHost extends NodeBasics {
  /** Open channels; a PONG updates its neighbour's round-trip time. */
  readonly neighbours: Neighbours;
  readonly table: Pick<RoutingTable, 'update' | 'markDead'>;
  readonly messenger: Pick<Messaging, 'newId' | 'sendDirect' | 'queryPeer'>;
  readonly actions: Pick<NeighbourActions, 'declareDead'>;
}

/**
 * Knowing who is alive: PING/PONG with RTT, once when a channel opens and then for
 * neighbours that have been quiet (any frame counts as a sign of life, so busy channels
 * cost no further pings), unacknowledged hops,
 * and the full-bucket rule: ping the oldest contact, evict it only when it is dead.
 */
export class Liveness {
  /**
   * Peers without an open channel that still failed a hop (an acknowledgement timed out after
   * the channel closed): their count carries over should the channel open again. Made at
   * first use; a neighbour's own health is in its record.
   */
  private strays: Map<string, PeerHealth> | undefined;
  /** Made at the first challenge (an empty Set is ~0.2 KB a node). */
  private challenged: Set<string> | undefined;
  private nextCheckAt = 0;

  constructor(
    private readonly host: LivenessHost,
    private readonly intervalMs: number,
  ) {}

  /** The next look at the neighbours: a fixed pace (lastHeard moves on with every frame, so there is no earlier due time to keep). */
  dueAt(): number {
    return this.nextCheckAt;
  }

  tick(now: number): void {
    // Pings are due every intervalMs; looking a few times per interval is precise enough.
    if (now < this.nextCheckAt) return;
    this.nextCheckAt = now + this.intervalMs / 4;
    const { host } = this;
    const pingTimeout = Math.min(host.hopTimeoutMs, this.intervalMs);
    const dead: string[] = [];
    for (const neighbour of host.neighbours.values()) {
      const h = neighbour;
      if (h.ping && now - h.ping.sentAt > pingTimeout) {
        h.ping = undefined;
        host.count('liveness.pingTimeout');
        if (++h.failures >= PING_FAILURES_BEFORE_DEAD) dead.push(neighbour.idHex);
        continue;
      }
      if (h.ping === undefined && now - neighbour.lastHeard >= this.intervalMs) {
        const rid = host.messenger.newId();
        h.ping = { rid, sentAt: now };
        host.messenger.sendDirect(neighbour.idHex, 'PING', this.ping(rid));
      }
    }
    for (const peer of dead) host.actions.declareDead(peer);
  }

  /**
   * A channel just opened: ping it at once. Its round-trip time is then known from the
   * first exchange (peers(), the routing table, and the hop acknowledgement timeout all
   * use it) rather than only once the channel has been quiet for a whole interval, which a
   * busy channel never is.
   */
  opened(peer: string, now: number): void {
    const h = this.entry(peer);
    const stray = this.strays?.get(peer);
    if (stray !== undefined && h !== stray) {
      h.failures = stray.failures;
      h.junk = stray.junk;
      h.ping = stray.ping;
      this.strays!.delete(peer);
    }
    if (h.ping !== undefined) return;
    const rid = this.host.messenger.newId();
    h.ping = { rid, sentAt: now };
    this.host.messenger.sendDirect(peer, 'PING', this.ping(rid));
  }

  /**
   * A channel PING says what this node runs in, as its PONGs do: of the two pings a new
   * channel gets, the one from the side that opened last reaches a side already listening,
   * so each end learns the other's kind even when its own first ping came too early.
   */
  private ping(rid: number): { rid: number; kind?: PeerKind } {
    return this.host.kind === undefined ? { rid } : { rid, kind: this.host.kind };
  }

  /**
   * Any frame from a neighbour proves it alive. Given the neighbour's record, as `pong` below:
   * the frame's way in (channel-intake.ts) has just looked it up.
   */
  heard(neighbour: PeerHealth): void {
    neighbour.failures = 0;
  }

  /** True when the neighbour's PONG answered our liveness ping; any other PONG answers someone's query. */
  pong(neighbour: Neighbour, rid: number): boolean {
    const { ping } = neighbour;
    if (ping === undefined || ping.rid !== rid) return false;
    const now = this.host.clock.now();
    const sample = now - ping.sentAt;
    neighbour.rttMs = neighbour.rttMs === undefined ? sample : 0.8 * neighbour.rttMs + 0.2 * sample;
    neighbour.ping = undefined;
    neighbour.failures = 0;
    this.host.table.update(neighbour.id, now, neighbour.rttMs);
    return true;
  }

  failure(peer: string): void {
    const h = this.entry(peer);
    h.failures++;
    if (h.failures >= PING_FAILURES_BEFORE_DEAD) this.host.actions.declareDead(peer);
  }

  /** A neighbour sent a frame we could not decode; persistent junk closes the channel. */
  junk(peer: string): void {
    const h = this.entry(peer);
    h.junk++;
    if (h.junk >= JUNK_FRAMES_BEFORE_DISCONNECT) {
      this.host.count('neighbours.junkDisconnect');
      this.host.actions.declareDead(peer);
    }
  }

  /** Kademlia's eviction rule for a full bucket (the candidate already waits in the replacement cache). */
  challengeOldest(oldest: ContactId, _candidate: Uint8Array): void {
    const { host } = this;
    if (this.challenged?.has(oldest.idHex) === true || host.neighbours.size === 0) return;
    const challenged = (this.challenged ??= new Set());
    challenged.add(oldest.idHex);
    host.count('liveness.bucketChallenge');
    const rid = host.messenger.newId();
    host.messenger.queryPeer(oldest.idHex, 'PING', { rid }).then(
      () => {
        challenged.delete(oldest.idHex);
        host.table.update(oldest.id, host.clock.now());
      },
      () => {
        challenged.delete(oldest.idHex);
        host.count('liveness.evicted');
        host.table.markDead(oldest.id);
      },
    );
  }

  /** The channel closed: its record goes with it (and a stray's, should there be one). */
  forget(peer: string): void {
    this.strays?.delete(peer);
  }

  close(): void {
    this.strays?.clear();
    for (const neighbour of this.host.neighbours.values()) clearHealth(neighbour);
    this.challenged?.clear();
  }

  private find(peer: string): PeerHealth | undefined {
    return this.host.neighbours.get(peer) ?? this.strays?.get(peer);
  }

  private entry(peer: string): PeerHealth {
    let h = this.find(peer);
    if (h === undefined) {
      // `ping` from the start: a field added later costs each entry a property array.
      h = { failures: 0, junk: 0, ping: undefined };
      (this.strays ??= new Map()).set(peer, h);
    }
    return h;
  }
}

function clearHealth(h: PeerHealth): void {
  h.failures = 0;
  h.junk = 0;
  h.ping = undefined;
}
