/**
 * The errors of the backend layer, in one place so every implementation words them the same way
 * and callers can rely on the codes (see the contract in `wal-backend.ts`).
 */
import { StreamingCode, StreamingError } from '../../../shared/errors/index.js';
import { MessageId } from '../../../shared/message/index.js';

/** Opening at a term lower than the one that already opened the pchannel. */
export function staleTermError(channel: string, term: bigint, heldTerm: bigint): StreamingError {
  return new StreamingError(
    StreamingCode.CHANNEL_FENCED,
    `pchannel ${channel} cannot be opened at term ${term}: term ${heldTerm} already holds it`,
  );
}

/** An instance whose term was superseded by a newer read-write open. */
export function fencedError(channel: string, term: bigint, newTerm: bigint): StreamingError {
  return new StreamingError(StreamingCode.CHANNEL_FENCED, `pchannel ${channel} at term ${term} is fenced: term ${newTerm} opened it`);
}

/** A write (append, truncate, checkpoint) on a read-only backend. */
export function readOnlyError(channel: string, operation: string): StreamingError {
  return StreamingError.invalidArgument('access mode', `cannot ${operation} on the read-only wal backend of ${channel}`);
}

/** Any call on a closed backend or opener. */
export function closedError(what: string, operation: string): StreamingError {
  return StreamingError.onShutdown(`cannot ${operation}: ${what} is closed`);
}

/** A read position below the retained range. */
export function truncatedError(channel: string, position: bigint, floor: bigint): StreamingError {
  const earliest = MessageId.of(floor);
  return StreamingError.unrecoverable(
    `pchannel ${channel}: message id ${position} is truncated, the earliest available message id is ${earliest} (${earliest.marshal()})`,
  );
}

/** Another process (or another opener in this one) holds the pchannel's storage lock. */
export function lockHeldError(channel: string, location: string, cause: unknown): StreamingError {
  return new StreamingError(
    StreamingCode.RESOURCE_ACQUIRED,
    `pchannel ${channel} is held by another process (lock on ${location})`,
    { cause },
  );
}

/** A storage failure: nothing of the operation landed unless said otherwise. A StreamingError passes through. */
export function storageError(channel: string, operation: string, cause: unknown): StreamingError {
  if (cause instanceof StreamingError) return cause;
  const text = cause instanceof Error ? cause.message : String(cause);
  return StreamingError.inner(`pchannel ${channel}: ${operation} failed: ${text}`, cause);
}

/** The error an aborted `signal` ends `what` with: its reason if that is a StreamingError, else ON_SHUTDOWN. */
export function abortedError(signal: AbortSignal, what: string): StreamingError {
  const reason: unknown = signal.reason;
  if (reason instanceof StreamingError) return reason;
  const text = reason instanceof Error ? reason.message : String(reason);
  return new StreamingError(StreamingCode.ON_SHUTDOWN, `${what} aborted: ${text}`, { cause: reason });
}
