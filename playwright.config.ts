import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS } from './scripts/find-browser.js';

/** Port of the server the e2e tests start: the built demo and the relay, as `npm start` serves them. */
export const E2E_PORT = Number(process.env['E2E_PORT'] ?? 8797);

/**
 * Projects by what they need besides Chromium (scripts/run-e2e.ts checks for it and says
 * loudly what it skipped): `chromium` nothing more (TLS uses openssl), `turn` coturn,
 * `firefox` firefox-esr, `nat` root for network namespaces, nftables and coturn.
 */
export default defineConfig({
  testDir: 'e2e',
  // The consumer tier (npm run test:consumers) runs those with the packed package's own Playwright.
  testIgnore: ['consumers/**'],
  outputDir: 'e2e/output/results',
  timeout: 90_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 1,
  // One retry in CI: a loaded 2-core runner can stall a browser for seconds; a retried pass is reported as flaky.
  retries: process.env['CI'] ? 1 : 0,
  reporter: [['list']],
  use: {
    baseURL: `http://localhost:${E2E_PORT}`,
    launchOptions: {
      executablePath: process.env['CHROMIUM_PATH'] || '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
    },
  },
  projects: [
    // A project's testIgnore replaces the top-level one, so the consumer specs are named again.
    {
      name: 'chromium',
      testIgnore: ['consumers/**', 'net/turn.spec.ts', 'net/nat.spec.ts', 'firefox/**', 'federation.spec.ts'],
    },
    // Three relays in their own processes, each with its own Node peer, chained (README, Deploying).
    { name: 'federation', testMatch: 'federation.spec.ts' },
    { name: 'turn', testMatch: 'net/turn.spec.ts' },
    { name: 'firefox', testMatch: 'firefox/**/*.spec.ts' },
    { name: 'nat', testMatch: 'net/nat.spec.ts', timeout: 240_000 },
  ],
  webServer: {
    command: `npx tsx src/relay/serve.ts`,
    // Signaling only (RELAY_PEER=0): these suites count a page's channels and peers among tabs
    // they open themselves, and a relay's own peer would be one more in every mesh; the
    // relays' peers are tested where they are the subject (e2e/federation.spec.ts).
    env: { PORT: String(E2E_PORT), HOST: '127.0.0.1', RELAY_SOCKETS_PER_ADDRESS: '512', RELAY_PEER: '0' },
    url: `http://localhost:${E2E_PORT}/`,
    reuseExistingServer: false,
    timeout: 60_000,
  },
});
