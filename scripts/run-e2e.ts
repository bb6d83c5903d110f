/** Runs the Playwright e2e tier with the browser findBrowser() picks (see playwright.config.ts). */
import { spawnSync } from 'node:child_process';
import { findBrowser } from './find-browser.js';

let browser: string;
try {
  browser = await findBrowser();
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
console.log(`e2e: using ${browser}`);
const result = spawnSync('npx', ['playwright', 'test', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, CHROMIUM_PATH: browser },
});
process.exit(result.status ?? 1);
