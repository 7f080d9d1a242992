/**
 * The coordinator's persistent state (Milvus `streamingcoord` catalog), in domain types. The
 * implementation (`MetaCatalog`) stores binary protobuf under `<root>/streamingcoord-meta/` in a
 * {@link MetaKV}; a corrupt value stops recovery with an error naming the key.
 */
import type { AccessMode, PChannelInfo } from '../../shared/index.js';

/** Where a pchannel is (or was) assigned: a streaming node by server id. */
export interface StreamingNodeInfo {
  readonly serverId: bigint;
  readonly address: string;
}

/** Proto `PChannelMetaState` (numbers as in Milvus). */
export enum PChannelMetaState {
  UNKNOWN = 0,
  UNINITIALIZED = 1,
  ASSIGNING = 2,
  ASSIGNED = 3,
  UNAVAILABLE = 4,
}

/** An earlier assignment that still needs a `Remove` on its node (proto `PChannelAssignmentLog`). */
export interface PChannelAssignmentLog {
  readonly term: bigint;
  readonly node: StreamingNodeInfo;
  readonly accessMode: AccessMode;
}

/** Proto `PChannelMeta`, immutable: transitions make copies. */
export interface PChannelMeta {
  readonly channel: PChannelInfo;
  /** Current target; undefined while UNINITIALIZED. */
  readonly node: StreamingNodeInfo | undefined;
  readonly state: PChannelMetaState;
  readonly histories: readonly PChannelAssignmentLog[];
  /** Unix seconds of the last completed assignment (0 = never). */
  readonly lastAssignTimestampSeconds: bigint;
}

/** Our addition (`ext.proto` `VChannelCatalogMeta`): a vchannel allocated on a pchannel. */
export interface VChannelMeta {
  readonly vchannel: string;
  readonly pchannel: string;
  readonly collectionId: bigint;
  readonly state: 'normal' | 'dropped';
  /** TSO timestamp of the allocation (0 if unknown). */
  readonly createTimestamp: bigint;
  /** TSO timestamp of the drop (0 while normal). */
  readonly dropTimestamp: bigint;
}

/** The coordinator catalog. Writes are retried with backoff until they succeed or `signal` aborts. */
export interface Catalog {
  /** Every pchannel meta; throws (UNRECOVERABLE, naming the key) on a corrupt value. */
  listPChannels(): Promise<PChannelMeta[]>;
  /** Saves metas in transactions of at most 128 operations (not atomic across chunks, as Milvus). */
  savePChannels(metas: readonly PChannelMeta[], options?: { signal?: AbortSignal }): Promise<void>;

  /** Proto `StreamingVersion.version`; undefined when streaming was never enabled. */
  getVersion(): Promise<bigint | undefined>;
  saveVersion(version: bigint, options?: { signal?: AbortSignal }): Promise<void>;

  /** The pchannel that hosts the control channel, chosen once and persisted. */
  getCChannel(): Promise<string | undefined>;
  saveCChannel(pchannel: string, options?: { signal?: AbortSignal }): Promise<void>;

  listVChannels(): Promise<VChannelMeta[]>;
  saveVChannels(metas: readonly VChannelMeta[], options?: { signal?: AbortSignal }): Promise<void>;
  removeVChannels(names: readonly string[], options?: { signal?: AbortSignal }): Promise<void>;
}
