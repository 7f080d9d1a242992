import { StreamingError } from '../errors/index.js';
import { uint64FromProto } from './int64.js';
import { type ResourceKey, ResourceDomain, resourceDomainFromProto } from './resource-key.js';

/**
 * The broadcast a message belongs to (property `_bh`, proto
 * `milvus.proto.messages.BroadcastHeader`): one message appended to many vchannels.
 */
export interface BroadcastHeader {
  /** Allocated by the coordinator's broadcaster; 0 until then. */
  readonly broadcastId: bigint;
  /** Target vchannels, without duplicates. */
  readonly vchannels: readonly string[];
  /** Locks held while the broadcast is in flight. */
  readonly resourceKeys: readonly ResourceKey[];
  /** The broadcast waits for every vchannel's ack before it is done. */
  readonly ackSyncUp: boolean;
}

/**
 * The proto shape of a BroadcastHeader for encoding (`longs: String`, `enums: String`). Fields at
 * their zero value are left out, so the encoding is byte-identical to Go's `proto.Marshal`
 * (protobufjs would write an explicitly given zero).
 */
export interface BroadcastHeaderProto {
  broadcast_id?: string;
  vchannels: string[];
  Resource_keys: { domain?: string; key?: string; shared?: boolean }[];
  ack_sync_up?: boolean;
}

/** Converts to the proto shape (zero values omitted). */
export function broadcastHeaderToProto(header: BroadcastHeader): BroadcastHeaderProto {
  const proto: BroadcastHeaderProto = {
    vchannels: [...header.vchannels],
    Resource_keys: header.resourceKeys.map((k) => {
      const key: { domain?: string; key?: string; shared?: boolean } = {};
      if (k.domain !== ResourceDomain.ResourceDomainUnknown) key.domain = ResourceDomain[k.domain] ?? String(k.domain);
      if (k.key !== '') key.key = k.key;
      if (k.shared) key.shared = true;
      return key;
    }),
  };
  if (header.broadcastId !== 0n) proto.broadcast_id = header.broadcastId.toString();
  if (header.ackSyncUp) proto.ack_sync_up = true;
  return proto;
}

/** A decoded proto BroadcastHeader, fields possibly absent. */
export interface BroadcastHeaderProtoLike {
  broadcast_id?: unknown;
  vchannels?: readonly string[] | null;
  Resource_keys?: readonly { domain?: unknown; key?: string | null; shared?: boolean | null }[] | null;
  ack_sync_up?: boolean | null;
}

/** Reads a decoded proto BroadcastHeader. `field` prefixes error messages (`_bh` by default). */
export function broadcastHeaderFromProto(proto: BroadcastHeaderProtoLike, field = '_bh'): BroadcastHeader {
  const vchannels = proto.vchannels ?? [];
  if (!Array.isArray(vchannels) || vchannels.some((v) => typeof v !== 'string')) {
    throw StreamingError.invalidArgument(`${field}.vchannels`, 'must be a list of strings');
  }
  const keys = (proto.Resource_keys ?? []).map((k, i) =>
    Object.freeze({
      domain: resourceDomainFromProto(k.domain, `${field}.Resource_keys[${i}].domain`),
      key: k.key ?? '',
      shared: k.shared ?? false,
    }),
  );
  return Object.freeze({
    broadcastId: uint64FromProto(proto.broadcast_id, `${field}.broadcast_id`),
    vchannels: Object.freeze([...vchannels]),
    resourceKeys: Object.freeze(keys),
    ackSyncUp: proto.ack_sync_up ?? false,
  });
}
