/**
 * Proto ↔ domain at the edge of the Produce stream (STYLE rule 4): request frames in, response
 * frames out. 64-bit values leave as decimal strings (protobufjs would encode a bigint as 0).
 */
import {
  MutableMessage,
  type ProtoInputOf,
  type ProtoOutput,
  StreamingError,
  streamingErrorToProto,
  txnContextToProto,
  validateProducerProperties,
} from '../../../shared/index.js';
import type { AppendResult } from '../../wal/index.js';
import type { UndecodableFrame } from './request-frames.js';

/** A decoded `ProduceRequest` (or a frame that did not decode). */
export type ProduceRequestFrame = ProtoOutput<'milvus.proto.streaming.ProduceRequest'> | UndecodableFrame;
/** A decoded `ProduceMessageRequest`. */
export type ProduceMessageRequest = ProtoOutput<'milvus.proto.streaming.ProduceMessageRequest'>;
/** What the server writes: a `ProduceResponse`. */
export type ProduceResponseFrame = ProtoInputOf<'milvus.proto.streaming.ProduceResponse'>;
/** One answer: a `ProduceMessageResponse`. */
export type ProduceMessageResponse = ProtoInputOf<'milvus.proto.streaming.ProduceMessageResponse'>;
type ProduceResultProto = ProtoInputOf<'milvus.proto.streaming.ProduceMessageResponseResult'>;

/**
 * The message of a produce request, checked for what the producer may send: present, at most
 * `maxMessageBytes` (payload + property keys and values), and with valid properties (a known
 * producible `_t`, no node-only or unknown `_` keys, well-formed reserved values).
 *
 * @throws StreamingError INVAILD_ARGUMENT naming the problem.
 */
export function producedMessage(request: ProduceMessageRequest, maxMessageBytes: number): MutableMessage {
  if (request.message === null || request.message === undefined) {
    throw StreamingError.invalidArgument('produce.message', 'is missing');
  }
  const message = MutableMessage.fromProto(request.message);
  const size = message.estimateSize();
  if (size > maxMessageBytes) {
    throw StreamingError.invalidArgument('message size', `${size} bytes (payload and properties) exceeds the limit of ${maxMessageBytes} bytes`);
  }
  validateProducerProperties(message.properties);
  return message;
}

/** The `result` of a successful append. */
export function appendResultToProto(result: AppendResult): ProduceResultProto {
  const proto: ProduceResultProto = {
    id: result.messageId.toProto(),
    timetick: result.timeTick.toString(),
    last_confirmed_id: result.lastConfirmedMessageId.toProto(),
  };
  if (result.txnContext !== undefined) proto.txnContext = txnContextToProto(result.txnContext);
  return proto;
}

/** The answer to request `requestId` (echoed as received): a result or an in-band error. */
export function produceAnswer(requestId: string, outcome: { result: AppendResult } | { error: unknown }): ProduceMessageResponse {
  if ('result' in outcome) return { request_id: requestId, result: appendResultToProto(outcome.result) };
  return { request_id: requestId, error: streamingErrorToProto(outcome.error) };
}
