/**
 * Redo (Milvus `redo` interceptor, reference/milvus-node.md §3.2): an inner interceptor that finds
 * the append cannot go on as prepared (e.g. it must wait for something and then take a fresh time
 * tick) throws {@link RedoAppendError}; the chain then runs the whole onion again from the
 * outermost interceptor with a fresh result. Nothing in this port asks for a redo yet; the loop is
 * kept so interceptors added later (segment assignment, Milvus `shard`) can.
 */

/** Thrown by an interceptor to restart the append from the top of the chain. Never escapes it. */
export class RedoAppendError extends Error {
  override readonly name = 'RedoAppendError';

  constructor(reason = 'append must be redone') {
    super(reason);
  }
}

/** True for a {@link RedoAppendError}. */
export function isRedoAppendError(e: unknown): e is RedoAppendError {
  return e instanceof RedoAppendError;
}
