import { defineConfig } from 'vite';

/**
 * The demo page (`npm run build` → dist/demo, served by `npm start`). It needs no Node
 * polyfills: the transport uses simple-peer's prebuilt browser bundle, as apps do.
 * The package itself is built by vite.lib.config.ts.
 */
export default defineConfig({
  worker: { format: 'es' },
  // The dev server's dependency scan looks at the demo only, not the fixture apps under e2e/.
  optimizeDeps: { entries: ['index.html'] },
  build: { target: 'es2022', outDir: 'dist/demo', sourcemap: true },
  server: {
    port: 5173,
    // `npm run dev`: the relay runs beside Vite; the page reaches it through this proxy.
    proxy: { '/relay': { target: 'ws://127.0.0.1:8788', ws: true } },
  },
});
