/**
 * Waiting for a condition in a browser test: ask again every `intervalMs` until it holds
 * or `timeoutMs` passes, then fail saying what was waited for and what was last seen. No
 * fixed sleeps: a fast machine passes as soon as the mesh is ready.
 */
export interface PollOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

export async function poll<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = DEFAULT_TIMEOUT_MS, intervalMs = 250 }: PollOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: string = 'nothing yet';
  for (;;) {
    try {
      const value = await read();
      if (done(value)) return value;
      last = JSON.stringify(value) ?? String(value);
    } catch (e) {
      // A page that is still loading, or a peer call that failed once: ask again.
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() >= deadline)
      throw new Error(
        `macula-web/testing: timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${last.slice(0, 500)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
