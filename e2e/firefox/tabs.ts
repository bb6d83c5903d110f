/**
 * Tabs of two engines behind one small interface, so a test reads the same whichever
 * browser runs the page: Chromium through Playwright, Firefox (Debian's firefox-esr)
 * through puppeteer-core over WebDriver BiDi, since Playwright's own Firefox build cannot
 * be downloaded on these machines and stock Firefox does not speak its Juggler protocol.
 */
import type { Browser as PwBrowser, Page as PwPage } from '@playwright/test';
import puppeteer, { type Browser as PpBrowser, type Page as PpPage } from 'puppeteer-core';

export const FIREFOX_PATH = process.env['FIREFOX_PATH'] || '/usr/bin/firefox-esr';

export interface Tab {
  engine: 'chromium' | 'firefox';
  nodeId: string;
  /** Console errors and uncaught exceptions (a test fails on any). */
  errors: string[];
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  /** Reload and wait for the peer; resolves to its node id afterwards. */
  reload(): Promise<string>;
  close(): Promise<void>;
  /** The engine's own page, for what the interface does not cover. */
  chromium?: PwPage;
  firefox?: PpPage;
}

/** Firefox with the prefs the suites need; one browser, a user context per tab. */
export async function launchFirefox(prefs: Record<string, unknown> = {}): Promise<PpBrowser> {
  return puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: FIREFOX_PATH,
    headless: true,
    extraPrefsFirefox: {
      // Firefox's ICE skips loopback addresses unless told otherwise: TURN on 127.0.0.1 would give no relay candidate.
      'media.peerconnection.ice.loopback': true,
      ...prefs,
    },
  });
}

async function peerId(evaluate: Tab['evaluate']): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const id = await evaluate(
      () => window.peer?.nodeId ?? (window.peerError ? `error: ${JSON.stringify(window.peerError)}` : null),
      undefined,
    ).catch(() => null);
    if (id !== null) return id;
    if (Date.now() > deadline) throw new Error("the page's peer did not start within 30 s");
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function firefoxTab(browser: PpBrowser, url: string, init?: () => void): Promise<Tab> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  if (init) await page.evaluateOnNewDocument(init);
  await page.goto(url);
  const evaluate: Tab['evaluate'] = (fn, arg) => page.evaluate(fn as (a: unknown) => never, arg) as never;
  return {
    engine: 'firefox',
    nodeId: await peerId(evaluate),
    errors,
    evaluate,
    reload: async () => {
      await page.reload();
      return peerId(evaluate);
    },
    close: () => context.close(),
    firefox: page,
  };
}

export async function chromiumTab(browser: PwBrowser, url: string, init?: () => void): Promise<Tab> {
  const context = await browser.newContext();
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  const evaluate: Tab['evaluate'] = (fn, arg) => page.evaluate(fn as (a: unknown) => never, arg) as never;
  return {
    engine: 'chromium',
    nodeId: await peerId(evaluate),
    errors,
    evaluate,
    reload: async () => {
      await page.reload();
      return peerId(evaluate);
    },
    close: () => context.close(),
    chromium: page,
  };
}

export const openCount = (t: Tab): Promise<number> =>
  t.evaluate(async () => (await window.peer!.peers()).length, undefined);
export const statOf = (t: Tab, name: string): Promise<number> =>
  t.evaluate(async (n) => (await window.peer!.stats())[n] ?? 0, name);
