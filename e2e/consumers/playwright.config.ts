// The consumer tier's Playwright, run from the temporary directory where the packed
// package is installed (scripts/test-consumers.ts sets the URLs and the browser).
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'specs',
  outputDir: 'test-results',
  timeout: 120_000,
  expect: { timeout: 30_000 },
  workers: 1,
  reporter: [['list']],
  use: {
    // The kit test opens the Vite app (on Vite's dev server) by relative URL, as an app's own suite would.
    baseURL: process.env['VITE_DEV_URL'],
    launchOptions: {
      executablePath: process.env['CHROMIUM_PATH'],
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
