import * as grpc from '@grpc/grpc-js';
import { StreamingCode, StreamingError, asStreamingError } from '../errors/index.js';
import { STATUS_DETAILS_KEY, decodeStatusDetails } from './status-details.js';

/** How far {@link grpcCodeOf} follows `cause` links (guards against cycles). */
const MAX_CAUSE_DEPTH = 8;

/**
 * True for an error as grpc-js reports a failed call to a client (`ServiceError`: an integer
 * `code`, `details` text and trailers as `metadata`). A StreamingError is never one, although it
 * has a numeric `code` too.
 */
export function isServiceError(e: unknown): e is grpc.ServiceError {
  if (e === null || typeof e !== 'object' || e instanceof StreamingError) return false;
  const candidate = e as Partial<Record<'code' | 'details' | 'metadata', unknown>>;
  return Number.isInteger(candidate.code) && typeof candidate.details === 'string' && hasGet(candidate.metadata);
}

function hasGet(metadata: unknown): metadata is Pick<grpc.Metadata, 'get'> {
  // Duck-typed so Metadata from another copy of grpc-js is accepted too.
  return metadata !== null && typeof metadata === 'object' && typeof (metadata as { get?: unknown }).get === 'function';
}

/**
 * Recovers the StreamingError behind a failed gRPC call, the way Milvus `TryIntoStreamingError`
 * reads status details:
 * 1. a StreamingError is returned as is; an error that is not a gRPC error goes through
 *    `asStreamingError` (so becomes `UNKNOWN`);
 * 2. if the `grpc-status-details-bin` trailer holds a `google.rpc.Status` with a
 *    `milvus.proto.streaming.StreamingError` detail, that code and cause are returned (a code
 *    number newer than our schema reads as `UNKNOWN`);
 * 3. otherwise (no trailer, garbage, no such detail) the call failed below the streaming layer:
 *    unreachable node, deadline, cancellation, a non-Milvus server. Milvus does not treat such an
 *    error as a StreamingError; here it becomes `UNKNOWN`, so retry logic treats it as
 *    recoverable. Use {@link grpcCodeOf} to tell these apart (e.g. `UNAVAILABLE`).
 *
 * The gRPC error is kept as `cause` in cases 2 and 3. The gRPC code or message text is never used
 * to guess a StreamingCode.
 *
 * @example
 * ```ts
 * client.Assign(req, (err) => {
 *   if (err) {
 *     const e = fromServiceError(err);
 *     if (e.isWrongStreamingNode()) refreshAssignment();
 *     else if (grpcCodeOf(e) === grpc.status.UNAVAILABLE) markNodeDown();
 *   }
 * });
 * ```
 */
export function fromServiceError(err: unknown): StreamingError {
  if (err instanceof StreamingError) return err;
  if (!isServiceError(err)) return asStreamingError(err);
  for (const value of err.metadata.get(STATUS_DETAILS_KEY)) {
    // grpc-js hands `-bin` values over as Buffers; a string here is not from a gRPC peer.
    if (typeof value === 'string') continue;
    const decoded = decodeStatusDetails(value, err);
    if (decoded !== undefined) return decoded;
  }
  const name = grpc.status[err.code] ?? String(err.code);
  const text = err.details === '' ? name : `${name}: ${err.details}`;
  return new StreamingError(StreamingCode.UNKNOWN, `grpc status ${text}`, { cause: err });
}

/**
 * The gRPC status code behind `e`: the code of a gRPC error, or of the gRPC error a StreamingError
 * was built from ({@link fromServiceError} keeps it as `cause`). `undefined` for errors that never
 * crossed the wire. This is how a client tells "node unreachable" (`UNAVAILABLE`,
 * `DEADLINE_EXCEEDED`, `CANCELLED`) from a StreamingError the node reported.
 */
export function grpcCodeOf(e: unknown): grpc.status | undefined {
  let current: unknown = e;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current !== undefined; depth++) {
    if (isServiceError(current)) return current.code;
    current = current instanceof Error ? current.cause : undefined;
  }
  return undefined;
}
