/**
 * Unary handlers the house way (STYLE §3): the work is an async function of the decoded request;
 * a failure becomes `callback(toServiceError(e))`, so the StreamingError travels in the
 * `grpc-status-details-bin` trailer; a client cancel aborts the work's signal.
 */
import * as grpc from '@grpc/grpc-js';
import { MAX_INT64, MIN_INT64, StreamingError, toServiceError } from '../../shared/index.js';

/** What a unary body gets besides the request. */
export interface UnaryContext {
  /** Aborted (ON_SHUTDOWN reason) when the client cancels the call. */
  readonly signal: AbortSignal;
}

/**
 * Wraps `body` as a grpc-js unary handler. `body` may throw synchronously or reject; either way
 * the call fails with that error's status.
 */
export function unaryHandler<Req, Res>(body: (request: Req, context: UnaryContext) => Res | Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const abort = new AbortController();
    const onCancelled = (): void => abort.abort(StreamingError.onShutdown('call cancelled by the client'));
    call.on('cancelled', onCancelled);
    Promise.resolve()
      .then(() => body(call.request, { signal: abort.signal }))
      .then(
        (response) => callback(null, response),
        (e: unknown) => callback(toServiceError(e)),
      )
      .finally(() => call.off('cancelled', onCancelled));
  };
}

/**
 * A handler answering gRPC UNIMPLEMENTED with `message` (no StreamingError: there is no
 * StreamingCode for it, and Go servers answer `codes.Unimplemented` the same way).
 */
export function unimplementedHandler(method: string, message: string): grpc.handleUnaryCall<unknown, never> {
  return (_call, callback) => {
    callback({ code: grpc.status.UNIMPLEMENTED, details: `${method} is not implemented: ${message}`, metadata: new grpc.Metadata() });
  };
}

/**
 * Reads a decoded int64 field (proto-loader gives a decimal string).
 *
 * @throws StreamingError INVAILD_ARGUMENT naming `field`.
 */
export function int64FromProto(value: string | number | null | undefined, field: string): bigint {
  const text = value === null || value === undefined ? '0' : String(value);
  if (!/^-?\d+$/.test(text)) throw StreamingError.invalidArgument(field, `not an integer: ${JSON.stringify(text)}`);
  const n = BigInt(text);
  if (n < MIN_INT64 || n > MAX_INT64) throw StreamingError.invalidArgument(field, `${text} overflows int64`);
  return n;
}
