/** Assertion helpers shared by the WAL manager tests. */
import { expect } from 'vitest';
import { StreamingCode, StreamingError, streamingCodeName } from '../../../../shared/errors/index.js';

/** Awaits `p`, expects it to reject with a StreamingError of `code`, and returns that error. */
export async function expectCode(p: Promise<unknown>, code: StreamingCode): Promise<StreamingError> {
  const error = await p.then(
    () => new Error('resolved, but a rejection was expected'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StreamingError);
  const streaming = error as StreamingError;
  expect(streamingCodeName(streaming.code)).toBe(streamingCodeName(code));
  return streaming;
}

/** Calls `fn`, expects it to throw a StreamingError of `code`, and returns that error. */
export function expectThrowsCode(fn: () => unknown, code: StreamingCode): StreamingError {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(StreamingError);
  const streaming = error as StreamingError;
  expect(streamingCodeName(streaming.code)).toBe(streamingCodeName(code));
  return streaming;
}

export { StreamingCode };
