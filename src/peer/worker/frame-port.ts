import type { Transport } from '../../core/environment.js';
import type { DhtNode } from '../../core/node/dht-node.js';
import { parseToWorker, type FromWorker, type ToWorker } from '../bridge-protocol.js';
import type { Preverifier } from './preverify.js';
import type { CounterName } from '../../core/counters.js';
import { PageAnswers, type Named } from './page-answers.js';

/** What the node counts when the page settled one of the app's calls itself. */
const SETTLED_ON_PAGE: Record<Named, CounterName> = {
  call: 'rpc.answeredOnPage',
  publish: 'pubsub.countedOnPage',
  find: 'lookups.settledOnPage',
};

/**
 * The worker's half of the bytes bridge (bridge-protocol.ts; the main thread's half is
 * main/frame-pump.ts). It is the node's Transport — frames out, connect and disconnect
 * requests — and feeds the node what happens on the channels: opens, closes, frames, and
 * signals to route through the overlay. Signals the overlay brings for this node go back
 * to the main thread, which verifies them.
 *
 * It also keeps the main thread's gate on inbound offers (main/inbound-gate.ts) informed:
 * whenever the node cuts a peer off, the node's verdict on it (flood ban, conviction,
 * distrust) goes along with how long it lasts, so that peer's offers cost no connection
 * while it does. And the node counts against its connection budget what the main thread
 * reports it created, inbound connections included.
 *
 * With a Preverifier (preverify.ts: WebCrypto's Ed25519, where the runtime has it), a frame
 * that carries signatures waits for their check before the node takes it, and what the main
 * thread said after it waits behind it: the node sees everything in the order it was said.
 * Frames with nothing to check, the great majority, go straight in when nothing waits.
 */
export class FramePort {
  readonly transport: Transport;
  /** Channels the main thread reported open: frames to anyone else are refused here, not posted. */
  private readonly open = new Set<string>();
  private node: DhtNode | undefined;
  /** Messages waiting, in order, behind a frame whose signatures are being checked. */
  private readonly waiting: Array<{ m: ToWorker; done: boolean }> = [];
  /** Calls handed to the page to answer itself (`invoke`), by id, until it says it did. */
  private readonly invoked = new Map<number, (head: Uint8Array | undefined) => void>();
  private nextInvoke = 0;
  /** Headers of REPLYs the page put on a channel itself: the node accounts for them, nothing is posted. */
  private readonly onChannel = new WeakSet<Uint8Array>();
  /** The PUBLISH being handed to the node that the page took itself, with its acknowledgement's header. */
  private taken: { peer: string; head: Uint8Array } | undefined;
  /** The CALL being handed to the node that the page admitted itself, with its REPLY's header. */
  private admitted: { peer: string; head: Uint8Array } | undefined;
  /** The FIND_VALUE being handed to the node that the page answered itself, with the answer it sent (page-finds.ts). */
  private found: { peer: string; answer: Uint8Array } | undefined;
  /** Told of each answer of the page's the node took as its own (page-finds.ts). */
  onFound: ((peer: string) => void) | undefined;
  /**
   * Run after each message from the page and before each frame of the node's is posted: the
   * page's copies of the node's answers are brought up to date (page-finds.ts).
   */
  beforeSend: (() => void) | undefined;
  /** Told when the page gave back a revoked grant (page-admissions.ts). */
  onReturned: ((peer: string, grant: number) => void) | undefined;
  /** Told of each call whose first CALL the page sent itself (page-calls.ts), in order with the frames. */
  onCalled: ((m: Extract<ToWorker, { t: 'called' }>) => void) | undefined;
  /** Told of each publish whose PUBLISHes the page sent itself (page-publishes.ts), in order with the frames. */
  onPublished: ((m: Extract<ToWorker, { t: 'published' }>) => void) | undefined;
  /** Calls the page settles itself from their REPLYs (page-answers.ts). */
  readonly answers = new PageAnswers(
    () => this.node?.clock.now() ?? Date.now(),
    (m) => this.post(m),
  );

  constructor(private readonly port: MessagePort) {
    this.transport = {
      send: (peer, frame) => {
        if (this.onChannel.delete(frame)) return true;
        if (!this.open.has(peer)) return false;
        // The page put this very answer on the channel already: accounted for, not posted.
        if (this.found !== undefined && this.found.peer === peer && sameBytes(this.found.answer, frame)) {
          this.found = undefined;
          this.node?.count('dht.answeredOnPage');
          this.onFound?.(peer);
          return true;
        }
        this.beforeSend?.();
        const awaits = this.answers.awaited(peer, frame);
        this.post(awaits === undefined ? { t: 'send', peer, frame } : { t: 'send', peer, frame, awaits }, [
          frame.buffer as ArrayBuffer,
        ]);
        return true;
      },
      connect: (peer) => this.post({ t: 'connect', peer }),
      disconnect: (peer) => {
        this.open.delete(peer);
        this.post({ t: 'disconnect', peer });
        // The verdict, if any, is read once the node has finished with the peer: a flood ban,
        // for one, is recorded right after the disconnect.
        queueMicrotask(() => this.reportVerdict(peer));
      },
    };
  }

  /** Start feeding `node` (built on `transport`); the main thread's messages waited in the port's queue until now. */
  attach(node: DhtNode, preverifier?: Preverifier): void {
    this.node = node;
    node.on((e) => {
      if (e.type === 'signal') this.post({ t: 'signal-in', from: e.from, payload: e.payload });
    });
    this.port.onmessage = (event: MessageEvent) => {
      const m = parseToWorker(event.data);
      if (m === null) return node.count('bridge.malformed');
      // The heartbeat says the worker answers: it does not wait for anyone's signatures.
      if (m.t === 'ping') return this.receive(node, m);
      try {
        this.take(node, m, preverifier);
      } finally {
        this.beforeSend?.();
      }
    };
  }

  /** A message from the page, in order: a frame whose signatures are being checked holds up what follows it. */
  private take(node: DhtNode, m: ToWorker, preverifier: Preverifier | undefined): void {
    // A PUBLISH the page took was verified there (page-publications.ts), a CALL it admitted carries no signature.
    const signed =
      m.t === 'frame' && m.taken === undefined && m.admitted === undefined && preverifier !== undefined
        ? preverifier.signedIn(m.frame)
        : [];
    if (signed.length === 0 && this.waiting.length === 0) return this.receive(node, m);
    const entry = { m, done: signed.length === 0 };
    this.waiting.push(entry);
    if (!entry.done)
      void preverifier!.check(signed).finally(() => {
        entry.done = true;
        this.drain(node);
        this.beforeSend?.();
      });
  }

  /** Hand the node what no longer waits, in order, up to the first frame still being checked. */
  private drain(node: DhtNode): void {
    while (this.waiting[0]?.done === true) this.receive(node, this.waiting.shift()!.m);
  }

  /**
   * Have the page run the handler of `service` for a CALL that `peer` sent straight over
   * its channel, and put the REPLY on that channel itself (LocalHandlers.answerDirect):
   * resolves with the REPLY's header once it went out, or undefined when the channel had
   * closed. Passed back to the node's transport, that header is accounted for and not posted.
   */
  invoke(service: string, args: unknown, caller: string, peer: string, rid: number): Promise<Uint8Array | undefined> {
    const id = ++this.nextInvoke;
    return new Promise((resolve) => {
      this.invoked.set(id, resolve);
      this.post({ t: 'invoke', id, service, args, caller, peer, rid });
    });
  }

  /**
   * The REPLY header of the acknowledgement the page sent for the PUBLISH from `peer`, when
   * the frame being handed to the node is one the page took (pubsub.ts, TakenOnPage); the
   * node passes it back to its transport to account for, and nothing is posted. An empty
   * header: the page delivered it, but its channel had closed before the acknowledgement.
   */
  takenOnPage(peer: string): Uint8Array | undefined {
    const taken = this.taken;
    if (taken === undefined || taken.peer !== peer) return undefined;
    this.taken = undefined;
    if (taken.head.length > 0) this.onChannel.add(taken.head);
    return taken.head;
  }

  /**
   * The header of the REPLY the page sent for the CALL from `peer`, when the frame being handed
   * to the node is one the page admitted itself (rpc.ts, LocalHandlers.admittedOnPage): the node
   * passes it back to its transport to account for, and nothing is posted. An empty header: the
   * page ran the handler, but its channel had closed before the REPLY.
   */
  admittedOnPage(peer: string): Uint8Array | undefined {
    const admitted = this.admitted;
    if (admitted === undefined || admitted.peer !== peer) return undefined;
    this.admitted = undefined;
    if (admitted.head.length > 0) this.onChannel.add(admitted.head);
    return admitted.head;
  }

  /**
   * A frame's header that the page put on a channel itself (a CALL: page-calls.ts): passed to
   * the node's transport, it is accounted for as the node's own and not posted.
   */
  onTheChannel(frame: Uint8Array): Uint8Array {
    const head = frame.slice(0, 8);
    this.onChannel.add(head);
    return head;
  }

  close(): void {
    // Calls the page will not answer any more: nothing went out for them.
    for (const resolve of this.invoked.values()) resolve(undefined);
    this.invoked.clear();
    this.port.close();
  }

  private receive(node: DhtNode, m: ToWorker): void {
    switch (m.t) {
      case 'open':
        this.open.add(m.peer);
        node.onChannelOpen(m.peer);
        return;
      case 'close':
        this.open.delete(m.peer);
        node.onChannelClose(m.peer);
        return;
      case 'busy':
        node.onChannelBusy(m.peer);
        return;
      case 'frame':
        // The page settled the app's call (publish, discovery) from this answer: no one else is asked, no result sent back.
        if (m.settled !== undefined) {
          const what = this.answers.settled(m.settled);
          if (what !== undefined) node.count(SETTLED_ON_PAGE[what]);
        }
        if (m.taken === undefined && m.admitted === undefined && m.found === undefined)
          return node.onFrame(m.peer, m.frame);
        if (m.taken !== undefined) this.taken = { peer: m.peer, head: m.taken };
        if (m.admitted !== undefined) this.admitted = { peer: m.peer, head: m.admitted };
        if (m.found !== undefined) this.found = { peer: m.peer, answer: m.found };
        try {
          node.onFrame(m.peer, m.frame);
        } finally {
          // Dropped before the node read it (its flood guard, a closed channel): nothing is accounted for.
          this.taken = undefined;
          this.admitted = undefined;
          // The node answered otherwise, or not at all: the page's answer is not its own (its own, if any, went out too).
          if (this.found !== undefined) node.count('dht.answeredOnPageDiffered');
          this.found = undefined;
        }
        return;
      case 'signal-out':
        this.post({ t: 'signal-routed', id: m.id, routed: node.sendSignal(m.to, m.payload) });
        return;
      case 'budget':
        node.neighbourSet.adoptConnectionsCreated(m.created);
        return;
      case 'ping':
        this.post({ t: 'pong', n: m.n });
        return;
      case 'called':
        this.onCalled?.(m);
        return;
      case 'published':
        this.onPublished?.(m);
        return;
      case 'returned':
        this.onReturned?.(m.peer, m.grant);
        return;
      case 'invoked': {
        const resolve = this.invoked.get(m.id);
        if (resolve === undefined) return;
        this.invoked.delete(m.id);
        if (m.head !== undefined) this.onChannel.add(m.head);
        resolve(m.head);
      }
    }
  }

  private reportVerdict(peer: string): void {
    if (this.node === undefined) return;
    const forMs = refusedForMs(this.node, peer, this.node.clock.now());
    if (forMs > 0) this.post({ t: 'refuse', peer, forMs });
  }

  /** Tell the page (also what page-calls.ts keeps it told of). */
  post(m: FromWorker, transfer: Transferable[] = []): void {
    this.port.postMessage(m, transfer);
  }
}

/**
 * How much longer `node` refuses `peer`: the longest of its verdicts, read where the node
 * keeps them (flood bans, convicted liars, distrusted neighbours); 0 when there is none.
 */
function refusedForMs(node: DhtNode, peer: string, now: number): number {
  return Math.max(
    node.liars.remainingMs(peer, now),
    node.flood?.bannedForMs(peer, now) ?? 0,
    node.vetting.trust.distrustedForMs(peer, now),
  );
}

/** Whether two frames are the same bytes. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
