/**
 * Runs the Playwright e2e tier with the browser findBrowser() picks (see playwright.config.ts),
 * every project this machine can run (scripts/e2e-suites.ts), and says loudly which it
 * skipped and how to get them; under CI=true a skipped project fails the run.
 */
import { spawnSync } from 'node:child_process';
import { findBrowser } from './find-browser.js';
import { e2eSuites } from './e2e-suites.js';

let browser: string;
try {
  browser = await findBrowser();
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
console.log(`e2e: using ${browser}`);
const suites = await e2eSuites();
const runnable = suites.filter((s) => s.missing === null);
const skipped = suites.filter((s) => s.missing !== null);
const banner = (): void => {
  if (skipped.length === 0) return;
  console.error(`\n${'!'.repeat(78)}`);
  for (const s of skipped) console.error(`!! e2e SKIPPED: ${s.project}: ${s.what}\n!!   needs ${s.missing}`);
  console.error(`${'!'.repeat(78)}\n`);
};
banner();
// Projects named on the command line narrow the run; otherwise every runnable one.
const args = process.argv.slice(2);
const projects = args.some((a) => a.startsWith('--project')) ? [] : runnable.flatMap((s) => ['--project', s.project]);
const result = spawnSync('npx', ['playwright', 'test', ...projects, ...args], {
  stdio: 'inherit',
  env: { ...process.env, CHROMIUM_PATH: browser },
});
banner();
if (skipped.length > 0 && process.env['CI']) {
  console.error('e2e: CI=true and suites were skipped: failing the run (install what is named above).');
  process.exit(1);
}
process.exit(result.status ?? 1);
