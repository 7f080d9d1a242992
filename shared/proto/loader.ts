import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { StreamingError } from '../errors/index.js';
import type { ProtoGrpcType as ExtProtoGrpcType } from './generated/ext.js';
import type { ProtoGrpcType as HealthProtoGrpcType } from './generated/health.js';
import type { ProtoGrpcType as MsgProtoGrpcType } from './generated/msg.js';
import type { ProtoGrpcType as StatusProtoGrpcType } from './generated/status.js';
import type { ProtoGrpcType as StreamingProtoGrpcType } from './generated/streaming.js';

/**
 * Every proto file of the wire contract, relative to the proto directory. `google/protobuf/*`
 * (empty, any, field_mask) are not listed: protobufjs bundles them.
 */
export const PROTO_FILES: readonly string[] = Object.freeze([
  'common.proto',
  'messages.proto',
  'milvus.proto',
  'msg.proto',
  'streaming.proto',
  'ext.proto',
  'google/rpc/status.proto',
  'grpc/health/v1/health.proto',
]);

/** The file whose presence identifies the proto directory. */
const MARKER = 'streaming.proto';

/**
 * Conversion options shared by the gRPC loader, the binary codec and the type generator
 * (`scripts/gen-proto.mjs` passes the same flags): field names as in the .proto, 64-bit
 * integers as decimal strings, enums as their names (unknown numbers stay numbers), absent
 * scalars read as their zero value, and a virtual field naming the set member of each oneof.
 */
export const PROTO_CONVERSION_OPTIONS = Object.freeze({
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

/**
 * Every package of the wire contract as returned by `grpc.loadPackageDefinition`: service
 * client constructors (with `.service` definitions) and message/enum type definitions, e.g.
 * `proto.milvus.proto.streaming.StreamingNodeHandlerService.service`.
 */
export type ProtoGrpcType = StreamingProtoGrpcType &
  ExtProtoGrpcType &
  MsgProtoGrpcType &
  StatusProtoGrpcType &
  HealthProtoGrpcType;

let protoDirCache: string | undefined;
let packageDefinitionCache: protoLoader.PackageDefinition | undefined;
let grpcObjectCache: ProtoGrpcType | undefined;

/**
 * Finds the `proto/` directory by walking up from `startDir` until a `proto/streaming.proto`
 * exists. Works from the sources (`shared/proto/`, under tsx or vitest) and from the compiled
 * output (`dist/shared/proto/`, with `dist/` beside `proto/` at the repository root).
 *
 * @throws StreamingError (UNRECOVERABLE) when no such directory exists above `startDir`.
 */
export function findProtoDir(startDir: string): string {
  let dir = startDir;
  for (;;) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, MARKER))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) {
      throw StreamingError.unrecoverable(`cannot find proto/${MARKER} in ${startDir} or any parent directory`);
    }
    dir = parent;
  }
}

/** The proto directory of this installation (resolved once, relative to this module). */
export function protoDir(): string {
  protoDirCache ??= findProtoDir(dirname(fileURLToPath(import.meta.url)));
  return protoDirCache;
}

/**
 * The proto-loader package definition of the whole contract, loaded once. Use it where a raw
 * definition is needed (e.g. `server.addService(def['milvus.proto.streaming.X'])`); most code
 * wants {@link loadProtos} instead.
 */
export function loadPackageDefinition(): protoLoader.PackageDefinition {
  packageDefinitionCache ??= protoLoader.loadSync([...PROTO_FILES], {
    ...PROTO_CONVERSION_OPTIONS,
    includeDirs: [protoDir()],
  });
  return packageDefinitionCache;
}

/**
 * The typed gRPC object of the whole contract, loaded once.
 *
 * @example
 * ```ts
 * const proto = loadProtos();
 * server.addService(proto.milvus.proto.streaming.StreamingNodeHandlerService.service, handlers);
 * const client = new proto.streamingwal.v1.TsoService(address, grpc.credentials.createInsecure());
 * ```
 */
export function loadProtos(): ProtoGrpcType {
  grpcObjectCache ??= grpc.loadPackageDefinition(loadPackageDefinition()) as unknown as ProtoGrpcType;
  return grpcObjectCache;
}

/** Service definitions (for `server.addService`) of every service, Milvus ones and ours. */
export function serviceDefinitions() {
  const streaming = loadProtos().milvus.proto.streaming;
  const ext = loadProtos().streamingwal.v1;
  return {
    streamingNodeState: streaming.StreamingNodeStateService.service,
    streamingCoordBroadcast: streaming.StreamingCoordBroadcastService.service,
    streamingCoordAssignment: streaming.StreamingCoordAssignmentService.service,
    streamingNodeHandler: streaming.StreamingNodeHandlerService.service,
    streamingNodeManager: streaming.StreamingNodeManagerService.service,
    tso: ext.TsoService.service,
    walAdmin: ext.WalAdminService.service,
    health: loadProtos().grpc.health.v1.Health.service,
  } as const;
}

/** Client constructors of every service: `new (clientConstructors().tso)(address, credentials)`. */
export function clientConstructors() {
  const streaming = loadProtos().milvus.proto.streaming;
  const ext = loadProtos().streamingwal.v1;
  return {
    streamingNodeState: streaming.StreamingNodeStateService,
    streamingCoordBroadcast: streaming.StreamingCoordBroadcastService,
    streamingCoordAssignment: streaming.StreamingCoordAssignmentService,
    streamingNodeHandler: streaming.StreamingNodeHandlerService,
    streamingNodeManager: streaming.StreamingNodeManagerService,
    tso: ext.TsoService,
    walAdmin: ext.WalAdminService,
    health: loadProtos().grpc.health.v1.Health,
  } as const;
}
