/**
 * Configuration of the whole service, one slice per component. Components receive only their
 * slice through their constructor (STYLE §6): there is no global parameter table. Every duration
 * is in milliseconds and its name ends in `Ms`; sizes end in `Bytes`.
 */

import type { LogLevel } from '../log/index.js';
import { DEFAULT_PCHANNEL_COUNT } from '../message/index.js';
import { DEFAULT_ETCD_REQUEST_TIMEOUT_MS } from '../meta/index.js';

// ---- defaults (each documented by the field it fills, in the interfaces below) ----

export const DEFAULT_ETCD_ENDPOINTS: readonly string[] = Object.freeze(['127.0.0.1:2379']);
/** Milvus's default `etcd.rootPath` + `metaSubPath`, so a Milvus deployment's keys line up. */
export const DEFAULT_ETCD_ROOT_PATH = 'by-dev/meta';
export const DEFAULT_ETCD_DIAL_TIMEOUT_MS = 5_000;

export const DEFAULT_SESSION_TTL_MS = 10_000;
/** etcd grants leases in whole seconds with a 2 s minimum. */
export const MIN_SESSION_TTL_MS = 2_000;
/** At the default TTL; when only `ttlMs` is configured, the interval scales to 30 % of it. */
export const DEFAULT_SESSION_KEEPALIVE_INTERVAL_MS = 3_000;
/** At the default TTL; when only `ttlMs` is configured, the margin scales to 20 % of it. */
export const DEFAULT_SESSION_SELF_FENCE_MARGIN_MS = 2_000;

export const DEFAULT_COORD_HOST = '127.0.0.1';
export const DEFAULT_COORD_PORT = 22220;
export const DEFAULT_CLUSTER_NAME = 'by-dev';
/** Milvus `streaming.walBalancer.triggerInterval`. */
export const DEFAULT_BALANCE_INTERVAL_MS = 60_000;

export const DEFAULT_NODE_HOST = '127.0.0.1';
export const DEFAULT_NODE_PORT = 22222;
export const DEFAULT_NODE_DATA_ROOT = 'data';

export const DEFAULT_WAL_SYNC_WRITES = true;
/**
 * LevelDB's Snappy compression of stored blocks: off, like a Kafka broker that stores what
 * producers send (they compress, if anyone does). Typical payloads (vectors, protobufs) hardly
 * compress, and trying costs LevelDB CPU on every flush and compaction.
 */
export const DEFAULT_WAL_COMPRESSION = false;
/** 2 MiB: well below grpc-js's 4 MiB default receive limit, leaving room for frame overhead. */
export const DEFAULT_WAL_MAX_MESSAGE_BYTES = 2 * 1024 * 1024;
/** Seven days, like Kafka's `log.retention.hours`. */
export const DEFAULT_WAL_RETENTION_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
/** 0 = no size limit (again like Kafka). */
export const DEFAULT_WAL_RETENTION_MAX_BYTES = 0;
/** Milvus's default time tick interval. */
export const DEFAULT_WAL_TIME_TICK_INTERVAL_MS = 200;

export const DEFAULT_METRICS_HOST = '127.0.0.1';
export const DEFAULT_METRICS_PORT = 9091;

export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

export const DEFAULT_STANDALONE_DATA_DIR = 'data';

// ---- types ----

/** etcd connection (cluster mode). */
export interface EtcdConfig {
  /** `host:port` of each member. */
  readonly endpoints: readonly string[];
  /** Prefix of every key the service writes, without a trailing `/`. */
  readonly rootPath: string;
  readonly dialTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

/** The node's etcd session (lease). */
export interface SessionConfig {
  /** Lease TTL; at least {@link MIN_SESSION_TTL_MS}. */
  readonly ttlMs: number;
  /** How often the lease is kept alive; below `ttlMs`. */
  readonly keepaliveIntervalMs: number;
  /** The node fences itself (closes its WALs) when no keepalive succeeded for `ttlMs − selfFenceMarginMs`. */
  readonly selfFenceMarginMs: number;
}

/** The coordinator process. */
export interface CoordConfig {
  readonly host: string;
  /** gRPC port; 0 = pick a free one (reported in the ready line). */
  readonly port: number;
  /** Address clients and nodes use to reach this coordinator; '' = `host:<bound port>`. */
  readonly advertise: string;
  /** Number of pchannels `<clusterName>-rootcoord-dml_<i>`. */
  readonly pchannelCount: number;
  readonly clusterName: string;
  /** Periodic rebalance, on top of event-driven triggers. */
  readonly balanceIntervalMs: number;
}

/** A streaming node process. */
export interface NodeConfig {
  readonly host: string;
  /** gRPC port; 0 = pick a free one. */
  readonly port: number;
  /** Address registered in the session; '' = `host:<bound port>`. */
  readonly advertise: string;
  /** Directory holding one LevelDB per pchannel (shared by the nodes of a cluster). */
  readonly dataRoot: string;
}

/** When old WAL records may be truncated (never past what a consumer still asked for). */
export interface WalRetentionConfig {
  /** Records older than this may be truncated; 0 = keep regardless of age. */
  readonly maxAgeMs: number;
  /** Per pchannel size above which the oldest records may be truncated; 0 = no limit. */
  readonly maxBytes: number;
}

/** The write-ahead log of each pchannel on a node. */
export interface WalConfig {
  /** Acknowledge an append only after `write({sync: true})`. */
  readonly syncWrites: boolean;
  /** Snappy-compress stored blocks (LevelDB `compression`); costs CPU, saves disk on compressible payloads. */
  readonly compression: boolean;
  /** Largest accepted message (payload + properties). */
  readonly maxMessageBytes: number;
  readonly retention: WalRetentionConfig;
  /** Longest gap between time tick messages on an idle pchannel. */
  readonly timeTickIntervalMs: number;
}

/** The Prometheus HTTP endpoint of a process. */
export interface MetricsConfig {
  readonly host: string;
  /** Prometheus HTTP port; 0 = pick a free one. */
  readonly port: number;
}

/** Logging of a process. */
export interface LogConfig {
  readonly level: LogLevel;
}

/** Single-process mode (coordinator + one node, embedded metadata). */
export interface StandaloneConfig {
  /** Holds `meta/` and `wal/`. */
  readonly dataDir: string;
}

/** Everything; see {@link defaultConfig} and `loadConfig`. */
export interface Config {
  readonly etcd: EtcdConfig;
  readonly session: SessionConfig;
  readonly coord: CoordConfig;
  readonly node: NodeConfig;
  readonly wal: WalConfig;
  readonly metrics: MetricsConfig;
  readonly log: LogConfig;
  readonly standalone: StandaloneConfig;
}

/** A partial config at any depth: the shape of a config file and of CLI overrides. */
export type ConfigOverrides = {
  readonly [K in keyof Config]?: PartialSlice<Config[K]>;
};
type PartialSlice<T> = {
  readonly [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? PartialSlice<T[K]> : T[K];
};

/**
 * A fresh, mutable-by-construction (but typed readonly) copy of every default.
 *
 * @example
 * ```ts
 * const config = { ...defaultConfig(), log: { level: 'debug' } };
 * ```
 */
export function defaultConfig(): Config {
  return {
    etcd: {
      endpoints: [...DEFAULT_ETCD_ENDPOINTS],
      rootPath: DEFAULT_ETCD_ROOT_PATH,
      dialTimeoutMs: DEFAULT_ETCD_DIAL_TIMEOUT_MS,
      requestTimeoutMs: DEFAULT_ETCD_REQUEST_TIMEOUT_MS,
    },
    session: {
      ttlMs: DEFAULT_SESSION_TTL_MS,
      keepaliveIntervalMs: DEFAULT_SESSION_KEEPALIVE_INTERVAL_MS,
      selfFenceMarginMs: DEFAULT_SESSION_SELF_FENCE_MARGIN_MS,
    },
    coord: {
      host: DEFAULT_COORD_HOST,
      port: DEFAULT_COORD_PORT,
      advertise: '',
      pchannelCount: DEFAULT_PCHANNEL_COUNT,
      clusterName: DEFAULT_CLUSTER_NAME,
      balanceIntervalMs: DEFAULT_BALANCE_INTERVAL_MS,
    },
    node: { host: DEFAULT_NODE_HOST, port: DEFAULT_NODE_PORT, advertise: '', dataRoot: DEFAULT_NODE_DATA_ROOT },
    wal: {
      syncWrites: DEFAULT_WAL_SYNC_WRITES,
      compression: DEFAULT_WAL_COMPRESSION,
      maxMessageBytes: DEFAULT_WAL_MAX_MESSAGE_BYTES,
      retention: { maxAgeMs: DEFAULT_WAL_RETENTION_MAX_AGE_MS, maxBytes: DEFAULT_WAL_RETENTION_MAX_BYTES },
      timeTickIntervalMs: DEFAULT_WAL_TIME_TICK_INTERVAL_MS,
    },
    metrics: { host: DEFAULT_METRICS_HOST, port: DEFAULT_METRICS_PORT },
    log: { level: DEFAULT_LOG_LEVEL },
    standalone: { dataDir: DEFAULT_STANDALONE_DATA_DIR },
  };
}

/**
 * Session timings that follow the TTL: 30 % of it between keepalives and a 20 % self-fence
 * margin (3 s and 2 s at the 10 s default, 600 ms and 400 ms at the 2 s minimum). `loadConfig`
 * applies these when a source set `session.ttlMs` but not the value concerned.
 */
export function sessionTimingsFor(ttlMs: number): Pick<SessionConfig, 'keepaliveIntervalMs' | 'selfFenceMarginMs'> {
  return { keepaliveIntervalMs: Math.round(ttlMs * 0.3), selfFenceMarginMs: Math.round(ttlMs * 0.2) };
}
