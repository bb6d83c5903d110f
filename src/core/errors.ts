/**
 * Every error the library throws carries a stable `code`. Codes are plain strings so
 * they survive structured cloning across the worker and Comlink boundaries, where
 * the error's class is lost (docs/ARCHITECTURE.md, Threads).
 */
export const ErrorCode = {
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  TIMEOUT: 'TIMEOUT',
  NOT_CONNECTED: 'NOT_CONNECTED',
  CLOSED: 'CLOSED',
  NO_PROVIDERS: 'NO_PROVIDERS',
  ALL_PROVIDERS_FAILED: 'ALL_PROVIDERS_FAILED',
  HANDLER_ERROR: 'HANDLER_ERROR',
  UNKNOWN_SERVICE: 'UNKNOWN_SERVICE',
  BUSY: 'BUSY',
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  WRONG_OWNER: 'WRONG_OWNER',
  EXPIRED: 'EXPIRED',
  FUTURE_DATED: 'FUTURE_DATED',
  STALE: 'STALE',
  TOO_LARGE: 'TOO_LARGE',
  /** A handler's result MessagePack cannot encode (a BigInt, a function, a symbol): it cannot travel back. */
  NOT_ENCODABLE: 'NOT_ENCODABLE',
  KEY_FULL: 'KEY_FULL',
  OWNER_QUOTA: 'OWNER_QUOTA',
  STORE_FULL: 'STORE_FULL',
  MALFORMED: 'MALFORMED',
  UNREACHABLE: 'UNREACHABLE',
  BUDGET_EXHAUSTED: 'BUDGET_EXHAUSTED',
  STORAGE_ERROR: 'STORAGE_ERROR',
  WORKER_CRASHED: 'WORKER_CRASHED',
  /** An optional package the feature needs is not installed (the Node entry's @roamhq/wrtc); the message names it. */
  MISSING_DEPENDENCY: 'MISSING_DEPENDENCY',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class MeshError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'MeshError';
    this.code = code;
    this.details = details;
  }
}

/**
 * Whether `code` is one of the stable codes. An own-property check: `code in ErrorCode`
 * also holds for 'constructor', 'toString', '__proto__' and the rest of Object.prototype,
 * which a remote provider or storing node may well send back.
 */
export const isErrorCode = (code: unknown): code is ErrorCode =>
  typeof code === 'string' &&
  Object.prototype.hasOwnProperty.call(ErrorCode, code) &&
  (ErrorCode as Record<string, string>)[code] === code;

export const isMeshError = (e: unknown): e is MeshError =>
  typeof e === 'object' && e !== null && isErrorCode((e as { code?: unknown }).code);

/** Argument checks name the argument, as noble-hashes does. */
export function invalidArgument(name: string, expectation: string, got?: unknown): MeshError {
  const shown = got === undefined ? '' : `, got ${describeValue(got)}`;
  return new MeshError(ErrorCode.INVALID_ARGUMENT, `${name}: expected ${expectation}${shown}`, { argument: name });
}

/** A short, safe rendering of a value for an error message. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (v === null) return 'null';
  // The value itself, so "got number" does not leave the reader to guess which number.
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  if (typeof v === 'bigint') return `bigint ${String(v)}n`;
  if (v instanceof Uint8Array) return `Uint8Array(${v.length})`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return typeof v;
}
