import type { MessageTypeDefinition } from '@grpc/proto-loader';
import type { ProtoGrpcType } from './loader.js';

export {
  PROTO_CONVERSION_OPTIONS,
  PROTO_FILES,
  clientConstructors,
  findProtoDir,
  loadPackageDefinition,
  loadProtos,
  protoDir,
  serviceDefinitions,
} from './loader.js';
export type { ProtoGrpcType } from './loader.js';
export {
  TYPE_URL_PREFIX,
  anyTypeName,
  bigintsToStrings,
  decodeAny,
  decodeProto,
  decodeProtoBase64,
  encodeAny,
  encodeProto,
  encodeProtoBase64,
  hasProtoType,
  protoRoot,
  protoType,
  typeUrlOf,
} from './codec.js';
export type { AnyMessage, ProtoInput } from './codec.js';
export { protoCodec, protoTypes } from './proto-types.js';
export type { PackageCodecs, ProtoCodec, ProtoTypes } from './proto-types.js';

export type {
  StreamingNodeStateServiceClient,
  StreamingNodeStateServiceHandlers,
} from './generated/milvus/proto/streaming/StreamingNodeStateService.js';
export type {
  StreamingCoordBroadcastServiceClient,
  StreamingCoordBroadcastServiceHandlers,
} from './generated/milvus/proto/streaming/StreamingCoordBroadcastService.js';
export type {
  StreamingCoordAssignmentServiceClient,
  StreamingCoordAssignmentServiceHandlers,
} from './generated/milvus/proto/streaming/StreamingCoordAssignmentService.js';
export type {
  StreamingNodeHandlerServiceClient,
  StreamingNodeHandlerServiceHandlers,
} from './generated/milvus/proto/streaming/StreamingNodeHandlerService.js';
export type {
  StreamingNodeManagerServiceClient,
  StreamingNodeManagerServiceHandlers,
} from './generated/milvus/proto/streaming/StreamingNodeManagerService.js';
export type { TsoServiceClient, TsoServiceHandlers } from './generated/streamingwal/v1/TsoService.js';
export type { WalAdminServiceClient, WalAdminServiceHandlers } from './generated/streamingwal/v1/WalAdminService.js';
export type { HealthClient, HealthHandlers } from './generated/grpc/health/v1/Health.js';

/** Walks a dotted full name (`milvus.proto.common.MessageID`) through the generated package tree. */
type LookupPath<Path extends string, Node> = Path extends `${infer Head}.${infer Rest}`
  ? Head extends keyof Node
    ? LookupPath<Rest, Node[Head]>
    : never
  : Path extends keyof Node
    ? Node[Path]
    : never;

/**
 * The decoded (output) type of a message by full proto name: 64-bit integers as strings, enums
 * as names, defaults filled in.
 *
 * @example
 * ```ts
 * type MessageIdProto = ProtoOutput<'milvus.proto.common.MessageID'>; // { id: string; WAL_name: ... }
 * ```
 */
export type ProtoOutput<Name extends string> =
  LookupPath<Name, ProtoGrpcType> extends MessageTypeDefinition<infer _I, infer O> ? O : never;

/** The input type (what may be encoded or sent) of a message by full proto name. */
export type ProtoInputOf<Name extends string> =
  LookupPath<Name, ProtoGrpcType> extends MessageTypeDefinition<infer I, infer _O> ? I : never;
