/**
 * Catalog values: domain types ⇄ binary protobuf, the same bytes Milvus writes
 * (`proto.Marshal` of `milvus.proto.streaming.PChannelMeta`, `StreamingVersion`, `CChannelMeta`)
 * plus our `streamingwal.v1.VChannelCatalogMeta`. int64/uint64 fields are `bigint` here.
 *
 * Decoding is strict: a value that does not decode, lacks what the record needs, uses an enum
 * number this schema does not know, or names another channel than its key is *corrupt*, and
 * fails with UNRECOVERABLE naming the key. Recovery must stop there rather than rebuild the
 * coordinator's state from a guess (Milvus: "a corrupt value is an error, so recovery fails").
 */
import {
  StreamingError,
  pchannelInfoFromProto,
  pchannelInfoToProto,
  protoTypes,
  type AccessMode,
  type ProtoOutput,
} from '../../shared/index.js';
import {
  PChannelMetaState,
  type PChannelAssignmentLog,
  type PChannelMeta,
  type StreamingNodeInfo,
  type VChannelMeta,
} from './catalog.js';

type NodeProto = ProtoOutput<'milvus.proto.streaming.StreamingNodeInfo'>;
type LogProto = ProtoOutput<'milvus.proto.streaming.PChannelAssignmentLog'>;

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/** Proto enum names (as decoded) → domain state. Numbers the schema does not know stay numbers
 *  after decoding and are not in this map. */
const PCHANNEL_STATES: ReadonlyMap<unknown, PChannelMetaState> = new Map([
  ['PCHANNEL_META_STATE_UNKNOWN', PChannelMetaState.UNKNOWN],
  ['PCHANNEL_META_STATE_UNINITIALIZED', PChannelMetaState.UNINITIALIZED],
  ['PCHANNEL_META_STATE_ASSIGNING', PChannelMetaState.ASSIGNING],
  ['PCHANNEL_META_STATE_ASSIGNED', PChannelMetaState.ASSIGNED],
  ['PCHANNEL_META_STATE_UNAVAILABLE', PChannelMetaState.UNAVAILABLE],
]);

const VCHANNEL_STATES = { normal: 'VCHANNEL_STATE_NORMAL', dropped: 'VCHANNEL_STATE_DROPPED' } as const;

/** The error of a value that cannot be trusted; `key` is the full meta-store key. */
export function corruptValue(key: string, problem: string, cause?: unknown): StreamingError {
  return StreamingError.unrecoverable(`catalog: corrupt value at key ${key}: ${problem}`, cause);
}

// ---- encode (domain → bytes); bad domain values are the caller's bug: INVAILD_ARGUMENT ----

/** Binary `milvus.proto.streaming.PChannelMeta`. */
export function encodePChannelMeta(meta: PChannelMeta): Buffer {
  const name = meta.channel.name;
  checkInt64(meta.channel.term, `pchannel ${name} term`);
  checkUint64(meta.lastAssignTimestampSeconds, `pchannel ${name} lastAssignTimestampSeconds`);
  if (typeof meta.state !== 'number' || PChannelMetaState[meta.state] === undefined) throw StreamingError.invalidArgument(`pchannel ${name} state`, `unknown state ${String(meta.state)}`);
  return protoTypes.streaming.PChannelMeta.encode({
    channel: pchannelInfoToProto(meta.channel),
    node: meta.node === undefined ? null : nodeToProto(meta.node, `pchannel ${name} node`),
    state: meta.state,
    histories: meta.histories.map((h) => {
      checkInt64(h.term, `pchannel ${name} history term`);
      return { term: h.term, node: nodeToProto(h.node, `pchannel ${name} history node`), access_mode: accessModeToProto(h.accessMode, `pchannel ${name} history accessMode`) };
    }),
    last_assign_timestamp_seconds: meta.lastAssignTimestampSeconds,
  });
}

/** Binary `milvus.proto.streaming.StreamingVersion`. */
export function encodeVersion(version: bigint): Buffer {
  checkInt64(version, 'streaming version');
  return protoTypes.streaming.StreamingVersion.encode({ version });
}

/** Binary `milvus.proto.streaming.CChannelMeta`. */
export function encodeCChannel(pchannel: string): Buffer {
  if (pchannel === '') throw StreamingError.invalidArgument('cchannel pchannel', 'must not be empty');
  return protoTypes.streaming.CChannelMeta.encode({ pchannel });
}

/** Binary `streamingwal.v1.VChannelCatalogMeta`. */
export function encodeVChannelMeta(meta: VChannelMeta): Buffer {
  const name = meta.vchannel;
  if (meta.pchannel === '') throw StreamingError.invalidArgument(`vchannel ${name} pchannel`, 'must not be empty');
  checkInt64(meta.collectionId, `vchannel ${name} collectionId`);
  checkUint64(meta.createTimestamp, `vchannel ${name} createTimestamp`);
  checkUint64(meta.dropTimestamp, `vchannel ${name} dropTimestamp`);
  const state = VCHANNEL_STATES[meta.state] as (typeof VCHANNEL_STATES)[keyof typeof VCHANNEL_STATES] | undefined;
  if (state === undefined) throw StreamingError.invalidArgument(`vchannel ${name} state`, `unknown state ${String(meta.state)}`);
  return protoTypes.ext.VChannelCatalogMeta.encode({
    vchannel: name,
    pchannel: meta.pchannel,
    collection_id: meta.collectionId,
    state,
    create_timestamp: meta.createTimestamp,
    drop_timestamp: meta.dropTimestamp,
  });
}

// ---- decode (bytes → domain); anything unexpected is corruption: UNRECOVERABLE ----

/** Reads the PChannelMeta stored at `key`, which must be the meta of pchannel `name`. */
export function decodePChannelMeta(key: string, name: string, bytes: Uint8Array): PChannelMeta {
  const p = decodeOrCorrupt(key, () => protoTypes.streaming.PChannelMeta.decode(bytes));
  if (p.channel === null) throw corruptValue(key, 'PChannelMeta has no channel');
  const channel = convertOrCorrupt(key, () => pchannelInfoFromProto(p.channel, 'channel'));
  if (channel.name !== name) throw corruptValue(key, `holds the meta of pchannel '${channel.name}'`);
  const state = PCHANNEL_STATES.get(p.state as unknown);
  if (state === undefined) throw corruptValue(key, `unknown PChannelMetaState ${String(p.state)}`);
  const histories = p.histories.map((h, i) => historyFromProto(key, h, i));
  return Object.freeze({
    channel,
    node: p.node === null ? undefined : nodeFromProto(p.node),
    state,
    histories: Object.freeze(histories),
    lastAssignTimestampSeconds: BigInt(p.last_assign_timestamp_seconds),
  });
}

/** Reads the StreamingVersion stored at `key`. */
export function decodeVersion(key: string, bytes: Uint8Array): bigint {
  const p = decodeOrCorrupt(key, () => protoTypes.streaming.StreamingVersion.decode(bytes));
  return BigInt(p.version);
}

/** Reads the CChannelMeta stored at `key`; an empty pchannel is corrupt. */
export function decodeCChannel(key: string, bytes: Uint8Array): string {
  const p = decodeOrCorrupt(key, () => protoTypes.streaming.CChannelMeta.decode(bytes));
  if (p.pchannel === '') throw corruptValue(key, 'CChannelMeta has an empty pchannel');
  return p.pchannel;
}

/** Reads the VChannelCatalogMeta stored at `key`, which must be the meta of vchannel `name`. */
export function decodeVChannelMeta(key: string, name: string, bytes: Uint8Array): VChannelMeta {
  const p = decodeOrCorrupt(key, () => protoTypes.ext.VChannelCatalogMeta.decode(bytes));
  if (p.vchannel !== name) throw corruptValue(key, `holds the meta of vchannel '${p.vchannel}'`);
  if (p.pchannel === '') throw corruptValue(key, 'VChannelCatalogMeta has an empty pchannel');
  let state: VChannelMeta['state'];
  if (p.state === 'VCHANNEL_STATE_NORMAL') state = 'normal';
  else if (p.state === 'VCHANNEL_STATE_DROPPED') state = 'dropped';
  else throw corruptValue(key, `unexpected VChannelState ${String(p.state)}`);
  return Object.freeze({
    vchannel: p.vchannel,
    pchannel: p.pchannel,
    collectionId: BigInt(p.collection_id),
    state,
    createTimestamp: BigInt(p.create_timestamp),
    dropTimestamp: BigInt(p.drop_timestamp),
  });
}

// ---- helpers ----

function decodeOrCorrupt<T>(key: string, decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    throw corruptValue(key, `not a valid protobuf value (${e instanceof Error ? e.message : String(e)})`, e);
  }
}

function convertOrCorrupt<T>(key: string, convert: () => T): T {
  try {
    return convert();
  } catch (e) {
    throw corruptValue(key, e instanceof Error ? e.message : String(e), e);
  }
}

function historyFromProto(key: string, h: LogProto, index: number): PChannelAssignmentLog {
  if (h.node === null) throw corruptValue(key, `histories[${index}] has no node`);
  return Object.freeze({
    term: BigInt(h.term),
    node: nodeFromProto(h.node),
    accessMode: accessModeFromProto(key, h.access_mode as unknown, `histories[${index}].access_mode`),
  });
}

function nodeFromProto(node: NodeProto): StreamingNodeInfo {
  return Object.freeze({ serverId: BigInt(node.server_id), address: node.address });
}

function nodeToProto(node: StreamingNodeInfo, field: string): { server_id: bigint; address: string } {
  checkInt64(node.serverId, `${field} serverId`);
  return { server_id: node.serverId, address: node.address };
}

function accessModeToProto(mode: AccessMode, field: string): 'PCHANNEL_ACCESS_READWRITE' | 'PCHANNEL_ACCESS_READONLY' {
  if (mode === 'rw') return 'PCHANNEL_ACCESS_READWRITE';
  if (mode === 'ro') return 'PCHANNEL_ACCESS_READONLY';
  throw StreamingError.invalidArgument(field, `unknown access mode ${String(mode)}`);
}

function accessModeFromProto(key: string, mode: unknown, field: string): AccessMode {
  if (mode === 'PCHANNEL_ACCESS_READWRITE' || mode === 0) return 'rw';
  if (mode === 'PCHANNEL_ACCESS_READONLY' || mode === 1) return 'ro';
  throw corruptValue(key, `${field}: unknown access mode ${String(mode)}`);
}

function checkInt64(value: bigint, field: string): void {
  if (typeof value !== 'bigint' || value < INT64_MIN || value > INT64_MAX) {
    throw StreamingError.invalidArgument(field, `must be an int64 bigint, got ${String(value)}`);
  }
}

function checkUint64(value: bigint, field: string): void {
  if (typeof value !== 'bigint' || value < 0n || value > UINT64_MAX) {
    throw StreamingError.invalidArgument(field, `must be a uint64 bigint, got ${String(value)}`);
  }
}
