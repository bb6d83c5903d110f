/**
 * The npm package's build (`npm run build:lib`, run by `prepack`), in three passes chosen
 * by `--mode`:
 *   worker  dist/browser/worker.js  the DHT worker, ONE self-contained ES module (a page
 *                                   without a bundler cannot resolve bare imports inside a
 *                                   worker: import maps do not apply there)
 *   browser dist/browser/index.js   createPeer and the errors, every dependency inlined
 *                                   (simple-peer's prebuilt bundle: no Node polyfills), with
 *                                   its chunks beside it: one it imports, and the pure-JS
 *                                   Ed25519 it imports only where WebCrypto has none
 *   node    dist/node/*.js          the relay, the CLI, the test kit and the Node peer (ws stays a
 *                                   dependency; @roamhq/wrtc an optional peer dependency, imported
 *                                   only when a Node peer starts)
 * Types come from `tsc -p tsconfig.lib.json`.
 */
import { defineConfig, type Plugin, type UserConfig } from 'vite';

/**
 * The builds stay readable (not minified), but without the source's doc comments: those ship
 * once, in dist/types, where editors read them. Licence and bundler annotations stay.
 */
const SHIPPED_COMMENTS = { legal: true, annotation: true, jsdoc: false };

/** The worker as the source names it (the demo's own Vite build follows this path). */
const SOURCE_WORKER_URL = "new URL('../../../worker/dht.worker.ts', import.meta.url)";
const PLACEHOLDER = '__MACULA_WORKER_URL__';

/**
 * Vite would bundle the worker itself and spawn it through a nested, rebased URL that not
 * every app bundler recognises. The package instead ships the plain pattern that Vite and
 * webpack both follow, written inline: `new Worker(new URL("./worker.js", import.meta.url), …)`.
 */
function packageWorkerUrl(): Plugin {
  return {
    name: 'macula-package-worker-url',
    enforce: 'pre',
    transform(code, id) {
      if (!id.endsWith('/src/peer/main/create-peer.ts')) return null;
      if (!code.includes(SOURCE_WORKER_URL))
        this.error(`create-peer.ts no longer spawns its worker with ${SOURCE_WORKER_URL}`);
      return { code: code.replace(SOURCE_WORKER_URL, PLACEHOLDER), map: null };
    },
    renderChunk(code) {
      if (!code.includes(PLACEHOLDER)) return null;
      return { code: code.replace(PLACEHOLDER, 'new URL("./worker.js", import.meta.url)'), map: null };
    },
    generateBundle(_options, bundle) {
      const index = bundle['index.js'];
      if (index?.type !== 'chunk' || !index.code.includes('new Worker(new URL("./worker.js", import.meta.url)')) {
        this.error('dist/browser/index.js does not spawn ./worker.js');
      }
    },
  };
}

/**
 * The Node build imports the pure-JS Ed25519 statically: a server has no page load to spare
 * it from, and a chunk of its own would only reshuffle the Node build's shared chunks.
 */
function nodeStaticEd25519(): Plugin {
  const lazy = "??= import('./pure-ed25519.js')";
  return {
    name: 'macula-node-static-ed25519',
    enforce: 'pre',
    transform(code, id) {
      if (!id.endsWith('/src/crypto/async-ed25519.ts')) return null;
      if (!code.includes(lazy)) this.error(`async-ed25519.ts no longer loads ${lazy}`);
      return {
        code: `import * as pureEd25519Static from './pure-ed25519.js';\n${code.replace(lazy, '??= Promise.resolve(pureEd25519Static)')}`,
        map: null,
      };
    },
  };
}

const common: UserConfig = { publicDir: false, base: './', logLevel: 'warn' };

/**
 * `split`: the page's entry keeps its dynamic imports as chunks of their own beside it (the
 * pure-JS Ed25519, crypto/pure-ed25519.ts: loaded only where WebCrypto has no Ed25519). The
 * worker stays one file, its dynamic imports inlined.
 */
const browserBuild = (
  entry: string,
  fileName: string,
  emptyOutDir: boolean,
  plugins: Plugin[] = [],
  split = false,
): UserConfig => ({
  ...common,
  plugins,
  build: {
    target: 'es2022',
    outDir: 'dist/browser',
    emptyOutDir,
    // Readable output: apps minify it with the rest of their code.
    minify: false,
    sourcemap: false,
    lib: { entry, formats: ['es'], fileName: () => fileName },
    rolldownOptions: {
      output: {
        ...(split ? { chunkFileNames: 'chunk-[name]-[hash].js' } : { codeSplitting: false }),
        comments: SHIPPED_COMMENTS,
      },
    },
  },
});

export default defineConfig(({ mode }): UserConfig => {
  if (mode === 'worker') return browserBuild('worker/dht.worker.ts', 'worker.js', true);
  if (mode === 'browser') return browserBuild('src/index.ts', 'index.js', false, [packageWorkerUrl()], true);
  if (mode === 'node') {
    return {
      ...common,
      plugins: [nodeStaticEd25519()],
      build: {
        target: 'node20',
        outDir: 'dist/node',
        emptyOutDir: true,
        minify: false,
        sourcemap: false,
        ssr: true,
        rolldownOptions: {
          input: {
            relay: 'src/relay/index.ts',
            testing: 'src/testing/index.ts',
            cli: 'src/cli/main.ts',
            node: 'src/node/index.ts',
          },
          external: ['ws', /^@playwright\/test/, '@roamhq/wrtc'],
          output: {
            format: 'es',
            entryFileNames: '[name].js',
            chunkFileNames: 'shared-[hash].js',
            banner: (chunk) => (chunk.name === 'cli' ? '#!/usr/bin/env node' : ''),
            comments: SHIPPED_COMMENTS,
          },
        },
      },
      // Everything but ws, Playwright and wrtc is inlined, so the package's only dependency is ws.
      ssr: { noExternal: true, external: ['ws', '@playwright/test', '@roamhq/wrtc'] },
    };
  }
  throw new Error(`vite.lib.config.ts: --mode worker, browser or node (got ${mode})`);
});
