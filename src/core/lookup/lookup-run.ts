import { Candidates, SELF } from './candidates.js';
import { askDirectly } from './direct-query.js';
import { DisjointPaths, type FirstHop } from './disjoint-paths.js';
import { implausiblePrefixBits } from '../constants.js';
import { idsEqual, toHex, type NodeId } from '../id.js';
import type { LookupHost } from './lookup-host.js';
import type { FindBrief, FindWatch, LookupProgress } from './lookup-result.js';
import type { Message } from '../wire/messages.js';
import { checkRecord, type SignedRecord } from '../records/records.js';
import type { ReplyInfo } from '../routing/requests.js';
import { NEAREST_HOLDERS, ValueHolders } from './value-holders.js';

/**
 * The least a round waits for its slower paths once a record is in (`round`): a value lookup
 * that has taken no answer yet is still in its first round this long after it started, which
 * is what lets the requester's page settle it from the first answer (FindWatch).
 */
export const MIN_GRACE_MS = 20;
/**
 * How long a value lookup's first round waits for a first hop that is itself one of the nearest
 * holders before its other paths leave (`round`): four of its round trips, at least MIN_GRACE_MS
 * (so a page settling the lookup from its first answer sees the one path that was out: FindWatch)
 * and at most NEAR_FIRST_MAX_MS.
 */
const NEAR_FIRST_MAX_MS = 200;
/** Late queries (past their soft timeout, still waiting for an answer) per pump slot. */
const LINGERING_PER_SLOT = 3;
/**
 * The state of one lookup and its two ways of asking: routed paths (an envelope that
 * travels greedily to whoever is closest to the target, or holds the value) and direct
 * queries (an envelope routed to one candidate's exact id, its attempts in
 * direct-query.ts). lookup.ts decides which to send in which round; this file keeps the
 * books: candidates and their proof (candidates.ts), first hops kept apart
 * (disjoint-paths.ts), records verified by their owner's signature, and the cost.
 */
export class LookupRun {
  readonly candidates: Candidates;
  readonly hops: DisjointPaths;
  readonly found = new Map<string, SignedRecord>();
  readonly responders = new Set<string>();
  /** Which of the paths' answers carried records from the nodes that store them (value-holders.ts). */
  readonly holders = new ValueHolders();
  /**
   * For each node that answered: the hops its answer came back over, as a route to it
   * (our neighbour first, the node itself last). An honest answer that reached us crossed
   * no node that drops honest traffic, so this route is the one proven way to it.
   */
  readonly routes = new Map<string, NodeId[]>();
  /** For each named node, the responders that said they hold a channel to it. */
  readonly linkedBy = new Map<string, Set<string>>();
  readonly targetHex: string;
  readonly startedAt: number;
  readonly connectionsBefore: number;
  answered = 0;
  bestHops = Infinity;
  messages = 0;
  pathsStarted = 0;
  private finished = false;
  private brief: FindBrief | undefined;
  /** The neighbour whose answer ended this lookup is noted for the next one (recent-holders.ts). */
  private remembered = false;

  constructor(
    readonly host: LookupHost,
    readonly target: NodeId,
    readonly kind: 'provider' | 'subscriber' | undefined,
    private readonly onProgress: ((p: LookupProgress) => void) | undefined,
    /** Told of the paths that leave until `unwatch` (lookup.ts: the first round's). */
    private watch?: FindWatch,
  ) {
    this.startedAt = host.clock.now();
    this.connectionsBefore = host.connectionsCreated();
    this.targetHex = toHex(target);
    // Our deepest bucket is about log2 of the network's size: genuine ids closer than ~20 bits past it do not occur.
    const implausibleBits = implausiblePrefixBits(host.table);
    this.candidates = new Candidates(
      target,
      host.selfHex,
      (hex) => host.liars.has(hex, this.startedAt),
      (hex) => host.contacts.convict(hex),
      implausibleBits,
    );
    // A neighbour still being tested (or doubted) may be a colluder: proven ones carry our paths first.
    this.hops = new DisjointPaths(
      () => host.neighbours.values(),
      (hex) => host.trust.verdict(hex) === 'reliable',
    );
    // What we know first-hand (our table holds contacts that answered us or opened a channel).
    for (const c of host.table.closest(target, host.k)) this.candidates.named(c.idHex, c.id, SELF);
    if (kind) for (const r of host.records.get(target, kind, this.startedAt)) this.keep(r);
  }

  /** Paths sent from now on are not told to the watch. */
  unwatch(): void {
    this.watch = undefined;
  }

  report(p: LookupProgress): void {
    this.onProgress?.(p);
    this.host.emit({ type: 'lookup', progress: p });
  }

  /**
   * Send routed paths through `firstHops` and direct queries to `asks`; resolves when all
   * are answered or given up, or, for a value lookup, as soon as the answers show the rest
   * could add no record (value-holders.ts), else shortly after a record turned up (the
   * slower ones get a grace to add providers).
   *
   * A value lookup whose key's last lookup here ended at a neighbour's straight answer
   * (recent-holders.ts), that neighbour still a first hop and still one of the NEAREST_HOLDERS
   * nearest nodes it knows, asks it alone first: its answer with records ends the round
   * (value-holders.ts), so the other paths would only have cost a frame and a wake-up in as
   * many tabs. They leave as soon as that answer does not end the round, or the path fails,
   * or after a few of its round trips without an answer (`nearFirstMs`). Any other lookup
   * sends every path at once, as before: a first hop near by this node's view may still
   * forward the envelope, and the others would then wait for nothing.
   */
  round(
    firstHops: FirstHop[],
    asks: Array<{ hex: string; id: NodeId }>,
    type: 'FIND_NODE' | 'FIND_VALUE',
  ): Promise<void> {
    let outstanding = firstHops.length + asks.length;
    if (outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => {
      let cancelGrace: (() => void) | undefined;
      let over = false;
      // The paths held back while a near first hop is asked alone (see above).
      const lead = this.nearFirst(firstHops);
      let held = lead === undefined ? [] : firstHops.filter((h) => h !== lead);
      let cancelHeld: (() => void) | undefined;
      const release = (): void => {
        cancelHeld?.();
        const rest = held;
        held = [];
        // It did not end the round in time: the next lookup sends every path at once.
        if (rest.length > 0) this.host.recentHolders.forget(this.targetHex, this.kind!);
        for (const first of rest) this.path(first, done);
      };
      const end = (): void => {
        if (over) return;
        over = true;
        cancelGrace?.();
        cancelHeld?.();
        resolve();
      };
      const done = (): void => {
        if (--outstanding === 0 || (this.kind && this.holders.settled)) return end();
        if (held.length > 0) release();
        if (this.kind && this.found.size > 0 && cancelGrace === undefined) {
          cancelGrace = this.host.clock.setTimer(Math.max(MIN_GRACE_MS, this.host.clock.now() - this.startedAt), end);
        }
      };
      if (lead !== undefined) {
        this.host.count('lookups.nearFirst');
        this.path(lead, done);
        cancelHeld = this.host.clock.setTimer(this.nearFirstMs(lead.idHex), release);
      } else for (const first of firstHops) this.path(first, done);
      for (const ask of asks) void askDirectly(this, ask.hex, ask.id, type).finally(done);
    });
  }

  /** The first hop a value lookup's round asks alone first, if any (see `round`). */
  private nearFirst(firstHops: FirstHop[]): FirstHop | undefined {
    if (this.kind === undefined || firstHops.length < 2) return undefined;
    const holder = this.host.recentHolders.holderOf(this.targetHex, this.kind, this.startedAt);
    if (holder === undefined || !this.candidates.closestAny(NEAREST_HOLDERS).includes(holder)) return undefined;
    return firstHops.find((h) => h.idHex === holder);
  }

  /** How long the other paths wait for a near first hop: four of its round trips, within bounds. */
  private nearFirstMs(hex: string): number {
    const rtt = this.host.neighbours.get(hex)?.rttMs;
    return rtt === undefined ? NEAR_FIRST_MAX_MS : Math.min(NEAR_FIRST_MAX_MS, Math.max(MIN_GRACE_MS, 4 * rtt));
  }

  /** Once finished, a lookup takes no more answers. */
  get isFinished(): boolean {
    return this.finished;
  }

  get elapsedMs(): number {
    return this.host.clock.now() - this.startedAt;
  }

  /**
   * Direct queries, pipelined: up to `width` in flight, each freed slot going at once to
   * the closest unasked candidate among the `depth` closest, so a made-up id that keeps
   * its slot until it times out holds up no other query. A query two soft timeouts late
   * gives up its slot but may still answer (at most LINGERING_PER_SLOT × width of those at
   * once). Ends when `enough()` holds, the deadline passed (with nothing in flight), or
   * nothing is left to ask.
   */
  pump(
    depth: number,
    width: number,
    type: 'FIND_NODE' | 'FIND_VALUE',
    enough: () => boolean,
    deadlineMs: number,
  ): Promise<void> {
    const { host } = this;
    return new Promise((resolve) => {
      let inFlight = 0;
      let lingering = 0;
      let over = false;
      const stop = (): void => {
        over = true;
        resolve();
      };
      const next = (): void => {
        if (over) return;
        if (enough()) return stop();
        const open = this.elapsedMs < deadlineMs;
        const room = Math.min(width - inFlight, LINGERING_PER_SLOT * width - lingering - inFlight);
        const picks = open && room > 0 ? this.candidates.nextToAsk(depth, room) : [];
        // Late queries may still answer (and name closer nodes): wait for them, up to the deadline.
        if (picks.length === 0 && inFlight === 0 && (lingering === 0 || !open)) return stop();
        for (const pick of picks) {
          inFlight++;
          let slotHeld = true;
          const release = (): void => {
            if (!slotHeld) return;
            slotHeld = false;
            inFlight--;
            next();
          };
          const cancelLate = host.clock.setTimer(2 * host.queryTimer.softMs, () => {
            lingering++;
            host.count('lookups.queryLate');
            release();
          });
          void askDirectly(this, pick.hex, pick.id, type).finally(() => {
            if (slotHeld) {
              cancelLate();
              return release();
            }
            lingering--;
            next();
          });
        }
      };
      next();
    });
  }

  /** Stop taking answers (late ones are ignored) and remember the contacts worth remembering. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    const now = this.host.clock.now();
    for (const id of this.candidates.believable()) {
      this.host.contacts.learn(id, false);
      // The table's copy of the hex id when it has one: an introduction keeps it for minutes.
      const fresh = toHex(id);
      const hex = this.host.table.get(fresh)?.idHex ?? fresh;
      if (this.host.neighbours.has(hex)) continue;
      const via = this.wayTo(hex);
      if (via !== undefined) this.host.introductions.remember(hex, via, now);
    }
  }

  /**
   * A proven way to `hex` for a later connection offer (routing/introductions.ts): the path
   * its own answer came back over, else the path to a responder that named it as a node it
   * holds a channel to.
   */
  private wayTo(hex: string): NodeId[] | undefined {
    const own = this.routes.get(hex);
    if (own !== undefined) return own;
    for (const by of this.linkedBy.get(hex) ?? []) {
      const route = this.routes.get(by);
      if (route !== undefined) return route;
    }
    return undefined;
  }

  /**
   * One routed path. `done` is called once: on its answer, its failure, or when it is two
   * soft timeouts late (the round goes on without it; a later answer is still taken).
   */
  private path(first: FirstHop, done: () => void): void {
    const { host } = this;
    const rid = host.messenger.newId();
    const sentAt = host.clock.now();
    this.pathsStarted++;
    this.report({ kind: 'path-start', target: this.targetHex, via: first.idHex });
    let counted = false;
    const once = (): void => {
      if (counted) return;
      counted = true;
      cancelSoft();
      done();
    };
    const cancelSoft = host.clock.setTimer(2 * host.queryTimer.softMs, () => {
      host.count('lookups.pathLate');
      once();
    });
    host.messenger.expect(
      rid,
      host.hopTimeoutMs * 3,
      (reply, info) => {
        host.queryTimer.observe(host.clock.now() - sentAt);
        if (!this.finished) this.onPathReply(reply, info);
        once();
      },
      (e) => {
        this.hops.distrust([first.idHex]);
        this.report({ kind: 'path-failed', target: this.targetHex, via: first.idHex, reason: e.code });
        once();
      },
    );
    // Told before the frame leaves: the answer cannot come back before whoever waits for it knows its id.
    if (this.watch !== undefined) this.watch.sending(rid, first.idHex, this.briefed());
    // A path's first hop is judged by this lookup (hops.distrust above), not by the messenger's first-hop bookkeeping.
    if (this.kind)
      host.messenger.originate(
        this.target,
        false,
        'FIND_VALUE',
        { rid, key: this.target, kind: this.kind },
        { firstHop: first.id },
      );
    else
      host.messenger.originate(this.target, false, 'FIND_NODE', { rid, target: this.target }, { firstHop: first.id });
  }

  /** What the watch is told: as the lookup started (made once, before any answer came in). */
  private briefed(): FindBrief {
    return (this.brief ??= {
      key: this.targetHex,
      kind: this.kind ?? 'provider',
      startedAt: this.startedAt,
      near: this.candidates.closestAny(NEAREST_HOLDERS),
      held: [...this.found.values()],
    });
  }

  private onPathReply(reply: Message, info: ReplyInfo): void {
    const { records, nodes } = this.absorb(reply, info);
    if (records > 0) this.holders.answered(info, (hex) => this.candidates.closestAny(NEAREST_HOLDERS).includes(hex));
    if (this.kind && this.holders.provenBy !== undefined && !this.remembered) {
      this.remembered = true;
      this.host.recentHolders.remember(this.targetHex, this.kind, this.holders.provenBy, this.host.clock.now());
    }
    // An answer without the value may come from a colluder, or have been steered to one by
    // a hop on the way: none of those nodes carries a later path of this lookup.
    if (this.kind && records === 0) this.hops.distrust([toHex(info.from), ...info.path.map(toHex)]);
    this.report({
      kind: 'path-reply',
      target: this.targetHex,
      from: toHex(info.from),
      hops: info.hops,
      records,
      nodes,
      path: info.path.map(toHex),
    });
  }

  /** Take in an answer: its sender is proven, the ids it names are candidates, its records are checked. */
  absorb(reply: Message, info: ReplyInfo): { records: number; nodes: number } {
    const { host } = this;
    this.answered++;
    this.bestHops = Math.min(this.bestHops, info.hops);
    this.messages += 2 * info.hops;
    const fromHex = toHex(info.from);
    if (!idsEqual(info.from, host.self)) {
      if (!this.routes.has(fromHex))
        this.routes.set(fromHex, info.path.length > 0 ? [...info.path].reverse() : [info.from]);
      host.contacts.learn(info.from, true);
      this.candidates.answered(fromHex, info.from);
      this.responders.add(fromHex);
    }
    let nodes: Uint8Array[] = [];
    let records = 0;
    if (reply.type === 'FIND_NODE_REPLY' || reply.type === 'FIND_VALUE_REPLY') nodes = reply.body.nodes;
    if (reply.type === 'FIND_VALUE_REPLY' && this.kind) {
      for (const raw of reply.body.records) {
        const checked = checkRecord(raw, host.clock.now(), host.verify);
        if (checked.ok && checked.record.kind === this.kind && idsEqual(checked.record.key, this.target)) {
          this.keep(checked.record);
          records++;
        } else host.count('lookups.recordRejected');
      }
    }
    // Named ids stay candidates of this lookup until they answer themselves; only those
    // whose referrer kept its credit reach the routing table, at the end (finish).
    this.candidates.namedAll(nodes, fromHex);
    if (reply.type === 'FIND_NODE_REPLY' || reply.type === 'FIND_VALUE_REPLY') {
      // Their hex as the candidates hold it, made afresh only for ids they do not (a discredited referrer's).
      for (const i of reply.body.linked ?? []) {
        const named = this.candidates.hexOf(nodes[i]!);
        const by = this.linkedBy.get(named);
        if (by === undefined) this.linkedBy.set(named, new Set([fromHex]));
        else by.add(fromHex);
      }
    }
    return { records, nodes: nodes.length };
  }

  private keep(record: SignedRecord): void {
    const owner = toHex(record.nodeId);
    const current = this.found.get(owner);
    if (current === undefined || record.advertisedAt > current.advertisedAt) this.found.set(owner, record);
  }
}
