import { expect } from 'vitest';
import { StreamingCode, StreamingError } from '../../../../shared/errors/index.js';

/**
 * Runs `fn`, expects it to throw a StreamingError INVAILD_ARGUMENT whose message names `field`,
 * and returns the error.
 */
export function expectInvalid(fn: () => unknown, field: string): StreamingError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected an error naming ${field}`).toBeInstanceOf(StreamingError);
  const error = thrown as StreamingError;
  expect(error.code).toBe(StreamingCode.INVAILD_ARGUMENT);
  expect(error.message).toContain(field);
  return error;
}

/** Same as {@link expectInvalid} for a promise. */
export async function expectInvalidAsync(promise: Promise<unknown>, field: string): Promise<StreamingError> {
  const thrown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(thrown, `expected an error naming ${field}`).toBeInstanceOf(StreamingError);
  const error = thrown as StreamingError;
  expect(error.code).toBe(StreamingCode.INVAILD_ARGUMENT);
  expect(error.message).toContain(field);
  return error;
}
