import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';
import { createStaticServer } from '../src/relay/static-server.js';

/**
 * Build a benchmark page (`input`, an HTML file of bench/) into a temporary directory and
 * serve it from a server that is not listening yet, so the caller can attach a relay first.
 * Cross-origin isolated: the pages' clocks get 5 µs resolution instead of 100 µs. `close`
 * stops the server and removes the build. `minify: false` keeps the functions' names (bench/join-profile.ts).
 */
export async function isolatedPagesServer(
  input: string,
  opts: { minify?: boolean } = {},
): Promise<{ server: Server; close: () => Promise<void> }> {
  const outDir = await mkdtemp(join(tmpdir(), 'macula-bench-pages-'));
  await build({
    logLevel: 'warn',
    build: {
      outDir,
      emptyOutDir: true,
      rolldownOptions: { input },
      ...(opts.minify === false ? { minify: false } : {}),
    },
  });
  const files = createStaticServer(outDir).listeners('request')[0] as (
    req: IncomingMessage,
    res: ServerResponse,
  ) => void;
  const server = createServer((req, res) => {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    files(req, res);
  });
  const close = async (): Promise<void> => {
    server.close();
    server.closeAllConnections();
    await rm(outDir, { recursive: true, force: true });
  };
  return { server, close };
}
