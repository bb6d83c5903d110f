import { Candidates, SELF } from './candidates.js';
import type { Contacts, Messaging, NodeBasics, NodeEvent, Neighbours } from '../context.js';
import type { Liars } from '../defence/liars.js';
import type { NeighbourTrust } from '../defence/neighbour-trust.js';
import { DisjointPaths, type FirstHop } from './disjoint-paths.js';
import { implausiblePrefixBits, MAX_HOPS } from '../constants.js';
import { idsEqual, toHex, type NodeId } from '../id.js';
import type { LookupProgress } from './lookup-result.js';
import type { QueryTimer } from './query-timer.js';
import type { Message } from '../wire/messages.js';
import { checkRecord, type SignedRecord } from '../records/records.js';
import type { RecordStore } from '../records/record-store.js';
import type { ReplyInfo } from '../routing/requests.js';
import type { RoutingTable } from '../routing/routing-table.js';

/**
 * Attempts of a direct query, each going a different way. A routed query normally answers
 * well within a second (the router retries dead hops on its own), so the next attempt
 * starts after one soft timeout (query-timer.ts); each attempt waits two hop timeouts.
 */
const QUERY_ATTEMPTS = 2;
/**
 * One more attempt when both went unanswered and an answer says its sender holds a
 * channel to the candidate (FIND_NODE_REPLY.linked): along the proven route to that
 * node, the query is one hop from its candidate. The first two, sent when few had
 * answered, often walked greedily from their referrer and ended at the same colluder next
 * to the candidate. They do not prefer linked referrers themselves: their losses through
 * our own first hops are what exposes a neighbour that turned hostile (neighbour-vetting.ts),
 * and with linked routes first, turncoats kept their channels.
 */
const LINKED_QUERY_ATTEMPTS = 3;
/** Late queries (past their soft timeout, still waiting for an answer) per pump slot. */
const LINGERING_PER_SLOT = 3;
/** Queries in a row a contact of ours left unanswered before it counts as lost. */
const CONTACT_FAILURES_BEFORE_LOST = 2;

/** What a lookup uses of its host. */
export interface LookupHost extends NodeBasics {
  readonly neighbours: Neighbours;
  readonly table: Pick<
    RoutingTable,
    'closest' | 'get' | 'recordFailure' | 'markLost' | 'nonEmptyBuckets' | 'touchBucket'
  >;
  /** What this node holds itself (a value lookup starts from it). */
  readonly records: Pick<RecordStore, 'get'>;
  readonly messenger: Pick<Messaging, 'newId' | 'expect' | 'forget' | 'sendDirect' | 'originate' | 'routeRequest'>;
  /** Responders become contacts; a node caught naming made-up ids is convicted. */
  readonly contacts: Contacts;
  /** Proven neighbours carry paths first. */
  readonly trust: Pick<NeighbourTrust, 'verdict'>;
  /** Nodes an earlier lookup caught lying: out of play from the start. */
  readonly liars: Pick<Liars, 'has'>;
  /** Soft timeouts, learned from this node's replies. */
  readonly queryTimer: QueryTimer;
  emit(event: NodeEvent): void;
  /** Connections this node has created so far: a lookup reports how many it caused (the goal is none). */
  connectionsCreated(): number;
}

/**
 * The state of one lookup and its two ways of asking: routed paths (an envelope that
 * travels greedily to whoever is closest to the target, or holds the value) and direct
 * queries (an envelope routed to one candidate's exact id). lookup.ts decides which to
 * send in which round; this file keeps the books: candidates and their proof
 * (candidates.ts), first hops kept apart (disjoint-paths.ts), records verified by their
 * owner's signature, and the cost.
 */
export class LookupRun {
  readonly candidates: Candidates;
  readonly hops: DisjointPaths;
  readonly found = new Map<string, SignedRecord>();
  readonly responders = new Set<string>();
  /**
   * For each node that answered: the hops its answer came back over, as a route to it
   * (our neighbour first, the node itself last). An honest answer that reached us crossed
   * no node that drops honest traffic, so this route is the one proven way to it.
   */
  readonly routes = new Map<string, NodeId[]>();
  /** For each named node, the responders that said they hold a channel to it. */
  private readonly linkedBy = new Map<string, Set<string>>();
  readonly targetHex: string;
  readonly startedAt: number;
  readonly connectionsBefore: number;
  answered = 0;
  bestHops = Infinity;
  messages = 0;
  pathsStarted = 0;
  private finished = false;

  constructor(
    readonly host: LookupHost,
    readonly target: NodeId,
    readonly kind: 'provider' | 'subscriber' | undefined,
    private readonly onProgress: ((p: LookupProgress) => void) | undefined,
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

  report(p: LookupProgress): void {
    this.onProgress?.(p);
    this.host.emit({ type: 'lookup', progress: p });
  }

  /**
   * Send routed paths through `firstHops` and direct queries to `asks`; resolves when all
   * are answered or given up, or, for a value lookup, shortly after a record turned up
   * (the slower ones get a grace to add providers).
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
      const end = (): void => {
        if (over) return;
        over = true;
        cancelGrace?.();
        resolve();
      };
      const done = (): void => {
        if (--outstanding === 0) return end();
        if (this.kind && this.found.size > 0 && cancelGrace === undefined) {
          cancelGrace = this.host.clock.setTimer(Math.max(20, this.host.clock.now() - this.startedAt), end);
        }
      };
      for (const first of firstHops) this.path(first, done);
      for (const ask of asks) void this.ask(ask.hex, ask.id, type).finally(done);
    });
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
          void this.ask(pick.hex, pick.id, type).finally(() => {
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
    for (const id of this.candidates.believable()) this.host.contacts.learn(id, false);
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

  private onPathReply(reply: Message, info: ReplyInfo): void {
    const { records, nodes } = this.absorb(reply, info);
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

  /**
   * Ask one candidate itself. Each attempt goes a different way: along the proven route to
   * a node that named it, else through a first hop of our own; a third, if both are lost,
   * through a node that says it holds a channel to the candidate (LINKED_QUERY_ATTEMPTS).
   * An attempt unanswered after one soft timeout is doubled by the next while it still
   * waits itself (a slow node is not a silent one); the candidate is silent when every
   * attempt timed out.
   */
  private ask(hex: string, id: NodeId, type: 'FIND_NODE' | 'FIND_VALUE'): Promise<void> {
    const { host } = this;
    this.candidates.asked(hex);
    const tried = new Set<string>();
    const referrersUsed = new Set<string>();
    return new Promise((resolve) => {
      let attempts = 0;
      let waiting = 0;
      let over = false;
      const cancels: Array<() => void> = [];
      const end = (): void => {
        over = true;
        for (const cancel of cancels) cancel();
        resolve();
      };
      const failed = (): void => {
        if (over || --waiting > 0) return;
        if (launch()) return;
        if (!this.finished) {
          this.candidates.silent(hex);
          host.count('lookups.candidateSilent');
          this.unanswered(hex);
        }
        end();
      };
      const launch = (): boolean => {
        if (attempts >= LINKED_QUERY_ATTEMPTS || this.finished) return false;
        // Chosen now, not when first asked: answers that came in meanwhile may name a better way.
        const linkedTry = attempts >= QUERY_ATTEMPTS;
        const referrer = this.referrersToAskThrough(hex, linkedTry).find((by) => !referrersUsed.has(by));
        if (linkedTry && (referrer === undefined || this.linkedBy.get(hex)?.has(referrer) !== true)) return false;
        if (referrer !== undefined) referrersUsed.add(referrer);
        const via = referrer === undefined ? undefined : this.routes.get(referrer);
        attempts++;
        const rid = host.messenger.newId();
        const sentAt = host.clock.now();
        const body =
          type === 'FIND_NODE'
            ? { rid, target: this.target }
            : { rid, key: this.target, kind: this.kind ?? 'provider' };
        const onReply = (reply: Message, info: ReplyInfo): void => {
          if (over) return;
          host.queryTimer.observe(host.clock.now() - sentAt);
          if (!this.finished) this.absorb(reply, info);
          end();
        };
        if (!this.send(hex, id, type, body, tried, via, onReply, failed)) return false;
        if (linkedTry) host.count('lookups.queryLinked');
        waiting++;
        cancels.push(() => host.messenger.forget(rid));
        if (attempts < QUERY_ATTEMPTS) {
          cancels.push(
            host.clock.setTimer(host.queryTimer.softMs, () => {
              if (!over && launch()) host.count('lookups.queryHedged');
            }),
          );
        }
        return true;
      };
      if (!launch()) failed();
    });
  }

  /**
   * The believed referrers of `hex` we have a proven route to, in the order they named it;
   * with `linkedFirst`, those holding a channel to it come first.
   */
  private referrersToAskThrough(hex: string, linkedFirst: boolean): string[] {
    const referrers = this.candidates.referrersOf(hex).filter((by) => this.routes.has(by));
    const linked = this.linkedBy.get(hex);
    if (linked === undefined || !linkedFirst) return referrers;
    return [...referrers.filter((by) => linked.has(by)), ...referrers.filter((by) => !linked.has(by))];
  }

  /**
   * A contact of our own table that let every attempt of a query go unanswered, twice in a
   * row (one loss is not a death): it is lost, like a neighbour whose channel closed, so we
   * stop handing it out. Only a neighbour's channel would otherwise tell us it left.
   */
  private unanswered(hex: string): void {
    const { host } = this;
    const contact = host.table.get(hex);
    if (contact === undefined || contact.lost === true || host.neighbours.has(hex)) return;
    if (host.table.recordFailure(hex) < CONTACT_FAILURES_BEFORE_LOST) return;
    if (host.table.markLost(hex) !== 'unknown') host.count('contacts.lostUnanswered');
  }

  /** One attempt: straight to a neighbour, along `via`, or through a trusted first hop; false when there is no way. */
  private send(
    hex: string,
    id: NodeId,
    type: 'FIND_NODE' | 'FIND_VALUE',
    body: Message['body'],
    tried: Set<string>,
    via: NodeId[] | undefined,
    onReply: (reply: Message, info: ReplyInfo) => void,
    onFail: () => void,
  ): boolean {
    const { host } = this;
    const rid = (body as { rid: number }).rid;
    const timeoutMs = host.hopTimeoutMs * 2;
    if (host.neighbours.has(hex)) {
      if (tried.has(hex)) return false;
      tried.add(hex);
      host.messenger.expect(rid, timeoutMs, onReply, onFail, hex);
      host.messenger.sendDirect(hex, type, body as never);
      return true;
    }
    if (via !== undefined && via.length < MAX_HOPS) {
      // A later attempt through our own first hops leaves through another neighbour.
      tried.add(toHex(via[0]!));
      host.messenger.expect(rid, timeoutMs, onReply, onFail);
      host.messenger.routeRequest(id, type, body as never, { via });
      return true;
    }
    const first = this.hops.towards(id, tried);
    if (first === undefined) return false;
    tried.add(first.idHex);
    host.messenger.expect(rid, timeoutMs, onReply, onFail);
    host.messenger.routeRequest(id, type, body as never, { firstHop: first.id });
    return true;
  }

  /** Take in an answer: its sender is proven, the ids it names are candidates, its records are checked. */
  private absorb(reply: Message, info: ReplyInfo): { records: number; nodes: number } {
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
    if (reply.type === 'FIND_NODE_REPLY' || reply.type === 'FIND_VALUE_REPLY') {
      nodes = reply.body.nodes;
      for (const i of reply.body.linked ?? []) {
        const named = toHex(nodes[i]!);
        const by = this.linkedBy.get(named);
        if (by === undefined) this.linkedBy.set(named, new Set([fromHex]));
        else by.add(fromHex);
      }
    }
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
    for (const id of nodes) this.candidates.named(toHex(id), id, fromHex);
    return { records, nodes: nodes.length };
  }

  private keep(record: SignedRecord): void {
    const owner = toHex(record.nodeId);
    const current = this.found.get(owner);
    if (current === undefined || record.advertisedAt > current.advertisedAt) this.found.set(owner, record);
  }
}
