/**
 * A page of the app under test whose peer the kit can reach: the app puts the Peer that
 * createPeer resolved to on a global (`window.peer` by default; `global` names another),
 * which is all the kit asks of it.
 */
import type { Browser, BrowserContext, Page } from '@playwright/test';
import type { Peer } from '../peer/main/create-peer.js';
import { DEFAULT_TIMEOUT_MS } from './poll.js';

/** What the kit's waits need of a peer page; TestPeer has it, and so may a test's own records. */
export interface PeerPageLike {
  readonly page: Page;
  readonly nodeId: string;
  /** The global the app put its Peer on (default 'peer'). */
  readonly global?: string;
}

export interface TestPeer extends PeerPageLike {
  readonly context: BrowserContext;
  readonly global: string;
  /** Console errors and uncaught exceptions of the page so far (a healthy peer has none). */
  readonly errors: string[];
  /**
   * Run `fn` in the page with its Peer. `fn` is sent to the browser as source, so it can
   * use only its arguments; `arg` travels as JSON.
   */
  run<R, A = undefined>(fn: (peer: Peer, arg: A) => R | Promise<R>, arg?: A): Promise<R>;
  /** Closes the page, and its context when the kit created that context. */
  close(): Promise<void>;
}

export interface OpenPeerOptions {
  /** The app page to open: absolute, or relative to the context's baseURL. */
  url: string;
  /** The global the page puts its Peer on (default 'peer'). */
  global?: string;
  /** How long the page may take to start its peer (default 30 s). */
  timeoutMs?: number;
}

/** Open one page of the app (in a new context when given a Browser) and wait for its peer. */
export async function openPeer(target: Browser | BrowserContext, options: OpenPeerOptions): Promise<TestPeer> {
  const ownContext = 'newContext' in target;
  const context = ownContext ? await target.newContext() : target;
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  const global = options.global ?? 'peer';
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  await page.goto(options.url);
  let nodeId: string;
  try {
    await page.waitForFunction(
      (g) => typeof (globalThis as unknown as Record<string, { nodeId?: unknown } | undefined>)[g]?.nodeId === 'string',
      global,
      { timeout },
    );
    nodeId = await page.evaluate(
      (g) => (globalThis as unknown as Record<string, { nodeId: string }>)[g]!.nodeId,
      global,
    );
  } catch (e) {
    if (ownContext) await context.close();
    const seen = errors.length > 0 ? `; page errors: ${errors.join(' | ')}` : '';
    throw new Error(
      `macula-web/testing: no peer appeared as window.${global} at ${options.url} (${(e as Error).message.split('\n')[0]})${seen}`,
    );
  }
  const peer: TestPeer = {
    page,
    context,
    nodeId,
    global,
    errors,
    run: (fn, arg) => onPeer(peer, fn, arg as Parameters<typeof fn>[1]),
    close: () => (ownContext ? context.close() : page.close()),
  };
  return peer;
}

/** Reads the page's Peer through a function of it (see TestPeer.run). */
export function onPeer<R, A>(p: PeerPageLike, fn: (peer: Peer, arg: A) => R | Promise<R>, arg: A): Promise<R> {
  const global = p.global ?? 'peer';
  return p.page.evaluate(
    `(${fn.toString()})(globalThis[${JSON.stringify(global)}], ${JSON.stringify(arg) ?? 'undefined'})`,
  ) as Promise<R>;
}
