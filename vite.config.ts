import { defineConfig } from 'vite';
import { nodePolyfills } from 'vite-plugin-node-polyfills';

/**
 * simple-peer is CommonJS written for Node: the page build provides the Node globals it
 * expects (global, process, Buffer) and the events/stream modules. The worker needs none.
 */
export default defineConfig({
  plugins: [nodePolyfills({ include: ['buffer', 'events', 'process', 'stream', 'util'], globals: { global: true, process: true, Buffer: true } })],
  worker: { format: 'es' },
  build: { target: 'es2022', outDir: 'dist', sourcemap: true },
  server: {
    port: 5173,
    // `npm run dev`: the relay runs beside Vite; the page reaches it through this proxy.
    proxy: { '/relay': { target: 'ws://127.0.0.1:8788', ws: true } },
  },
});
