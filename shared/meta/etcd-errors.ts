/**
 * Turns whatever `etcd3` throws into a StreamingError, by the error class etcd3 assigns (never by
 * message text): a missing lease → UNRECOVERABLE, a rejected request → INVAILD_ARGUMENT, a
 * compacted/future revision and every transport failure (unavailable, deadline, reset) → INNER
 * with the original as `cause`, a closed client → ON_SHUTDOWN.
 */
import {
  ClientClosedError,
  EtcdLeaseInvalidError,
  GRPCInvalidArgumentError,
  GRPCOutOfRangeError,
} from 'etcd3';
import { StreamingCode, StreamingError, isStreamingError } from '../errors/index.js';
import { leaseNotFound } from './meta-errors.js';

/** What the failed call was about, for clearer errors. */
export interface EtcdErrorContext {
  /** The lease the failed call referred to, for a clearer lease-not-found error. */
  readonly lease?: string;
}

/** Maps an error from an etcd call named `what` (e.g. `'txn'`). */
export function mapEtcdError(error: unknown, what: string, context: EtcdErrorContext = {}): StreamingError {
  if (isStreamingError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof EtcdLeaseInvalidError) {
    const e = leaseNotFound(context.lease ?? 'unknown');
    return new StreamingError(e.code, e.message, { cause: error });
  }
  if (error instanceof GRPCInvalidArgumentError) return StreamingError.invalidArgument(`etcd ${what} request`, message, error);
  if (error instanceof ClientClosedError) return new StreamingError(StreamingCode.ON_SHUTDOWN, `meta store is closed: etcd ${what}`, { cause: error });
  if (error instanceof GRPCOutOfRangeError) return StreamingError.inner(`etcd ${what}: ${message}`, error);
  return StreamingError.inner(`etcd ${what} failed: ${message}`, error);
}
