import { StreamingError } from '../errors/index.js';
import { decodeProto, encodeProto } from '../proto/index.js';
import { type BroadcastHeader, broadcastHeaderFromProto, broadcastHeaderToProto } from './broadcast-header.js';
import { int64FromProto } from './int64.js';
import { decodeBase64Property, encodeBase64Property } from './properties.js';
import { type TxnContext, txnContextFromProto, txnContextToProto } from './txn.js';

/**
 * The proto-valued pieces of a message: property values that hold a base64 proto (`_tx`, `_bh`,
 * `_ch`, `_rh`) and the few headers/bodies this service builds itself. Every proto goes through
 * `shared/proto/codec.ts`; this file is the only place in shared/message that does, so the codec
 * can be swapped here alone. Errors name the property key, not the proto type. Internal.
 */
export const ProtoTypeName = Object.freeze({
  TxnContext: 'milvus.proto.messages.TxnContext',
  BroadcastHeader: 'milvus.proto.messages.BroadcastHeader',
  CipherHeader: 'milvus.proto.messages.CipherHeader',
  ReplicateHeader: 'milvus.proto.messages.ReplicateHeader',
  BeginTxnMessageHeader: 'milvus.proto.messages.BeginTxnMessageHeader',
  TimeTickMsg: 'milvus.proto.msg.TimeTickMsg',
});

/** Encodes a TxnContext as a `_tx` value. */
export function encodeTxnContextValue(ctx: TxnContext): string {
  return encodeBase64Property(encodeProto(ProtoTypeName.TxnContext, txnContextToProto(ctx)));
}

/** Decodes a `_tx` value. */
export function decodeTxnContextValue(text: string, key = '_tx'): TxnContext {
  return txnContextFromProto(decodeValue(key, ProtoTypeName.TxnContext, text), key);
}

/** Encodes a BroadcastHeader as a `_bh` value. */
export function encodeBroadcastHeaderValue(header: BroadcastHeader): string {
  return encodeBase64Property(encodeProto(ProtoTypeName.BroadcastHeader, broadcastHeaderToProto(header)));
}

/** Decodes a `_bh` value. */
export function decodeBroadcastHeaderValue(text: string, key = '_bh'): BroadcastHeader {
  return broadcastHeaderFromProto(decodeValue(key, ProtoTypeName.BroadcastHeader, text), key);
}

/** Checks that a property value is base64 of a valid encoding of `typeName` (`_ch`, `_rh`). */
export function checkProtoValue(key: string, typeName: string, text: string): void {
  decodeValue(key, typeName, text);
}

/** Encodes a BeginTxnMessageHeader (the `_h` of BeginTxn) carrying the requested keepalive. */
export function encodeBeginTxnHeader(keepaliveMs: bigint): Buffer {
  // Zero is left out, as Go writes it: an empty header encodes to no bytes at all.
  return encodeProto(ProtoTypeName.BeginTxnMessageHeader, keepaliveMs === 0n ? {} : { keepalive_milliseconds: keepaliveMs.toString() });
}

/** Decodes the keepalive of a BeginTxnMessageHeader given as the `_h` base64 value. */
export function decodeBeginTxnKeepaliveMs(text: string, key = '_h'): bigint {
  const header = decodeValue<{ keepalive_milliseconds?: unknown }>(key, ProtoTypeName.BeginTxnMessageHeader, text);
  return int64FromProto(header.keepalive_milliseconds, `${key}.keepalive_milliseconds`);
}

/**
 * Encodes the body of a WAL-generated time tick: a legacy `msgpb.TimeTickMsg` whose base carries
 * the tick as timestamp and the node as source, as Milvus writes it.
 */
export function encodeTimeTickBody(timeTick: bigint, sourceId: bigint): Buffer {
  const base: Record<string, string> = { msg_type: 'TimeTick' };
  if (timeTick !== 0n) base.timestamp = timeTick.toString();
  if (sourceId !== 0n) base.sourceID = sourceId.toString();
  return encodeProto(ProtoTypeName.TimeTickMsg, { base });
}

function decodeValue<T = Record<string, unknown>>(key: string, typeName: string, text: string): T {
  const bytes = decodeBase64Property(key, text);
  try {
    return decodeProto<T>(typeName, bytes);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw StreamingError.invalidArgument(key, `is not a valid ${typeName.slice(typeName.lastIndexOf('.') + 1)}: ${reason}`, e);
  }
}
