/**
 * The coordinator's key layout in the meta store, in one place (Milvus
 * `internal/metastore/kv/streamingcoord/constant.go`). Every key is relative to the meta root
 * (`etcd.rootPath`, default `by-dev/meta`) and joined to it the way Milvus' etcd MetaKv does
 * (`path.Join`: one `/` between the parts, no trailing slash), so a Milvus 2.6 coordinator and
 * this one find each other's records:
 *
 * ```
 * <root>/streamingcoord-meta/pchannel/<pchannel>        milvus.proto.streaming.PChannelMeta
 * <root>/streamingcoord-meta/broadcast-task/<id>        milvus.proto.streaming.BroadcastTask
 * <root>/streamingcoord-meta/version                    milvus.proto.streaming.StreamingVersion
 * <root>/streamingcoord-meta/cchannel                   milvus.proto.streaming.CChannelMeta
 * <root>/streamingcoord-meta/vchannel/<vchannel>        streamingwal.v1.VChannelCatalogMeta  (ours)
 * <root>/streamingcoord-meta/tso                        TSO window (ours; see coord/tso)
 * ```
 */
import { StreamingError } from '../../shared/index.js';

/** Milvus's default meta root (`etcd.rootPath` + `/` + `etcd.metaSubPath`). */
export const DEFAULT_META_ROOT = 'by-dev/meta';

/** The directory of every coordinator record, relative to the meta root. */
export const STREAMING_COORD_META = 'streamingcoord-meta';

const PCHANNEL_DIR = `${STREAMING_COORD_META}/pchannel/`;
const BROADCAST_TASK_DIR = `${STREAMING_COORD_META}/broadcast-task/`;
const VCHANNEL_DIR = `${STREAMING_COORD_META}/vchannel/`;
const VERSION_KEY = `${STREAMING_COORD_META}/version`;
const CCHANNEL_KEY = `${STREAMING_COORD_META}/cchannel`;
const TSO_KEY = `${STREAMING_COORD_META}/tso`;

/** Largest broadcast id (ids are uint64, written in decimal as Milvus does). */
const MAX_UINT64 = (1n << 64n) - 1n;

/**
 * Every key of the coordinator catalog under one meta root.
 *
 * @example
 * ```ts
 * const keys = new CatalogKeys('by-dev/meta/');
 * keys.pchannel('by-dev-rootcoord-dml_0'); // 'by-dev/meta/streamingcoord-meta/pchannel/by-dev-rootcoord-dml_0'
 * ```
 */
export class CatalogKeys {
  /** The meta root without trailing slashes ('' = keys are used as they are). */
  readonly root: string;

  constructor(root: string = DEFAULT_META_ROOT) {
    this.root = root.replace(/\/+$/, '');
  }

  /** Prefix of every pchannel meta (ends with `/`). */
  get pchannelPrefix(): string {
    return this.#join(PCHANNEL_DIR);
  }

  /** Prefix of every broadcast task (ends with `/`). */
  get broadcastTaskPrefix(): string {
    return this.#join(BROADCAST_TASK_DIR);
  }

  /** Prefix of every vchannel meta (ends with `/`). */
  get vchannelPrefix(): string {
    return this.#join(VCHANNEL_DIR);
  }

  /** Key of the streaming version (`StreamingVersion`). */
  get version(): string {
    return this.#join(VERSION_KEY);
  }

  /** Key of the control channel's pchannel (`CChannelMeta`). */
  get cchannel(): string {
    return this.#join(CCHANNEL_KEY);
  }

  /** Key of the coordinator TSO's persisted window. */
  get tso(): string {
    return this.#join(TSO_KEY);
  }

  /** Key of one pchannel's meta. */
  pchannel(name: string): string {
    return this.pchannelPrefix + checkName(name, 'pchannel');
  }

  /** Key of one vchannel's meta. */
  vchannel(name: string): string {
    return this.vchannelPrefix + checkName(name, 'vchannel');
  }

  /** Key of one broadcast task: its id as an unsigned decimal, as Milvus writes it. */
  broadcastTask(id: bigint): string {
    if (id < 0n || id > MAX_UINT64) throw StreamingError.invalidArgument('broadcast id', `must be a uint64, got ${id}`);
    return this.broadcastTaskPrefix + id.toString();
  }

  #join(relative: string): string {
    return this.root === '' ? relative : `${this.root}/${relative}`;
  }
}

/** A channel name becomes one path segment: it must be non-empty and slash-free, or listing
 *  would read it back under another name. */
function checkName(name: string, what: string): string {
  if (typeof name !== 'string' || name === '') throw StreamingError.invalidArgument(`${what} name`, 'must not be empty');
  if (name.includes('/')) throw StreamingError.invalidArgument(`${what} name`, `must not contain '/': ${name}`);
  return name;
}
