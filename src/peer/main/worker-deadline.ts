import { HOP_TIMEOUT_MS, RPC_TIMEOUT_MS } from '../../core/constants.js';
import { LOOKUP_DEADLINE_MS } from '../../core/lookup/lookup.js';

/**
 * How long the main thread waits for one call into the worker before it gives up with
 * TIMEOUT. It is a backstop for a worker that stopped answering, so it must never cut an
 * operation short of its own deadline: a call with `timeoutMs: 35_000` has to be allowed
 * its 35 s (and the provider's answer), not the fixed 30 s every other call gets.
 */

/** The backstop for calls with no deadline of their own (lookups bound themselves inside). */
export const WORKER_CALL_TIMEOUT_MS = 30_000;
/** Room for the worker's own bookkeeping and the Comlink round trip on a loaded page. */
export const WORKER_MARGIN_MS = 5_000;
/**
 * What a call's discovery may take: a cached answer that turns out empty is followed by a
 * forced lookup, and a lookup starts no query after its deadline, whose last query may
 * then take a hop timeout to answer.
 */
export const DISCOVERY_ALLOWANCE_MS = 2 * (LOOKUP_DEADLINE_MS + HOP_TIMEOUT_MS);
/** call()'s own cap on maxAttempts (rpc.ts refuses more). */
const MAX_ATTEMPTS = 20;
const DEFAULT_ATTEMPTS = 3;

/**
 * The worker-call timeout for method `name` called with `args`. Options that are not valid
 * numbers count as their defaults here: the worker refuses them with INVALID_ARGUMENT.
 */
export function workerCallDeadlineMs(name: string, args: readonly unknown[]): number {
  switch (name) {
    case 'call':
    case 'callDetailed':
    case 'called': {
      // called(token, opts): a call whose first CALL the page sent (page-calls.ts), bounded as any call.
      const opts = asOptions(args[name === 'called' ? 1 : 2]);
      const timeoutMs = numberIn(opts.timeoutMs, 600_000) ?? RPC_TIMEOUT_MS;
      const attempts = Math.floor(numberIn(opts.maxAttempts, MAX_ATTEMPTS) ?? DEFAULT_ATTEMPTS);
      return Math.max(WORKER_CALL_TIMEOUT_MS, DISCOVERY_ALLOWANCE_MS + attempts * timeoutMs + WORKER_MARGIN_MS);
    }
    case 'callTo': {
      const timeoutMs = numberIn(asOptions(args[3]).timeoutMs, 600_000) ?? RPC_TIMEOUT_MS;
      return Math.max(WORKER_CALL_TIMEOUT_MS, timeoutMs + WORKER_MARGIN_MS);
    }
    default:
      return WORKER_CALL_TIMEOUT_MS;
  }
}

function asOptions(v: unknown): { timeoutMs?: unknown; maxAttempts?: unknown } {
  return typeof v === 'object' && v !== null ? (v as { timeoutMs?: unknown; maxAttempts?: unknown }) : {};
}

function numberIn(v: unknown, max: number): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= max ? v : undefined;
}
