/**
 * Finds a Chromium for the e2e tests: CHROMIUM_PATH, then a system Chromium or Chrome,
 * then Playwright's own browser (installed when missing, if the network allows). When
 * none can be had it says exactly what to do.
 */
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const SYSTEM = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

async function playwrightOwn(): Promise<string | undefined> {
  try {
    const { chromium } = await import('@playwright/test');
    const path = chromium.executablePath();
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

export async function findBrowser(): Promise<string> {
  const fromEnv = process.env['CHROMIUM_PATH'];
  if (fromEnv) {
    if (existsSync(fromEnv)) return fromEnv;
    throw new Error(`CHROMIUM_PATH is set to ${fromEnv}, which does not exist.`);
  }
  const system = SYSTEM.find((p) => existsSync(p));
  if (system) return system;
  const own = await playwrightOwn();
  if (own) return own;
  if (!process.env['CI']) {
    try {
      console.log('e2e: no Chromium found; trying `npx playwright install chromium`…');
      execSync('npx playwright install chromium', { stdio: 'inherit' });
      const installed = await playwrightOwn();
      if (installed) return installed;
    } catch {
      // Fall through to the instructions.
    }
  }
  throw new Error(
    [
      'e2e: no Chromium available. Do one of:',
      '  - Debian/Ubuntu: sudo apt-get install -y chromium   (then run npm test again)',
      '  - any system:    set CHROMIUM_PATH=/path/to/chrome-or-chromium',
      '  - with network:  npx playwright install chromium',
    ].join('\n'),
  );
}
