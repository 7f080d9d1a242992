import type { MessageTypeDefinition } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import {
  type AnyMessage,
  type ProtoInput,
  decodeAny,
  decodeProto,
  decodeProtoBase64,
  encodeAny,
  encodeProto,
  encodeProtoBase64,
  protoRoot,
  typeUrlOf,
} from './codec.js';
import type { ProtoGrpcType } from './loader.js';

/**
 * Binary codec of one message type, typed with its generated input (`I`, what you may pass) and
 * output (`O`, what decoding returns: 64-bit integers as decimal strings, enums as names).
 */
export interface ProtoCodec<I extends object, O> {
  /** Full proto name, e.g. `milvus.proto.messages.TxnContext`. */
  readonly typeName: string;
  /** `type.googleapis.com/<typeName>`. */
  readonly typeUrl: string;
  encode(value: ProtoInput<I>): Buffer;
  /** @throws StreamingError (INVAILD_ARGUMENT, naming the type) on invalid bytes. */
  decode(bytes: Uint8Array): O;
  /** Standard padded base64 of the binary form (message properties, handshake metadata). */
  encodeBase64(value: ProtoInput<I>): string;
  /** @throws StreamingError (INVAILD_ARGUMENT, naming the type) on bad base64 or bad bytes. */
  decodeBase64(text: string): O;
  toAny(value: ProtoInput<I>): AnyMessage;
  /** @throws StreamingError (INVAILD_ARGUMENT) if the Any holds another type. */
  fromAny(any: { type_url?: string | null; value?: Uint8Array | null }): O;
}

/** A typed codec for one message type by full name. Nothing is loaded until first use. */
export function protoCodec<I extends object, O>(typeName: string): ProtoCodec<I, O> {
  return {
    typeName,
    get typeUrl(): string {
      return typeUrlOf(typeName);
    },
    encode: (value) => encodeProto<I>(typeName, value),
    decode: (bytes) => decodeProto<O>(typeName, bytes),
    encodeBase64: (value) => encodeProtoBase64<I>(typeName, value),
    decodeBase64: (text) => decodeProtoBase64<O>(typeName, text),
    toAny: (value) => encodeAny<I>(typeName, value),
    fromAny: (any) => decodeAny<O>(any, typeName),
  };
}

/** The typed codecs of every message of one generated package namespace. */
export type PackageCodecs<NS> = {
  readonly [K in keyof NS as NS[K] extends MessageTypeDefinition<infer _I, infer _O> ? K : never]: NS[K] extends MessageTypeDefinition<
    infer I,
    infer O
  >
    ? ProtoCodec<I & object, O>
    : never;
};

type Milvus = ProtoGrpcType['milvus']['proto'];

/** Codecs of every package of the contract, by package. */
export interface ProtoTypes {
  readonly common: PackageCodecs<Milvus['common']>;
  readonly messages: PackageCodecs<Milvus['messages']>;
  readonly milvus: PackageCodecs<Milvus['milvus']>;
  readonly msg: PackageCodecs<Milvus['msg']>;
  readonly streaming: PackageCodecs<Milvus['streaming']>;
  readonly rpc: PackageCodecs<ProtoGrpcType['google']['rpc']>;
  readonly protobuf: PackageCodecs<ProtoGrpcType['google']['protobuf']>;
  readonly ext: PackageCodecs<ProtoGrpcType['streamingwal']['v1']>;
}

const PACKAGES: Readonly<Record<keyof ProtoTypes, string>> = {
  common: 'milvus.proto.common',
  messages: 'milvus.proto.messages',
  milvus: 'milvus.proto.milvus',
  msg: 'milvus.proto.msg',
  streaming: 'milvus.proto.streaming',
  rpc: 'google.rpc',
  protobuf: 'google.protobuf',
  ext: 'streamingwal.v1',
};

const packageCache = new Map<string, Readonly<Record<string, ProtoCodec<object, unknown>>>>();

function packageCodecs(pkg: string): Readonly<Record<string, ProtoCodec<object, unknown>>> {
  let codecs = packageCache.get(pkg);
  if (codecs === undefined) {
    const built: Record<string, ProtoCodec<object, unknown>> = {};
    const ns = protoRoot().lookup(`.${pkg}`);
    const members = ns instanceof protobuf.Namespace ? ns.nestedArray : [];
    for (const member of members) {
      if (member instanceof protobuf.Type) built[member.name] = protoCodec<object, unknown>(`${pkg}.${member.name}`);
    }
    codecs = Object.freeze(built);
    packageCache.set(pkg, codecs);
  }
  return codecs;
}

function lazyPackages(): ProtoTypes {
  const out = {};
  for (const [key, pkg] of Object.entries(PACKAGES)) {
    Object.defineProperty(out, key, { enumerable: true, get: () => packageCodecs(pkg) });
  }
  return Object.freeze(out) as ProtoTypes;
}

/**
 * Typed codecs of every message of the contract, grouped by package. The proto files are loaded
 * on first access of a package.
 *
 * @example
 * ```ts
 * const b64 = protoTypes.messages.TxnContext.encodeBase64({ txn_id: 42n, keepalive_milliseconds: 1000 });
 * const ctx = protoTypes.messages.TxnContext.decodeBase64(b64); // { txn_id: '42', keepalive_milliseconds: '1000' }
 * const err = protoTypes.streaming.StreamingError.decode(bytes);
 * ```
 */
export const protoTypes: ProtoTypes = lazyPackages();
