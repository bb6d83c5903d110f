/**
 * Tells the worker whether the page is hidden (document.visibilityState), now and on every
 * change, so that its maintenance ticks less often in a background tab (worker/ticker.ts).
 * A worker cannot see the page's visibility itself. Where there is no document (a page
 * without one cannot be hidden), nothing is said and the worker keeps its visible pace.
 * Returns a function that stops listening.
 */
export function forwardVisibility(setHidden: (hidden: boolean) => void): () => void {
  if (typeof document === 'undefined') return () => undefined;
  let last: boolean | undefined;
  const report = (): void => {
    const hidden = document.visibilityState === 'hidden';
    if (hidden === last) return;
    last = hidden;
    setHidden(hidden);
  };
  document.addEventListener('visibilitychange', report);
  report();
  return () => document.removeEventListener('visibilitychange', report);
}
