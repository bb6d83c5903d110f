import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../core/errors.js';
import { unwrap } from './api-result.js';

describe('unwrap', () => {
  it('keeps a stable code and turns anything else, Object.prototype names included, into HANDLER_ERROR (review L6)', () => {
    expect(() => unwrap({ ok: false, code: ErrorCode.TIMEOUT, message: 't' })).toThrow(
      expect.objectContaining({ code: ErrorCode.TIMEOUT }),
    );
    for (const code of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'nope']) {
      expect(() => unwrap({ ok: false, code, message: 'm' })).toThrow(
        expect.objectContaining({ code: ErrorCode.HANDLER_ERROR, message: 'm' }),
      );
    }
    expect(unwrap({ ok: true, value: 3 })).toBe(3);
  });
});
