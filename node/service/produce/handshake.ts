/**
 * The creation request of a Produce / Consume stream, carried in gRPC metadata (Milvus
 * `contextutil.GetCreateProducer` / `GetCreateConsumer`): key `create-producer` / `create-consumer`,
 * value the standard padded base64 of the binary `CreateProducerRequest` / `CreateConsumerRequest`.
 */
import type * as grpc from '@grpc/grpc-js';
import {
  asStreamingError,
  decodeProtoBase64,
  type PChannelInfo,
  pchannelInfoFromProto,
  type ProtoOutput,
  StreamingError,
} from '../../../shared/index.js';

/** Metadata key of the producer handshake. */
export const CREATE_PRODUCER_KEY = 'create-producer';
/** Metadata key of the consumer handshake. */
export const CREATE_CONSUMER_KEY = 'create-consumer';

/** A decoded `CreateProducerRequest`. */
export type CreateProducerRequest = ProtoOutput<'milvus.proto.streaming.CreateProducerRequest'>;
/** A decoded `CreateConsumerRequest`. */
export type CreateConsumerRequest = ProtoOutput<'milvus.proto.streaming.CreateConsumerRequest'>;

/** A handshake read from metadata, with its pchannel converted. */
export interface Handshake<T> {
  readonly request: T;
  readonly channel: PChannelInfo;
}

/**
 * Reads and decodes the producer handshake.
 *
 * @throws StreamingError INVAILD_ARGUMENT when the key is missing, not base64, not a valid
 *   `CreateProducerRequest`, or its pchannel is missing or malformed.
 */
export function readProducerHandshake(metadata: grpc.Metadata): Handshake<CreateProducerRequest> {
  return readHandshake<CreateProducerRequest>(metadata, CREATE_PRODUCER_KEY, 'milvus.proto.streaming.CreateProducerRequest');
}

/**
 * Reads and decodes the consumer handshake.
 *
 * @throws StreamingError INVAILD_ARGUMENT as {@link readProducerHandshake}.
 */
export function readConsumerHandshake(metadata: grpc.Metadata): Handshake<CreateConsumerRequest> {
  return readHandshake<CreateConsumerRequest>(metadata, CREATE_CONSUMER_KEY, 'milvus.proto.streaming.CreateConsumerRequest');
}

function readHandshake<T extends { pchannel: ProtoOutput<'milvus.proto.streaming.PChannelInfo'> | null }>(
  metadata: grpc.Metadata,
  key: string,
  typeName: string,
): Handshake<T> {
  // grpc-js gives non-`-bin` values as strings; several values of one key are not meaningful here.
  const value = metadata.get(key).find((v): v is string => typeof v === 'string');
  if (value === undefined) {
    throw StreamingError.invalidArgument(`${key} metadata`, `is required (standard base64 of a ${typeName})`);
  }
  let request: T;
  try {
    request = decodeProtoBase64<T>(typeName, value);
  } catch (error) {
    throw StreamingError.invalidArgument(`${key} metadata`, asStreamingError(error).causeText, error);
  }
  const channel = pchannelInfoFromProto(request.pchannel, `${key}.pchannel`);
  return { request, channel };
}
