import * as grpc from '@grpc/grpc-js';
import { StreamingCode, type StreamingError, asStreamingError } from '../errors/index.js';
import { fromServiceError, isServiceError } from './from-service-error.js';
import { STATUS_DETAILS_KEY, encodeStatusDetails } from './status-details.js';
import { streamingErrorToProto } from './streaming-error-proto.js';

/**
 * THE mapping StreamingCode → gRPC status code (Milvus `status/rpc_error.go`). Every other module
 * asks {@link grpcStatusOf}; nothing else may hard-code a gRPC code for a StreamingError.
 */
const GRPC_STATUS_BY_CODE: ReadonlyMap<StreamingCode, grpc.status> = new Map([
  [StreamingCode.OK, grpc.status.OK],
  [StreamingCode.CHANNEL_NOT_EXIST, grpc.status.FAILED_PRECONDITION],
  [StreamingCode.CHANNEL_FENCED, grpc.status.FAILED_PRECONDITION],
  [StreamingCode.ON_SHUTDOWN, grpc.status.FAILED_PRECONDITION],
  [StreamingCode.INVALID_REQUEST_SEQ, grpc.status.FAILED_PRECONDITION],
  [StreamingCode.UNMATCHED_CHANNEL_TERM, grpc.status.FAILED_PRECONDITION],
  [StreamingCode.IGNORED_OPERATION, grpc.status.FAILED_PRECONDITION],
  [StreamingCode.INNER, grpc.status.INTERNAL],
  [StreamingCode.INVAILD_ARGUMENT, grpc.status.INVALID_ARGUMENT],
  [StreamingCode.TRANSACTION_EXPIRED, grpc.status.FAILED_PRECONDITION],
  [StreamingCode.INVALID_TRANSACTION_STATE, grpc.status.FAILED_PRECONDITION],
  [StreamingCode.UNRECOVERABLE, grpc.status.FAILED_PRECONDITION],
  [StreamingCode.RESOURCE_ACQUIRED, grpc.status.FAILED_PRECONDITION],
  [StreamingCode.REPLICATE_VIOLATION, grpc.status.FAILED_PRECONDITION],
  [StreamingCode.UNKNOWN, grpc.status.UNKNOWN],
]);

/** The gRPC status code a server answers with for `code`; anything unmapped is `UNKNOWN`. */
export function grpcStatusOf(code: StreamingCode): grpc.status {
  return GRPC_STATUS_BY_CODE.get(code) ?? grpc.status.UNKNOWN;
}

/**
 * Builds the error object a grpc-js handler fails a call with. grpc-js copies its `code`,
 * `details` and `metadata` into the response status and trailers (`serverErrorToStatus`), so the
 * client sees:
 * - the gRPC code from {@link grpcStatusOf} (coarse, for any gRPC client);
 * - `details` (grpc-message) = the error's readable message;
 * - trailer `grpc-status-details-bin` = `google.rpc.Status` holding the full StreamingError,
 *   exactly what a Milvus Go server sends, so Go clients and {@link fromServiceError} recover the
 *   StreamingCode losslessly.
 *
 * Anything is accepted: a StreamingError as is, a gRPC error received from another server keeps
 * the code it carried (so relaying an error does not lose it), anything else becomes `UNKNOWN`
 * with its message. An `OK`-coded StreamingError is sent as gRPC `UNKNOWN`: a handler that fails
 * a call must not produce a successful status.
 *
 * How to fail a call:
 * - unary: `callback(toServiceError(e))`, without a third `trailer` argument (grpc-js lets that
 *   argument replace these trailers);
 * - server-streaming and bidi: {@link failServerStream}.
 *
 * @example
 * ```ts
 * Assign(call, callback) {
 *   manager.assign(call.request).then(() => callback(null, {}), (e: unknown) => callback(toServiceError(e)));
 * }
 * ```
 */
export function toServiceError(e: unknown): grpc.ServiceError {
  const error: StreamingError = isServiceError(e) ? fromServiceError(e) : asStreamingError(e);
  const code = error.code === StreamingCode.OK ? grpc.status.UNKNOWN : grpcStatusOf(error.code);
  const details = error.causeText;
  const metadata = new grpc.Metadata();
  metadata.set(STATUS_DETAILS_KEY, encodeStatusDetails(code, details, streamingErrorToProto(error)));
  // Same message shape grpc-js gives client-side errors, so server logs read alike.
  const serviceError = new Error(`${code} ${grpc.status[code]}: ${details}`, { cause: error });
  return Object.assign(serviceError, { code, details, metadata });
}

/** The part of a grpc-js server stream (`ServerWritableStream`, `ServerDuplexStream`) used here. */
export interface FailableServerStream {
  emit(event: 'error', error: grpc.ServiceError): boolean;
}

/**
 * Ends a server-streaming or bidi call with `e` as its status (see {@link toServiceError}).
 * Responses already written are delivered first: grpc-js records the status, ends the writable
 * side and sends the status once the queued messages are flushed.
 *
 * It emits `'error'` on the call rather than calling `call.destroy(e)`: in grpc-js 1.14 a
 * destroyed server stream never sends a status, so the client would hang until its deadline.
 * Write nothing to the call afterwards.
 */
export function failServerStream(call: FailableServerStream, e: unknown): void {
  call.emit('error', toServiceError(e));
}
