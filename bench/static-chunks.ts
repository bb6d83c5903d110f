/**
 * What loads with a built ES module: the file and the chunks it imports statically, found
 * recursively; its `import()`s (chunks loaded on demand) are not followed. Used by
 * `npm run bench:size` and the consumer tier to weigh an entry with what it always pulls in.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function staticChunks(file: string, seen = new Set<string>([file])): string[] {
  for (const m of readFileSync(file, 'utf8').matchAll(/\bimport\s*(?:[^"'()]*?from\s*)?["'](\.\/[^"']+\.js)["']/g)) {
    const chunk = join(dirname(file), m[1]!);
    if (!seen.has(chunk)) {
      seen.add(chunk);
      staticChunks(chunk, seen);
    }
  }
  return [...seen];
}
