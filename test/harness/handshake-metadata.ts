/**
 * The gRPC metadata a Milvus client opens a Produce or Consume stream with: the create request,
 * base64-encoded protobuf, under `create-producer` / `create-consumer` (milvus-node.md §5).
 * Shared by the integration tests, the e2e tests and the benchmarks that speak the wire protocol.
 */
import * as grpc from '@grpc/grpc-js';
import { encodeProtoBase64 } from '../../shared/index.js';

/** Metadata carrying a handshake. */
export function handshakeMetadata(key: 'create-producer' | 'create-consumer', value: Record<string, unknown>): grpc.Metadata {
  const typeName = key === 'create-producer' ? 'milvus.proto.streaming.CreateProducerRequest' : 'milvus.proto.streaming.CreateConsumerRequest';
  const metadata = new grpc.Metadata();
  metadata.set(key, encodeProtoBase64(typeName, value));
  return metadata;
}
