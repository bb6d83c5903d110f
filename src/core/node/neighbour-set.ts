import { NEIGHBOUR_REVIEW_MS } from '../constants.js';
import type { NeighbourActions, NodeBasics, Neighbour, NodeEvent } from '../context.js';
import type { Transport } from '../environment.js';
import { fromHex, isIdHex } from '../id.js';
import { planNeighbours, type NeighbourPolicy } from '../routing/neighbour-plan.js';
import type { RoutingTable } from '../routing/routing-table.js';
import { newNeighbour } from './neighbour-record.js';

/**
 * Neighbours beyond what routing needs (they shorten routes) are opened at most this
 * often, after a small burst: under churn, replacing every lost neighbour at once would
 * spend the tab's connection budget on departures.
 */
const OPTIONAL_CONNECT_INTERVAL_MS = 300_000;
const OPTIONAL_CONNECT_BURST = 2;
/** A neighbour whose channel closed is not dialled again for this long. */
export const REDIAL_COOLDOWN_MS = 10 * 60_000;
/** A node surrounded by neighbours that get nothing through asks the relay for introductions at most this often. */
const SURROUNDED_ASK_SPACING_MS = 60_000;
/** Reviews of the neighbour set triggered by channel events are spaced at least this far. */
const MIN_REVIEW_SPACING_MS = 2_000;

export interface NeighbourSetHost extends NodeBasics {
  /** The open channels, kept here; every other part only reads them. */
  readonly neighbours: Map<string, Neighbour>;
  readonly table: RoutingTable;
  readonly transport: Transport;
  readonly policy: NeighbourPolicy;
  /** Connections this node may create in its life (a page gets ~500 RTCPeerConnections). */
  readonly connectionBudget: number;
  emit(event: NodeEvent): void;
  /** A review may be due at `at` (maintenance.ts, dueAt). */
  wake?(at: number): void;
}

/**
 * Which channels a node keeps (neighbour-plan.ts decides which contacts deserve one), and
 * what opening and closing them involves: dials in flight, redial cooldowns, the slow
 * token-paced top-up of optional neighbours, the lifetime connection budget, and when to
 * ask the relay for introductions. A closed channel is closed here, once, and the parts
 * that keep something per neighbour are told (onClosed), in the order they registered.
 */
export class NeighbourSet implements NeighbourActions {
  private readonly connecting = new Map<string, number>();
  private readonly cooldown = new Map<string, number>();
  private readonly closedListeners: Array<(peer: string, unasked: boolean, neighbour: Neighbour) => void> = [];
  private readonly departedListeners: Array<() => void> = [];
  private nextReviewAt = 0;
  private lastReviewAt = -Infinity;
  private settledState: string | undefined;
  /** When the first cooldown of a settled review ends: the contact it kept out may be wanted again. */
  private settledUntil = Infinity;
  /**
   * The plan of the last review, kept while only a token is missing to carry it out
   * (`waitingState`, see review). Any change to the channels, the dials or the cooldowns
   * drops it (`replan`), as does a change to the routing table (its version is in the state).
   */
  private waitingState: string | undefined;
  /** The earliest cooldown end when the plan was kept: the contact it frees may be planned then. */
  private waitingUntil = Infinity;
  private optionalTokens = OPTIONAL_CONNECT_BURST;
  private tokensAt = 0;
  private created = 0;
  /** Every channel closed (or every neighbour convicted): the next one to open starts a new join. */
  private isolated = false;
  /** Set by the sibling exchange when a self-lookup finds us on an island (see wantIntroductions). */
  private introductionsWanted = false;
  private surroundedAskedAt = -Infinity;

  constructor(private readonly host: NeighbourSetHost) {}

  /**
   * Be told of each neighbour whose channel closed; `unasked`: the far side (or the network)
   * closed it; `neighbour`: its record, already gone from the open channels.
   */
  onClosed(listener: (peer: string, unasked: boolean, neighbour: Neighbour) => void): void {
    this.closedListeners.push(listener);
  }

  /**
   * Be told of each neighbour that left: its channel closed from the far side, or it stopped
   * answering and was declared dead (which closes the channel from our side first, as a
   * browser's channel to a closed tab often outlives it by seconds).
   */
  onDeparted(listener: () => void): void {
    this.departedListeners.push(listener);
  }

  get connectionsCreated(): number {
    return this.created;
  }

  /**
   * The page counts every connection it creates, inbound ones included (which this node never
   * asked for): the budget follows that count, so both sides agree on what is left.
   */
  adoptConnectionsCreated(total: number): void {
    this.created = total;
  }

  /** Dials in flight. */
  get pending(): number {
    return this.connecting.size;
  }

  /** A channel opened: true when it is a new neighbour. */
  opened(peer: string, now: number): boolean {
    this.connecting.delete(peer);
    this.replan();
    if (this.host.neighbours.has(peer)) return false;
    // The table's copy of the id (a simulator's nodes share one per id: routing-table.ts idFor).
    const neighbour = newNeighbour(this.host.table.idFor(peer), peer, now);
    this.host.neighbours.set(peer, neighbour);
    return true;
  }

  /**
   * A dial got no channel because one side already held its cap (the peer answered "busy",
   * or our own page had no room). Unlike a dial that failed, this says the contact is alive:
   * it stays in the table, and waits out the redial cooldown while the plan picks others.
   */
  busy(peer: string): void {
    if (!this.connecting.delete(peer) || this.host.neighbours.has(peer)) return;
    this.host.count('connections.busy');
    this.cooldown.set(peer, this.host.clock.now() + REDIAL_COOLDOWN_MS);
    this.replan();
    this.reviewSoon();
  }

  /** A channel we do not accept (a liar, a banned or distrusted node). */
  refuse(peer: string): void {
    this.connecting.delete(peer);
    this.replan();
    this.host.transport.disconnect(peer);
  }

  /** True once after the node lost its last channel and has a channel again: it should join anew. */
  rejoinDue(): boolean {
    if (!this.isolated) return false;
    this.isolated = false;
    return true;
  }

  /** The channel to `peer` is gone; `unasked` when we did not close it ourselves. */
  close(peer: string, unasked: boolean): void {
    const { host } = this;
    this.replan();
    if (this.connecting.delete(peer) && !host.neighbours.has(peer)) {
      // A connection we asked for never opened: the contact is gone (or refuses us); stop trying it.
      host.count('connections.failed');
      if (isIdHex(peer)) host.table.markDead(fromHex(peer));
      return;
    }
    const neighbour = host.neighbours.get(peer);
    if (neighbour === undefined) return;
    host.neighbours.delete(peer);
    if (host.neighbours.size === 0) this.isolated = true;
    // Do not dial it straight back: it may have left, or dropped us on purpose.
    this.cooldown.set(peer, host.clock.now() + REDIAL_COOLDOWN_MS);
    for (const listener of this.closedListeners) listener(peer, unasked, neighbour);
    if (unasked) for (const listener of this.departedListeners) listener();
    host.count('channels.closed');
    host.emit({ type: 'neighbour:close', peer });
    this.reviewSoon();
  }

  hangUp(peer: string): void {
    this.host.transport.disconnect(peer);
    this.close(peer, false);
  }

  declareDead(peer: string): void {
    this.host.count('neighbours.dead');
    this.host.table.markDead(fromHex(peer));
    if (!this.host.neighbours.has(peer)) return;
    this.hangUp(peer);
    for (const listener of this.departedListeners) listener();
  }

  coolDown(peer: string, until: number): void {
    this.replan();
    this.cooldown.set(peer, until);
  }

  revived(peer: string): void {
    this.replan();
    this.cooldown.delete(peer);
    this.reviewSoon();
  }

  reviewSoon(): void {
    const at = Math.min(this.nextReviewAt, this.lastReviewAt + MIN_REVIEW_SPACING_MS);
    if (at < this.nextReviewAt) this.host.wake?.(at);
    this.nextReviewAt = at;
  }

  dueAt(): number {
    return this.nextReviewAt;
  }

  tick(now: number): void {
    if (now < this.nextReviewAt) return;
    this.review(now);
    this.lastReviewAt = now;
    this.nextReviewAt = now + NEIGHBOUR_REVIEW_MS;
  }

  /** Carry out the neighbour policy: open what is missing (within budget), drop the surplus. */
  review(now: number): void {
    const { host } = this;
    for (const [peer, since] of this.connecting) {
      if (now - since <= 2 * host.hopTimeoutMs) continue;
      this.connecting.delete(peer);
      this.replan();
      host.count('connections.failed');
      host.table.markDead(fromHex(peer));
    }
    // Nothing changed since a review that left nothing to do: the plan would be the same.
    const state = `${host.table.version}/${host.neighbours.size}/${this.connecting.size}/${this.cooldown.size}`;
    if (state === this.settledState && now < this.settledUntil) return;
    // Tokens refill at every review that gets this far, kept or not, so the pace stays the same.
    this.optionalTokens = Math.min(
      OPTIONAL_CONNECT_BURST,
      this.optionalTokens + (now - this.tokensAt) / OPTIONAL_CONNECT_INTERVAL_MS,
    );
    this.tokensAt = now;
    // The last plan left only optional dials waiting for a token, and nothing changed since:
    // planning again would only re-rank contacts by when they were last heard from, with no
    // token to dial any of them. Keep it until a token is there or a cooldown ends.
    if (state === this.waitingState && this.optionalTokens < 1 && now < this.waitingUntil) return;
    const open = new Set(host.neighbours.keys());
    for (const [peer, until] of this.cooldown) if (until <= now) this.cooldown.delete(peer);
    const plan = planNeighbours(host.self, host.table, open, host.policy, new Set(this.cooldown.keys()));
    for (const peer of plan.toConnect) {
      if (this.connecting.has(peer)) continue;
      if (open.size + this.connecting.size >= host.policy.maxNeighbours) break;
      if (!plan.required.has(peer)) {
        if (this.optionalTokens < 1) continue;
        this.optionalTokens--;
      }
      if (this.created >= host.connectionBudget) {
        host.count('connections.budgetExhausted');
        break;
      }
      this.connecting.set(peer, now);
      this.created++;
      host.count('connections.created');
      // Which part of the policy asked for it: benchmarks tell the slow top-up of route-shortening extras from the rest.
      host.count(plan.required.has(peer) ? 'connections.created.required' : 'connections.created.optional');
      host.transport.connect(peer);
    }
    for (const peer of plan.toDrop) {
      host.count('connections.dropped');
      this.hangUp(peer);
    }
    const after = `${host.table.version}/${host.neighbours.size}/${this.connecting.size}/${this.cooldown.size}`;
    const unmet = plan.toConnect.filter((p) => !this.connecting.has(p) && !host.neighbours.has(p));
    const idle = plan.toDrop.length === 0 && unmet.length === 0;
    this.settledState = idle ? after : undefined;
    this.settledUntil = idle ? Math.min(...this.cooldown.values()) : Infinity;
    // Only optional contacts left undialled, for want of a token: the plan waits for one.
    const waiting = !idle && plan.toDrop.length === 0 && unmet.every((p) => !plan.required.has(p));
    this.waitingState = waiting ? after : undefined;
    this.waitingUntil = Infinity;
    if (waiting) for (const until of this.cooldown.values()) this.waitingUntil = Math.min(this.waitingUntil, until);
  }

  /** Something the plan depends on changed: the next review plans afresh. */
  private replan(): void {
    this.waitingState = undefined;
  }

  /**
   * The relay should introduce us to a few random nodes: we have no channel, or none of
   * our neighbours has got a request of ours through since long enough to tell
   * (`surrounded`, neighbour-vetting.ts): an honest node surrounded by colluders gets out
   * this way. Or a self-lookup found us on an island (wantIntroductions).
   */
  needsIntroductions(surrounded: (now: number) => boolean): boolean {
    if (this.host.neighbours.size === 0) return true;
    if (this.introductionsWanted) {
      this.introductionsWanted = false;
      return true;
    }
    // Surrounded: ask now and then, not on every check (each introduction costs connections).
    const now = this.host.clock.now();
    if (now - this.surroundedAskedAt < SURROUNDED_ASK_SPACING_MS || !surrounded(now)) return false;
    this.surroundedAskedAt = now;
    this.host.count('introductions.surrounded');
    return true;
  }

  /**
   * Ask the relay for introductions at its next check, though our neighbours get our
   * requests through: they know nobody else. Honest nodes that dropped the colluders their
   * joins met can be left knowing only each other, each the other's one proven neighbour,
   * and nothing else would get them out.
   */
  wantIntroductions(): void {
    this.host.count('introductions.island');
    this.introductionsWanted = true;
  }

  /** The node closes: hang up every channel, telling nobody (every part is closing too). */
  disconnectAll(): void {
    for (const peer of [...this.host.neighbours.keys()]) this.host.transport.disconnect(peer);
    this.host.neighbours.clear();
  }
}
