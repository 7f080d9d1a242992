/**
 * The "evicted" condition of the write-ahead buffer (Milvus `wab.ErrEvicted`).
 */
import { StreamingCode, StreamingError } from '../../../shared/errors/index.js';

/**
 * A read from the write-ahead buffer asked for entries that are no longer held (evicted for age
 * or size, or older than the buffer itself). It is not a failure of the WAL: the scanner reacts
 * by switching from tailing the buffer back to catching up from the WAL (reference/milvus-node.md
 * §4.4). Detect it with {@link isEvictedError}, never by message text.
 *
 * It is a StreamingError with code INNER, so should it ever escape to a consume stream the client
 * treats it like any other server-side scanner error and resumes.
 */
export class EvictedError extends StreamingError {
  /** Marker that survives structural copies; prefer {@link isEvictedError}. */
  readonly evicted = true as const;

  constructor(what: string) {
    super(StreamingCode.INNER, `write-ahead buffer: ${what} has been evicted`);
  }
}

/** True when `e` reports entries evicted from the write-ahead buffer. */
export function isEvictedError(e: unknown): e is EvictedError {
  return e instanceof EvictedError;
}
