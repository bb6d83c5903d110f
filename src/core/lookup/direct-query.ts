import type { Candidates } from './candidates.js';
import type { DisjointPaths } from './disjoint-paths.js';
import { MAX_HOPS } from '../constants.js';
import { toHex, type NodeId } from '../id.js';
import type { LookupHost } from './lookup-host.js';
import type { Message } from '../wire/messages.js';
import type { ReplyInfo } from '../routing/requests.js';

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
/** Queries in a row a contact of ours left unanswered before it counts as lost. */
const CONTACT_FAILURES_BEFORE_LOST = 2;

/** What a direct query uses of the lookup it belongs to (lookup-run.ts). */
export interface QueryingLookup {
  readonly host: LookupHost;
  readonly target: NodeId;
  readonly kind: 'provider' | 'subscriber' | undefined;
  readonly candidates: Pick<Candidates, 'asked' | 'silent' | 'referrersOf'>;
  readonly hops: Pick<DisjointPaths, 'towards'>;
  /** For each node that answered, the proven route to it. */
  readonly routes: ReadonlyMap<string, NodeId[]>;
  /** For each named node, the responders that said they hold a channel to it. */
  readonly linkedBy: ReadonlyMap<string, ReadonlySet<string>>;
  /** The lookup has ended: answers are no longer taken, and no new attempt starts. */
  readonly isFinished: boolean;
  /** Take in an answer (its sender is proven, the ids it names become candidates). */
  absorb(reply: Message, info: ReplyInfo): unknown;
}

/**
 * Ask one candidate itself. Each attempt goes a different way: along the proven route to
 * a node that named it, else through a first hop of our own; a third, if both are lost,
 * through a node that says it holds a channel to the candidate (LINKED_QUERY_ATTEMPTS).
 * An attempt unanswered after one soft timeout is doubled by the next while it still
 * waits itself (a slow node is not a silent one); the candidate is silent when every
 * attempt timed out.
 */
export function askDirectly(
  run: QueryingLookup,
  hex: string,
  id: NodeId,
  type: 'FIND_NODE' | 'FIND_VALUE',
): Promise<void> {
  const { host } = run;
  run.candidates.asked(hex);
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
      if (!run.isFinished) {
        run.candidates.silent(hex);
        host.count('lookups.candidateSilent');
        unanswered(host, hex);
      }
      end();
    };
    const launch = (): boolean => {
      if (attempts >= LINKED_QUERY_ATTEMPTS || run.isFinished) return false;
      // Chosen now, not when first asked: answers that came in meanwhile may name a better way.
      const linkedTry = attempts >= QUERY_ATTEMPTS;
      const referrer = referrersToAskThrough(run, hex, linkedTry).find((by) => !referrersUsed.has(by));
      if (linkedTry && (referrer === undefined || run.linkedBy.get(hex)?.has(referrer) !== true)) return false;
      if (referrer !== undefined) referrersUsed.add(referrer);
      const via = referrer === undefined ? undefined : run.routes.get(referrer);
      attempts++;
      const rid = host.messenger.newId();
      const sentAt = host.clock.now();
      const body =
        type === 'FIND_NODE' ? { rid, target: run.target } : { rid, key: run.target, kind: run.kind ?? 'provider' };
      const onReply = (reply: Message, info: ReplyInfo): void => {
        if (over) return;
        host.queryTimer.observe(host.clock.now() - sentAt);
        if (!run.isFinished) run.absorb(reply, info);
        end();
      };
      if (!send(run, hex, id, type, body, tried, via, onReply, failed)) return false;
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
function referrersToAskThrough(run: QueryingLookup, hex: string, linkedFirst: boolean): string[] {
  const referrers = run.candidates.referrersOf(hex).filter((by) => run.routes.has(by));
  const linked = run.linkedBy.get(hex);
  if (linked === undefined || !linkedFirst) return referrers;
  return [...referrers.filter((by) => linked.has(by)), ...referrers.filter((by) => !linked.has(by))];
}

/**
 * A contact of our own table that let every attempt of a query go unanswered, twice in a
 * row (one loss is not a death): it is lost, like a neighbour whose channel closed, so we
 * stop handing it out. Only a neighbour's channel would otherwise tell us it left.
 */
function unanswered(host: LookupHost, hex: string): void {
  if (!host.table.isLive(hex) || host.neighbours.has(hex)) return;
  if (host.table.recordFailure(hex) < CONTACT_FAILURES_BEFORE_LOST) return;
  if (host.table.markLost(hex) !== 'unknown') host.count('contacts.lostUnanswered');
}

/** One attempt: straight to a neighbour, along `via`, or through a trusted first hop; false when there is no way. */
function send(
  run: QueryingLookup,
  hex: string,
  id: NodeId,
  type: 'FIND_NODE' | 'FIND_VALUE',
  body: Message['body'],
  tried: Set<string>,
  via: NodeId[] | undefined,
  onReply: (reply: Message, info: ReplyInfo) => void,
  onFail: () => void,
): boolean {
  const { host } = run;
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
  const first = run.hops.towards(id, tried);
  if (first === undefined) return false;
  tried.add(first.idHex);
  host.messenger.expect(rid, timeoutMs, onReply, onFail);
  host.messenger.routeRequest(id, type, body as never, { firstHop: first.id });
  return true;
}
