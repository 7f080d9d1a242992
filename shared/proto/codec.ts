import { isAbsolute, join } from 'node:path';
import protobuf from 'protobufjs';
import type { IConversionOptions, Root, Type } from 'protobufjs';
import type { Long } from '@grpc/proto-loader';
import { StreamingError } from '../errors/index.js';
import { PROTO_CONVERSION_OPTIONS, PROTO_FILES, protoDir } from './loader.js';

/**
 * The input form of a generated message type, widened so every 64-bit integer field also takes a
 * `bigint` (the generated types allow `number | string | Long`). Nested messages, repeated fields
 * and maps are widened too.
 */
export type ProtoInput<T> = T extends Long
  ? T | bigint
  : T extends Uint8Array
    ? T
    : T extends readonly (infer U)[]
      ? ProtoInput<U>[]
      : T extends object
        ? { [K in keyof T]: ProtoInput<T[K]> }
        : T;

/** A `google.protobuf.Any` as proto-loader and this codec represent it. */
export interface AnyMessage {
  type_url: string;
  value: Buffer;
}

/** Prefix of every Any type URL we write (what Go's `anypb.New` writes too). */
export const TYPE_URL_PREFIX = 'type.googleapis.com/';

/** Same conversion as the gRPC loader; bytes stay `Buffer` (protobufjs' default under Node). */
const TO_OBJECT: IConversionOptions = {
  longs: PROTO_CONVERSION_OPTIONS.longs,
  enums: PROTO_CONVERSION_OPTIONS.enums,
  defaults: PROTO_CONVERSION_OPTIONS.defaults,
  oneofs: PROTO_CONVERSION_OPTIONS.oneofs,
};

/** Standard alphabet, padded (Go `base64.StdEncoding`). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

let rootCache: Root | undefined;
const typeCache = new Map<string, Type>();

/**
 * The protobufjs Root holding every type of the wire contract (loaded once from the same files
 * as the gRPC loader, field names kept as in the .proto).
 */
export function protoRoot(): Root {
  if (rootCache === undefined) {
    const dir = protoDir();
    const root = new protobuf.Root();
    // google/protobuf/* never reach this resolver: protobufjs serves its bundled copies first.
    root.resolvePath = (_origin: string, target: string): string => (isAbsolute(target) ? target : join(dir, target));
    root.loadSync([...PROTO_FILES], { keepCase: PROTO_CONVERSION_OPTIONS.keepCase });
    root.resolveAll();
    rootCache = root;
  }
  return rootCache;
}

/**
 * The protobufjs Type of a message by full name (`milvus.proto.common.MessageID`; a leading dot
 * is accepted). Lookups are cached.
 *
 * @throws StreamingError (INVAILD_ARGUMENT) for a name that is not a message type of the contract.
 */
export function protoType(typeName: string): Type {
  const cached = typeCache.get(typeName);
  if (cached !== undefined) return cached;
  const absolute = typeName.startsWith('.') ? typeName : `.${typeName}`;
  let type: Type | undefined;
  let cause: unknown;
  try {
    type = protoRoot().lookupType(absolute);
  } catch (e) {
    cause = e;
  }
  // protobufjs also matches a bare suffix against nested namespaces ('MessageID' would find
  // milvus.proto.common.MessageID); only the exact full name is accepted.
  if (type === undefined || type.fullName !== absolute) {
    throw StreamingError.invalidArgument('proto type name', `${typeName} is not a known message type`, cause);
  }
  typeCache.set(typeName, type);
  return type;
}

/** True when `typeName` is a message type of the contract. */
export function hasProtoType(typeName: string): boolean {
  try {
    protoType(typeName);
    return true;
  } catch {
    return false;
  }
}

/**
 * Returns `value` with every `bigint` replaced by its decimal string, copying only the objects
 * and arrays on the path to a bigint (the input is never mutated). Buffers and typed arrays are
 * passed through. protobufjs `fromObject` (used by this codec and by proto-loader's serializer)
 * silently turns a bigint into 0, so anything handed to a gRPC call that may hold bigints must go
 * through this first; {@link encodeProto} does it itself.
 */
export function bigintsToStrings<T>(value: T): T {
  return convertBigints(value) as T;
}

function convertBigints(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const converted = convertBigints(item);
      if (converted !== item) {
        out ??= value.slice();
        out[i] = converted;
      }
    }
    return out ?? value;
  }
  let out: Record<string, unknown> | undefined;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const item = record[key];
    const converted = convertBigints(item);
    if (converted !== item) {
      out ??= { ...record };
      out[key] = converted;
    }
  }
  return out ?? value;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function asBuffer(bytes: Uint8Array): Buffer {
  // protobufjs returns `bytes` fields as Buffers only when it reads from a Buffer.
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Encodes a message to its binary protobuf form. 64-bit integers may be given as bigint,
 * decimal string or number; enums as names or numbers; bytes as Buffer/Uint8Array (or base64).
 * Fields absent or `null` in `value` are not written. A scalar explicitly set to its zero value
 * is written (protobufjs behaviour; Go omits it): both forms decode to the same message.
 *
 * @example
 * ```ts
 * const bytes = encodeProto('milvus.proto.common.MessageID', { id: 'abc', WAL_name: 'RocksMQ' });
 * ```
 * @throws StreamingError (INVAILD_ARGUMENT, naming the type) when the value does not fit the type.
 */
export function encodeProto<T extends object = Record<string, unknown>>(typeName: string, value: ProtoInput<T>): Buffer {
  const type = protoType(typeName);
  let out: Uint8Array;
  try {
    out = type.encode(type.fromObject(bigintsToStrings(value) as Record<string, unknown>)).finish();
  } catch (e) {
    throw StreamingError.invalidArgument(typeName, `cannot encode: ${errorText(e)}`, e);
  }
  return asBuffer(out);
}

/**
 * Decodes the binary protobuf form of a message into a plain object: 64-bit integers as decimal
 * strings, enums as names (numbers this schema does not know stay numbers), absent scalars as
 * zero values, bytes as Buffers (views into `bytes`, not copies), plus a virtual field per
 * oneof naming its set member. Unknown fields are dropped.
 *
 * @throws StreamingError (INVAILD_ARGUMENT, naming the type) when `bytes` is not a valid
 *   encoding of the type.
 */
export function decodeProto<T = Record<string, unknown>>(typeName: string, bytes: Uint8Array): T {
  const type = protoType(typeName);
  if (!(bytes instanceof Uint8Array)) {
    throw StreamingError.invalidArgument(typeName, `expected bytes, got ${typeof bytes}`);
  }
  try {
    return type.toObject(type.decode(asBuffer(bytes)), TO_OBJECT) as T;
  } catch (e) {
    throw StreamingError.invalidArgument(typeName, `cannot decode: ${errorText(e)}`, e);
  }
}

/** {@link encodeProto}, then standard padded base64 (handshake metadata, `_h`/`_tx`/`_bh` properties). */
export function encodeProtoBase64<T extends object = Record<string, unknown>>(typeName: string, value: ProtoInput<T>): string {
  return encodeProto<T>(typeName, value).toString('base64');
}

/**
 * Decodes standard padded base64 (Go `StdEncoding`), then {@link decodeProto}. Anything that is
 * not strict base64 is rejected rather than silently skipped, as Node's decoder would.
 *
 * @throws StreamingError (INVAILD_ARGUMENT, naming the type).
 */
export function decodeProtoBase64<T = Record<string, unknown>>(typeName: string, text: string): T {
  if (typeof text !== 'string' || !BASE64.test(text)) {
    throw StreamingError.invalidArgument(typeName, 'not standard padded base64');
  }
  return decodeProto<T>(typeName, Buffer.from(text, 'base64'));
}

/** The Any type URL of a message type: `type.googleapis.com/<full name>`. */
export function typeUrlOf(typeName: string): string {
  return TYPE_URL_PREFIX + protoType(typeName).fullName.slice(1);
}

/** The full type name an Any refers to: whatever follows the last `/` of its type URL. */
export function anyTypeName(any: { type_url?: string | null }): string {
  const url = any.type_url ?? '';
  return url.slice(url.lastIndexOf('/') + 1);
}

/** Packs a message into a `google.protobuf.Any`. */
export function encodeAny<T extends object = Record<string, unknown>>(typeName: string, value: ProtoInput<T>): AnyMessage {
  return { type_url: typeUrlOf(typeName), value: encodeProto<T>(typeName, value) };
}

/**
 * Unpacks a `google.protobuf.Any`. With `expectedTypeName`, an Any of another type is rejected;
 * without it, the type named by the URL is used (it must be part of the contract).
 *
 * @throws StreamingError (INVAILD_ARGUMENT) on a type mismatch, an unknown type or bad bytes.
 */
export function decodeAny<T = Record<string, unknown>>(
  any: { type_url?: string | null; value?: Uint8Array | null },
  expectedTypeName?: string,
): T {
  const actual = anyTypeName(any);
  if (expectedTypeName !== undefined) {
    const expected = expectedTypeName.startsWith('.') ? expectedTypeName.slice(1) : expectedTypeName;
    if (actual !== expected) {
      throw StreamingError.invalidArgument('google.protobuf.Any', `type_url is '${any.type_url ?? ''}', expected ${expected}`);
    }
  }
  if (actual === '') throw StreamingError.invalidArgument('google.protobuf.Any', 'type_url is empty');
  return decodeProto<T>(actual, any.value ?? Buffer.alloc(0));
}
