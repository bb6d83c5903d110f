/**
 * `npm run dev`: the relay on 8788 and Vite's dev server on 5173 (which proxies /relay to
 * it), so the page reloads on edits. Both stop together.
 */
import { spawn } from 'node:child_process';
import { startRelay } from '../src/relay/relay.js';

const relay = await startRelay({ port: 8788, host: '127.0.0.1', limits: { socketsPerAddress: 256 } });
console.log(`relay on ${relay.address}`);
const vite = spawn('npx', ['vite'], { stdio: 'inherit' });
const stop = (): void => {
  vite.kill('SIGTERM');
  void relay.close().then(() => process.exit(0));
};
vite.on('exit', stop);
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
