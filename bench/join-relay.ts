import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { JoinEvent } from './join-hooks.js';

/**
 * The relay of `npm run bench:browser` and `npm run bench:join`, in a process of its own
 * (join-relay-process.ts). In the benchmark's own process every signal waited behind
 * Playwright and the pages' file server: 21-135 ms per hop on a loaded machine (BENCHMARKS.md,
 * Join on 2026-12-07, session 13), a delay a deployed relay does not have. The child inherits
 * this process's priority (`nice`) and its loader (tsx).
 */
export interface RelayProcess {
  /** The relay's ws:// URL, for the pages' `?relay=`. */
  readonly url: string;
  /** What the relay noted of its sockets (only when started with `notes`). */
  notes(): Promise<JoinEvent[]>;
  close(): Promise<void>;
}

export async function startRelayProcess(opts: { notes?: boolean } = {}): Promise<RelayProcess> {
  const child = fork(
    fileURLToPath(new URL('./join-relay-process.ts', import.meta.url)),
    opts.notes ? ['--notes'] : [],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const url = await next<{ url: string }>(child, 'url');
  return {
    url: url.url,
    notes: async () => {
      const answer = next<{ notes: JoinEvent[] }>(child, 'notes');
      child.send('notes');
      return (await answer).notes;
    },
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send('close');
      await exited;
    },
  };
}

/** The child's next message carrying `key`; rejects if it exits first. */
function next<T>(child: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown): void => {
      if (typeof m !== 'object' || m === null || !(key in m)) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m as T);
    };
    const onExit = (code: number | null): void => {
      child.off('message', onMessage);
      reject(new Error(`the relay process exited (${code}) before it sent ${key}`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
