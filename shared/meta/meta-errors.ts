/**
 * The StreamingErrors both stores raise for the same conditions, so callers can branch on the
 * code whatever the backend: lease gone → UNRECOVERABLE (re-register, do not retry); revision
 * compacted or in the future → INNER (re-list); closed store → ON_SHUTDOWN.
 */
import { StreamingError } from '../errors/index.js';

/** The lease does not exist (expired, revoked or never granted). */
export function leaseNotFound(id: string): StreamingError {
  return StreamingError.unrecoverable(`meta store: lease ${id} not found (expired or revoked)`);
}

/** A read or compaction at a revision older than the retained history. */
export function revisionCompacted(revision: number, compactRevision: number): StreamingError {
  return StreamingError.inner(
    `meta store: required revision ${revision} has been compacted (compacted at ${compactRevision})`,
  );
}

/** A read or compaction at a revision the store has not reached yet. */
export function futureRevision(revision: number, current: number): StreamingError {
  return StreamingError.inner(`meta store: required revision ${revision} is a future revision (current ${current})`);
}

/** A call on a closed (or closing) store. */
export function storeClosed(what: string): StreamingError {
  return StreamingError.onShutdown(`meta store is closed: ${what}`);
}
