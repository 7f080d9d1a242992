import { StreamingError } from '../errors/index.js';
import { TYPE_URL_PREFIX, anyTypeName, protoTypes } from '../proto/index.js';
import { type StreamingErrorProto, streamingErrorFromProto } from './streaming-error-proto.js';

/** The trailer grpc-go writes a `google.rpc.Status` into when a status carries details. */
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

/** Full proto name of the detail Milvus attaches to failed calls. */
export const STREAMING_ERROR_TYPE_NAME = 'milvus.proto.streaming.StreamingError';

/** Any type URL of that detail, as Go's `anypb.New` writes it. */
export const STREAMING_ERROR_TYPE_URL = `${TYPE_URL_PREFIX}${STREAMING_ERROR_TYPE_NAME}`;

/**
 * Encodes the `grpc-status-details-bin` trailer value a Milvus Go server sends for a failed call:
 * `google.rpc.Status{code: grpcCode, message, details: [Any(StreamingError{code, cause})]}`.
 *
 * `grpcCode` is the gRPC status code, never the StreamingCode: grpc-go builds this proto from the
 * call's status, and a Go client takes code and message from it instead of the plain headers.
 * Zero values (empty message or cause, code OK) are left out, as Go's marshaller does, so the
 * bytes equal what a Go server would send for the same status.
 */
export function encodeStatusDetails(grpcCode: number, message: string, error: StreamingErrorProto): Buffer {
  const code = protoTypes.streaming.StreamingError.encode({
    ...(error.code === 'STREAMING_CODE_OK' ? {} : { code: error.code }),
    ...(error.cause === '' ? {} : { cause: error.cause }),
  });
  return protoTypes.rpc.Status.encode({
    ...(grpcCode === 0 ? {} : { code: grpcCode }),
    ...(message === '' ? {} : { message }),
    details: [{ type_url: STREAMING_ERROR_TYPE_URL, value: code }],
  });
}

/**
 * Finds the StreamingError detail in the bytes of a `grpc-status-details-bin` trailer. Returns
 * `undefined`, never throws, when the bytes are not a `google.rpc.Status` or hold no decodable
 * StreamingError; details of other types (e.g. `google.rpc.ErrorInfo`) are skipped. `cause`
 * becomes the `cause` of the returned error.
 */
export function decodeStatusDetails(bytes: Uint8Array, cause?: unknown): StreamingError | undefined {
  let details: readonly { type_url: string; value: Buffer }[];
  try {
    details = protoTypes.rpc.Status.decode(bytes).details;
  } catch {
    // Garbage from a proxy or a foreign server: the caller falls back to the gRPC code.
    return undefined;
  }
  for (const any of details) {
    if (anyTypeName(any) !== STREAMING_ERROR_TYPE_NAME) continue;
    try {
      const proto = protoTypes.streaming.StreamingError.decode(any.value);
      return streamingErrorFromProto(proto, cause === undefined ? undefined : { cause });
    } catch {
      // A corrupt detail is as good as none; keep looking in case a later one is intact.
    }
  }
  return undefined;
}
