import { ErrorCode, MeshError, isErrorCode, isMeshError } from '../core/errors.js';

/**
 * Comlink turns a thrown error into a plain Error and loses its `code` (docs/ARCHITECTURE.md, Threads).
 * So the worker never throws across the boundary: every API method resolves to a
 * Result, and the main thread turns a failed one back into a MeshError with its code.
 */
export type Result<T> =
  { ok: true; value: T } | { ok: false; code: string; message: string; details?: Record<string, unknown> };

export async function capture<T>(run: () => T | Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (e) {
    if (isMeshError(e))
      return { ok: false, code: e.code, message: e.message, ...(e.details ? { details: safeDetails(e.details) } : {}) };
    return { ok: false, code: ErrorCode.HANDLER_ERROR, message: e instanceof Error ? e.message : String(e) };
  }
}

export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  const code = isErrorCode(result.code) ? result.code : ErrorCode.HANDLER_ERROR;
  throw new MeshError(code, result.message, result.details);
}

/** Details must survive structured cloning: keep plain data only. */
function safeDetails(details: Record<string, unknown>): Record<string, unknown> {
  try {
    return structuredClone(details);
  } catch {
    return {};
  }
}
