import type { Page } from '@playwright/test';

/**
 * Resolves when the benchmark page logs `macula-bench:<step>` (browser-page.ts `say`). Call it
 * before the page is opened, so that a step logged early is not missed. The drivers wait for a
 * join this way instead of with `page.waitForFunction` or a polled `page.evaluate`: those run
 * Playwright's scripts in the page (its injected script alone took 12-16 ms of the main thread,
 * 50-90 ms of wall time on a loaded machine, between the relay socket's handshake and its open:
 * BENCHMARKS.md, Join on 2026-12-07, session 17), on the path of the join they measure.
 */
export function pageSays(page: Page, step: string, timeoutMs: number): Promise<void> {
  const text = `macula-bench:${step}`;
  return page
    .waitForEvent('console', { predicate: (m) => m.text() === text, timeout: timeoutMs })
    .then(() => undefined);
}
