/**
 * `npm start`: build the demo when dist/demo/ is missing or older than its sources, then
 * serve it together with the relay.
 */
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const built = existsSync('dist/demo/index.html') ? statSync('dist/demo/index.html').mtimeMs : 0;
const sources = Math.max(
  newest('src'),
  newest('worker'),
  newest('public'),
  newest('index.html'),
  newest('vite.config.ts'),
);
if (built < sources) {
  console.log('macula-web: building the demo…');
  execSync('npx vite build', { stdio: 'inherit' });
}
await import('../src/relay/serve.js');
