/**
 * The `Produce` stream of StreamingNodeHandlerService, and the stream plumbing the `Consume`
 * stream shares with it (call writer, handshakes, tolerant frame decoding, limits).
 */
export { serveProduce, DEPRECATED_WAL_NAME } from './produce-handler.js';
export { ProduceServer, type ProduceServerOptions, type ProducerStats } from './produce-server.js';
export {
  appendResultToProto,
  produceAnswer,
  producedMessage,
  type ProduceMessageRequest,
  type ProduceMessageResponse,
  type ProduceRequestFrame,
  type ProduceResponseFrame,
} from './produce-frames.js';
export { AppendPermits } from './append-permits.js';
export { BidiCall } from './bidi-call.js';
export { CallWriter, type CallWriterStats, type WritableCall } from './call-writer.js';
export {
  CREATE_CONSUMER_KEY,
  CREATE_PRODUCER_KEY,
  type CreateConsumerRequest,
  type CreateProducerRequest,
  type Handshake,
  readConsumerHandshake,
  readProducerHandshake,
} from './handshake.js';
export {
  DEFAULT_HANDLER_LIMITS,
  DEFAULT_MAX_CONSUME_BATCH_MESSAGES,
  DEFAULT_MAX_IN_FLIGHT_APPENDS,
  type HandlerLimits,
  resolveHandlerLimits,
} from './handler-limits.js';
export { isUndecodableFrame, UndecodableFrame, withTolerantRequestDecoding } from './request-frames.js';
export type { HandlerWal, HandlerWalSource, StreamContext } from './stream-context.js';
