/**
 * StreamingError ⇄ gRPC status, wire-compatible with Milvus Go servers and clients: the one
 * StreamingCode → gRPC code table, the `grpc-status-details-bin` trailer, and the in-band proto
 * form of a StreamingError; plus the grpc-js server plumbing coord and node share (CallReader,
 * bind / shutdown).
 */
export { type FailableServerStream, failServerStream, grpcStatusOf, toServiceError } from './grpc-status.js';
export { fromServiceError, grpcCodeOf, isServiceError } from './from-service-error.js';
export {
  STATUS_DETAILS_KEY,
  STREAMING_ERROR_TYPE_NAME,
  STREAMING_ERROR_TYPE_URL,
  decodeStatusDetails,
  encodeStatusDetails,
} from './status-details.js';
export {
  type StreamingErrorProto,
  type StreamingErrorProtoLike,
  streamingErrorFromProto,
  streamingErrorToProto,
} from './streaming-error-proto.js';
export { CallReader, type ReadableCall } from './call-reader.js';
export { bindGrpcServer, shutdownGrpcServer } from './grpc-server.js';
