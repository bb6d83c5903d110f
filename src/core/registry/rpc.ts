import { RPC_TIMEOUT_MS } from '../constants.js';
import type { Messaging, NodeBasics, ReplyTo } from '../context.js';
import { ErrorCode, invalidArgument, isMeshError, MeshError } from '../errors.js';
import { isIdHex, toHex } from '../id.js';
import type { CallMsg, Message } from '../wire/messages.js';
import type { ReplyInfo } from '../routing/requests.js';
import { checkServiceId, type ProviderInfo } from './service-registry.js';
import { encodedSize, MAX_PAYLOAD_BYTES, replyBody } from './call-reply.js';
import { failsOver, replyError } from './call-answer.js';
import { CallSlots, MAX_CALLS_PER_CALLER, MAX_CALLS_PER_NEIGHBOUR, MAX_RUNNING_CALLS } from './call-slots.js';

export { MAX_PAYLOAD_BYTES } from './call-reply.js';
export { MAX_CALLS_PER_CALLER, MAX_CALLS_PER_NEIGHBOUR, MAX_RUNNING_CALLS } from './call-slots.js';

/**
 * Calls to the providers a discovery finds: a CALL with a unique id travels over the open
 * channels (routed when there is no direct one; a call never opens a connection for
 * itself) and the provider's REPLY settles it. Providers are tried in the order the
 * policy gives; a timeout, a closed channel, a busy provider or one that no longer
 * offers the service moves on to the next, up to `maxAttempts`. A handler's own error
 * is the app's answer and is not retried elsewhere.
 */
export type CallPolicy = 'random' | 'roundrobin' | 'first' | 'local-first';
export const CALL_POLICIES: readonly CallPolicy[] = ['random', 'roundrobin', 'first', 'local-first'];

export interface CallOptions {
  timeoutMs?: number;
  maxAttempts?: number;
  policy?: CallPolicy;
}

/** What a call() found out on its way to a result. */
export interface CallOutcome {
  result: unknown;
  /** Node id of the provider whose answer this is (this node's own for a local call). */
  provider: string;
  /** Providers asked, the one that answered included. */
  attempts: number;
  /** The providers that failed before it, in order, with their error codes and messages. */
  failed: FailedAttempt[];
}

/** One provider a call tried that failed, and why. */
export interface FailedAttempt {
  nodeId: string;
  code: string;
  message: string;
}

/** Where the application's handlers live (the main thread, in the browser). */
export interface LocalHandlers {
  has(serviceId: string): boolean;
  invoke(serviceId: string, args: unknown, caller: string): Promise<unknown>;
  /**
   * Where the handlers live beside the channels (the page): run the handler for a CALL that
   * came straight from neighbour `peer` and put its REPLY (call-reply.ts, replyFrame) on
   * that channel there, sparing the answer a trip through this node's thread. Resolves
   * with the frame's 8-byte header once sent, for this node to account for as its own
   * (Messaging.sendFrame), or undefined when the channel had closed. Absent: `invoke`, and
   * this node sends the REPLY.
   */
  answerDirect?(
    serviceId: string,
    args: unknown,
    caller: string,
    peer: string,
    rid: number,
  ): Promise<Uint8Array | undefined>;
  /**
   * Where the page admits CALLs straight from a neighbour itself (main/page-admissions.ts):
   * for the CALL from `peer` this node is being handed now, the header of the REPLY the page
   * put on the channel after running the handler (empty: its channel had closed), when the
   * page admitted it under the slots reserved for it (CallSlots.reserve); this node then
   * only accounts for it. Undefined: a CALL for this node to admit.
   */
  admittedOnPage?(peer: string): Uint8Array | undefined;
}

export interface Discovery {
  discover(serviceId: string, opts: { forceRefresh?: boolean }): Promise<ProviderInfo[]>;
  forgetProvider(serviceId: string, nodeId: string): void;
}

/** What calls use of the node (a DhtNode is one): requests out, replies back. */
export interface RpcHost extends NodeBasics {
  readonly messenger: Pick<Messaging, 'newId' | 'queryPeer' | 'reply' | 'sendFrame' | 'wait'>;
  /** The open channels: a CALL the page sent (sentByPage) can only be answered over one of them. */
  readonly neighbours: { has(peer: string): boolean };
}

/**
 * The first provider of a call, drawn by the requester's page from the worker's copy of the
 * providers, as the call's policy draws it (main/page-calls.ts; docs/ARCHITECTURE.md,
 * Threads): the call asks it first and the others after, in the policy's order. `sent`: its
 * CALL is on the channel already (Rpc.sentByPage).
 */
export interface CallLead {
  provider: string;
  sent?: SentCall;
}

/** A CALL the page put on a neighbour's channel itself, accounted for here (Rpc.sentByPage). */
export interface SentCall {
  readonly provider: string;
  readonly rid: number;
  readonly reply: Promise<{ reply: Message; info: ReplyInfo }>;
}

/**
 * Told of each CALL a call sends to a provider, by whoever can settle the app's call sooner
 * than this node (the page, beside the channels: docs/ARCHITECTURE.md, Threads). Timeouts,
 * failover and errors stay here; the watcher only ever takes the REPLY this node would take.
 */
export interface CallWatch {
  /**
   * CALL `rid` is about to go to `provider` (a neighbour or, routed, any node), after the
   * providers in `failed` failed; this node waits `timeoutMs` for its REPLY.
   */
  sending(rid: number, provider: string, failed: readonly FailedAttempt[], timeoutMs: number): void;
  /** True once the watcher settled the app's call: no other provider is to be asked. */
  answered(): boolean;
}

export class Rpc {
  private readonly roundRobin = new Map<string, number>();
  /** The bounds on the calls run here for others, and the slots reserved for the page (call-slots.ts). */
  readonly slots = new CallSlots();

  constructor(
    private readonly node: RpcHost,
    private readonly discovery: Discovery,
    private readonly handlers: LocalHandlers,
  ) {}

  async call(
    serviceId: string,
    args: unknown,
    opts: CallOptions = {},
    watch?: CallWatch,
    lead?: CallLead,
  ): Promise<unknown> {
    return (await this.callDetailed(serviceId, args, opts, watch, lead)).result;
  }

  /** A call with failover (see call in README.md), saying which provider answered after how many attempts. */
  async callDetailed(
    serviceId: string,
    args: unknown,
    opts: CallOptions = {},
    watch?: CallWatch,
    lead?: CallLead,
  ): Promise<CallOutcome> {
    checkServiceId(serviceId);
    const timeoutMs = checkTimeout(opts.timeoutMs);
    const policy = opts.policy ?? 'random';
    if (!CALL_POLICIES.includes(policy)) throw invalidArgument('policy', CALL_POLICIES.join(' | '), policy);
    if (
      opts.maxAttempts !== undefined &&
      !(Number.isInteger(opts.maxAttempts) && opts.maxAttempts >= 1 && opts.maxAttempts <= 20)
    ) {
      throw invalidArgument('maxAttempts', 'an integer in [1, 20]', opts.maxAttempts);
    }
    checkPayload(args, 'args');
    if (policy === 'local-first' && this.handlers.has(serviceId)) {
      return {
        result: await this.invokeLocally(serviceId, args),
        provider: this.node.selfHex,
        attempts: 1,
        failed: [],
      };
    }

    const sent = lead?.sent;
    let providers = await this.discovery.discover(serviceId, {});
    // A CALL already out has its provider: the others are only for failing over.
    if (providers.length === 0 && sent === undefined)
      providers = await this.discovery.discover(serviceId, { forceRefresh: true });
    if (providers.length === 0 && sent === undefined)
      throw new MeshError(ErrorCode.NO_PROVIDERS, `no provider of ${serviceId} was found`);
    const order = this.order(serviceId, providers, policy);
    // The page drew the first provider as the policy would (random: uniformly; first: the lowest id), so the
    // order is that draw, then the rest in the policy's order. A drawn provider no longer cached is asked only
    // when its CALL is out already.
    const led = lead !== undefined && (sent !== undefined || order.some((p) => p.nodeId === lead.provider));
    if (led) {
      const rest = order.filter((p) => p.nodeId !== lead.provider);
      order.splice(0, order.length, { nodeId: lead.provider } as ProviderInfo, ...rest);
    }
    const maxAttempts = Math.min(opts.maxAttempts ?? Math.min(3, order.length), order.length);
    const attempts: FailedAttempt[] = [];
    for (const provider of order.slice(0, maxAttempts)) {
      // The watcher took a REPLY this node dropped or timed out first: the app has its answer.
      if (watch?.answered() === true) throw new MeshError(ErrorCode.CLOSED, `the call of ${serviceId} was answered`);
      try {
        const result =
          sent !== undefined && attempts.length === 0
            ? await this.answerTo(sent)
            : await this.callOnce(provider.nodeId, serviceId, args, timeoutMs, watch, attempts);
        return { result, provider: provider.nodeId, attempts: attempts.length + 1, failed: attempts };
      } catch (e) {
        const code = isMeshError(e) ? e.code : ErrorCode.HANDLER_ERROR;
        if (!failsOver(code)) throw e;
        attempts.push({ nodeId: provider.nodeId, code, message: e instanceof Error ? e.message : String(e) });
        this.node.count('rpc.failover');
        this.discovery.forgetProvider(serviceId, provider.nodeId);
      }
    }
    // Each attempt's cause travels in details (plain data, so it survives the worker boundary).
    const causes = attempts.map((a) => `${a.nodeId.slice(0, 8)}…: ${a.code} (${a.message})`).join('; ');
    throw new MeshError(
      ErrorCode.ALL_PROVIDERS_FAILED,
      `${attempts.length} provider(s) of ${serviceId} failed: ${causes}`,
      { attempts },
    );
  }

  /** Call one given provider, no failover. */
  async callTo(
    nodeId: string,
    serviceId: string,
    args: unknown,
    opts: { timeoutMs?: number } = {},
    watch?: CallWatch,
    sent?: SentCall,
  ): Promise<unknown> {
    if (!isIdHex(nodeId)) throw invalidArgument('nodeId', '64 lowercase hex characters', nodeId);
    checkServiceId(serviceId);
    checkPayload(args, 'args');
    const timeoutMs = checkTimeout(opts.timeoutMs);
    if (sent !== undefined && sent.provider === nodeId) return this.answerTo(sent);
    return this.callOnce(nodeId, serviceId, args, timeoutMs, watch, []);
  }

  /**
   * The page put CALL `rid` on `provider`'s channel itself at `sentAt` (the node's clock;
   * docs/ARCHITECTURE.md, Threads): count and account for it as this node's own (`head`, the
   * frame's header: messages.out and the neighbour's flood budget, as Messaging.sendFrame
   * does for every frame), and wait for its REPLY for what is left of `timeoutMs`. Called
   * before anything else of the call, so that its REPLY, which can only come later, finds
   * the request waiting. A provider whose channel this node no longer holds fails at once
   * (NOT_CONNECTED), as a CALL sent now would.
   */
  sentByPage(provider: string, rid: number, head: Uint8Array, sentAt: number, timeoutMs: number): SentCall {
    const { node } = this;
    node.count('rpc.calls');
    node.count('rpc.sentOnPage');
    const open = node.neighbours.has(provider);
    if (open) node.messenger.sendFrame(provider, head);
    const left = Math.max(1, sentAt + timeoutMs - node.clock.now());
    const reply = open
      ? node.messenger.wait(rid, left, provider)
      : Promise.reject(new MeshError(ErrorCode.NOT_CONNECTED, 'the channel closed before the reply'));
    // Awaited once the call has its providers; until then a rejection is not unhandled.
    reply.catch(() => undefined);
    return { provider, rid, reply };
  }

  /** Provider side: run the handler for a CALL and answer with its REPLY. */
  handleCall(msg: CallMsg, replyTo: ReplyTo): void {
    const { node } = this;
    // The caller the app is told is the claimed source; the bounds key on who handed the call over.
    const caller =
      replyTo.kind === 'routed' ? toHex(replyTo.envelope.src) : replyTo.kind === 'direct' ? replyTo.peer : node.selfHex;
    const hop = replyTo.kind === 'routed' ? (replyTo.from ?? node.selfHex) : caller;
    const slot = replyTo.kind === 'routed' ? `${hop}/${caller}` : caller;
    const fail = (code: string, message: string): void =>
      node.messenger.reply(replyTo, 'REPLY', { rid: msg.rid, ok: false, code, message });
    // Admitted by the page under a reservation of this neighbour's (call-slots.ts): its REPLY is out already.
    const admitted = replyTo.kind === 'direct' ? this.handlers.admittedOnPage?.(caller) : undefined;
    if (admitted !== undefined) {
      node.count('rpc.served');
      node.count('rpc.admittedOnPage');
      if (admitted.length > 0) node.messenger.sendFrame(caller, admitted);
      return;
    }
    if (!this.handlers.has(msg.service)) return fail(ErrorCode.UNKNOWN_SERVICE, `${msg.service} is not provided here`);
    const bound = this.slots.take(slot, hop);
    if (bound !== undefined) {
      node.count('rpc.busy');
      return fail(ErrorCode.BUSY, BUSY_MESSAGES[bound]);
    }
    node.count('rpc.served');
    const direct = replyTo.kind === 'direct' ? this.handlers.answerDirect : undefined;
    const answered =
      direct !== undefined && replyTo.kind === 'direct'
        ? direct.call(this.handlers, msg.service, msg.args, caller, replyTo.peer, msg.rid).then(
            (head) => void (head !== undefined && node.messenger.sendFrame(replyTo.peer, head)),
            (e: unknown) =>
              node.messenger.reply(replyTo, 'REPLY', replyBody(msg.service, msg.rid, { ok: false, error: e })),
          )
        : this.handlers.invoke(msg.service, msg.args, caller).then(
            (result) => node.messenger.reply(replyTo, 'REPLY', replyBody(msg.service, msg.rid, { ok: true, result })),
            (error: unknown) =>
              node.messenger.reply(replyTo, 'REPLY', replyBody(msg.service, msg.rid, { ok: false, error })),
          );
    void answered.finally(() => this.slots.release(slot, hop));
  }

  /** Calls running on this provider (the page's reservations included), distinct callers and neighbours. */
  get load(): { calls: number; callers: number; neighbours: number } {
    return this.slots.load;
  }

  /** The REPLY to a CALL the page sent (sentByPage), read as callOnce reads one. */
  private async answerTo(sent: SentCall): Promise<unknown> {
    const { reply } = await sent.reply;
    return this.result(reply, sent.provider);
  }

  private result(reply: Message, nodeId: string): unknown {
    if (reply.type !== 'REPLY') throw new MeshError(ErrorCode.MALFORMED, 'a CALL was answered with something else');
    if (reply.body.ok) return reply.body.result;
    throw replyError(reply.body, nodeId);
  }

  private async callOnce(
    nodeId: string,
    serviceId: string,
    args: unknown,
    timeoutMs: number,
    watch: CallWatch | undefined,
    failed: readonly FailedAttempt[],
  ): Promise<unknown> {
    const { node } = this;
    node.count('rpc.calls');
    if (nodeId === node.selfHex) return this.invokeLocally(serviceId, args);
    const rid = node.messenger.newId();
    watch?.sending(rid, nodeId, failed, timeoutMs);
    const { reply } = await node.messenger.queryPeer(nodeId, 'CALL', { rid, service: serviceId, args }, timeoutMs);
    return this.result(reply, nodeId);
  }

  private async invokeLocally(serviceId: string, args: unknown): Promise<unknown> {
    this.node.count('rpc.local');
    try {
      return await this.handlers.invoke(serviceId, args, this.node.selfHex);
    } catch (e) {
      if (isMeshError(e)) throw e;
      throw new MeshError(ErrorCode.HANDLER_ERROR, e instanceof Error ? e.message : String(e));
    }
  }

  private order(serviceId: string, providers: ProviderInfo[], policy: CallPolicy): ProviderInfo[] {
    const sorted = [...providers].sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1));
    switch (policy) {
      case 'first':
        return sorted;
      case 'roundrobin': {
        const next = this.roundRobin.get(serviceId) ?? 0;
        this.roundRobin.set(serviceId, next + 1);
        const start = next % sorted.length;
        return [...sorted.slice(start), ...sorted.slice(0, start)];
      }
      case 'local-first': {
        const own = sorted.filter((p) => p.nodeId === this.node.selfHex);
        return [
          ...own,
          ...shuffle(
            sorted.filter((p) => p.nodeId !== this.node.selfHex),
            () => this.node.random.next(),
          ),
        ];
      }
      default:
        return shuffle(sorted, () => this.node.random.next());
    }
  }
}

/** Why a CALL was refused BUSY, by the bound it did not fit under. */
const BUSY_MESSAGES = {
  caller: `more than ${MAX_CALLS_PER_CALLER} calls from one caller at once`,
  neighbour: `more than ${MAX_CALLS_PER_NEIGHBOUR} calls through one neighbour at once`,
  total: `more than ${MAX_RUNNING_CALLS} calls running at once`,
} as const;

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

function checkTimeout(timeoutMs: number | undefined): number {
  const t = timeoutMs ?? RPC_TIMEOUT_MS;
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0 || t > 600_000)
    throw invalidArgument('timeoutMs', 'a number of milliseconds in (0, 600000]', t);
  return t;
}

/** Refuse what cannot travel: not MessagePack-able, or over 1 MiB encoded. */
export function checkPayload(value: unknown, name: string): void {
  const size = encodedSize(value);
  if (size === Infinity) throw invalidArgument(name, 'a MessagePack-able value (plain data)', value);
  if (size > MAX_PAYLOAD_BYTES)
    throw new MeshError(ErrorCode.TOO_LARGE, `${name}: ${size} bytes encoded, more than the 1 MiB limit`);
}
