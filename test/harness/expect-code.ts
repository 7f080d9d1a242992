/**
 * Assertions on StreamingError codes, shared by the unit and conformance suites: the error must be
 * a StreamingError (`instanceof`) and its code must match (compared by proto name, so a failure
 * reads `STREAMING_CODE_…` rather than a number). Both return the error for further checks.
 */
import { expect } from 'vitest';
import { StreamingError, streamingCodeName, type StreamingCode } from '../../shared/index.js';

/** Awaits `p`, expects it to reject with a StreamingError of `code`, and returns that error. */
export async function expectCode(p: Promise<unknown>, code: StreamingCode): Promise<StreamingError> {
  const error = await p.then(
    () => new Error('resolved, but a rejection was expected'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StreamingError);
  expect(streamingCodeName((error as StreamingError).code)).toBe(streamingCodeName(code));
  return error as StreamingError;
}

/** Calls `fn`, expects it to throw a StreamingError of `code` synchronously, and returns that error. */
export function expectThrowsCode(fn: () => unknown, code: StreamingCode): StreamingError {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(StreamingError);
  expect(streamingCodeName((error as StreamingError).code)).toBe(streamingCodeName(code));
  return error as StreamingError;
}
