/**
 * Options of the coordinator TSO, their defaults, and their checks (kept apart from the
 * allocator so its file holds only the allocation logic).
 */
import { StreamingError, noopLogger, type BackoffOptions, type Logger, type MetaKV } from '../../shared/index.js';
import { CatalogKeys } from '../catalog/index.js';

/** Milvus `tsoSaveInterval`: how far ahead of the clock the window is persisted. */
export const DEFAULT_TSO_WINDOW_MS = 3_000;
/** Renew the window once less than this remains. */
export const DEFAULT_TSO_RENEW_BEFORE_MS = 1_000;
/** How long an allocation waits for a used-up window to be renewed before failing. */
export const DEFAULT_TSO_WAIT_TIMEOUT_MS = 3_000;
/** Retry delays of store writes at start-up and while waiting for a renewal. */
export const DEFAULT_TSO_RETRY_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  initialMs: 10,
  maxMs: 1_000,
  multiplier: 2,
  jitter: 0.2,
});

/** Options of `PersistedTsoAllocator`. */
export interface PersistedTsoAllocatorOptions {
  readonly kv: MetaKV;
  /** Meta root of the default key `<root>/streamingcoord-meta/tso`; default `by-dev/meta`. */
  readonly rootPath?: string;
  /** Overrides the key entirely. */
  readonly key?: string;
  /** Wall clock in ms; `Date.now` by default. Tests inject one. */
  readonly now?: () => number;
  /** How far ahead of the clock each persisted window ends; default {@link DEFAULT_TSO_WINDOW_MS}. */
  readonly windowMs?: number;
  /** Renew when less than this remains (< windowMs); default {@link DEFAULT_TSO_RENEW_BEFORE_MS}. */
  readonly renewBeforeMs?: number;
  /** Longest wait of one allocation for a renewal; default {@link DEFAULT_TSO_WAIT_TIMEOUT_MS}. */
  readonly waitTimeoutMs?: number;
  /** Default {@link DEFAULT_TSO_RETRY_BACKOFF}. */
  readonly retryBackoff?: Partial<BackoffOptions>;
  /** Readable label in the owner id (e.g. the coordinator's server id); a UUID is appended. */
  readonly ownerName?: string;
  readonly logger?: Logger;
}

/** Options after defaults and checks. */
export interface ResolvedTsoOptions {
  readonly kv: MetaKV;
  readonly key: string;
  readonly now: () => number;
  readonly windowMs: bigint;
  readonly renewBeforeMs: bigint;
  readonly waitTimeoutMs: number;
  readonly retryBackoff: Partial<BackoffOptions>;
  readonly ownerName: string;
  readonly logger: Logger;
}

/** Applies defaults; throws INVAILD_ARGUMENT on a bad value. */
export function resolveTsoOptions(options: PersistedTsoAllocatorOptions): ResolvedTsoOptions {
  const windowMs = positiveInt(options.windowMs ?? DEFAULT_TSO_WINDOW_MS, 'windowMs');
  const renewBeforeMs = positiveInt(options.renewBeforeMs ?? DEFAULT_TSO_RENEW_BEFORE_MS, 'renewBeforeMs');
  if (windowMs < 2 || renewBeforeMs >= windowMs) {
    throw StreamingError.invalidArgument('windowMs', `must be >= 2 and > renewBeforeMs (${renewBeforeMs}), got ${windowMs}`);
  }
  return {
    kv: options.kv,
    key: options.key ?? new CatalogKeys(options.rootPath).tso,
    now: options.now ?? Date.now,
    windowMs: BigInt(windowMs),
    renewBeforeMs: BigInt(renewBeforeMs),
    waitTimeoutMs: positiveInt(options.waitTimeoutMs ?? DEFAULT_TSO_WAIT_TIMEOUT_MS, 'waitTimeoutMs'),
    retryBackoff: { ...DEFAULT_TSO_RETRY_BACKOFF, ...options.retryBackoff },
    ownerName: options.ownerName ?? 'tso',
    logger: options.logger ?? noopLogger,
  };
}

function positiveInt(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw StreamingError.invalidArgument(field, `must be an integer >= 1, got ${value}`);
  return value;
}
