/**
 * User Timing marks (`macula:<step>`) of a peer's start-up: the first time each step
 * happens, so an app or a benchmark can see where the time from page load to the first
 * open channel goes (BENCHMARKS.md, Browser). Each name is marked once per page, so a peer
 * that reconnects for hours adds no entries; a runtime without User Timing marks nothing.
 */
const marked = new Set<string>();

export function markStartup(step: string): void {
  if (marked.has(step)) return;
  marked.add(step);
  try {
    globalThis.performance?.mark?.(`macula:${step}`);
  } catch {
    // A mark is only a measurement: never a reason for a start-up to fail.
  }
}
