/**
 * Options of the balancer loop (Milvus `streaming.walBalancer.*`, reference `milvus-coord.md` §8),
 * their defaults, and the one-time validation that turns them into a frozen {@link ResolvedBalancerOptions}.
 * Durations are ms (STYLE §6); tests pass short timings explicitly.
 */
import { DEFAULT_BALANCE_INTERVAL_MS, StreamingError, noopLogger } from '../../shared/index.js';
import type { BackoffOptions, Logger } from '../../shared/index.js';
import type { ChannelManager } from '../channel/index.js';
import type { NodeRegistry } from '../discovery/index.js';
import { defaultBalancePolicyConfig, getBalancePolicy } from './policy/index.js';
import type { BalancePolicy, BalancePolicyConfig } from './policy/index.js';

/** vchannels of one pchannel, as the policy weighs them. */
export interface VChannelStats {
  readonly count: number;
  /** Collection id of each vchannel (anti-affinity input of vchannelFair); optional. */
  readonly collectionIds?: readonly bigint[];
}

/** Per-pchannel vchannel stats; undefined = no vchannels known (count 0). */
export type VChannelStatsProvider = (pchannel: string) => VChannelStats | undefined;

/** Milvus `walBalancer.backoffInitialInterval` / `backoffMultiplier` / `backoffMaxInterval`. */
export const DEFAULT_BALANCER_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  initialMs: 10,
  maxMs: 5_000,
  multiplier: 2,
  // Milvus's backoff timer is not jittered: there is one balancer, nobody to de-synchronise from.
  jitter: 0,
});
/** Deadline of one round's `CollectStatus` fan-out; a node slower than this is unhealthy for the round. */
export const DEFAULT_COLLECT_STATUS_TIMEOUT_MS = 5_000;
/** Milvus `walBalancer.operationTimeout` (5m): each Remove / Assign RPC. */
export const DEFAULT_OPERATION_TIMEOUT_MS = 5 * 60_000;
/** Channels applied (Remove + Assign) at once in one pass. */
export const DEFAULT_APPLY_CONCURRENCY = 16;
/**
 * Passes of one round (Milvus `balanceUntilNoChanged` has no cap). Every accepted rebalance lowers
 * the policy score by more than its tolerance, so rounds converge; the cap only guards against a
 * policy bug turning the loop into a busy spin.
 */
export const DEFAULT_MAX_PASSES_PER_ROUND = 16;

/** What the balancer is built from. */
export interface BalancerOptions {
  /** The pchannel records; the balancer does not own (close) it. */
  readonly channels: ChannelManager;
  /** Live nodes and their clients; the balancer does not own (close) it. */
  readonly registry: NodeRegistry;
  /** A registered policy name or a policy object; default `vchannelFair`. */
  readonly policy?: string | BalancePolicy;
  /** Policy settings; `allowRebalance` here is only the initial value of the runtime flag. */
  readonly policyConfig?: BalancePolicyConfig;
  /** vchannel counts per pchannel (Milvus `PchannelStatsManager`); default: none (0). */
  readonly vchannelStats?: VChannelStatsProvider;
  /** Milvus `walBalancer.triggerInterval`: a round at least this often. */
  readonly triggerIntervalMs?: number;
  /** Backoff between failed rounds, reset after a success. */
  readonly backoff?: Partial<BackoffOptions>;
  readonly collectStatusTimeoutMs?: number;
  readonly operationTimeoutMs?: number;
  readonly applyConcurrency?: number;
  readonly maxPassesPerRound?: number;
  /** Wall clock (ms) for the minimum rebalance interval; must agree with the channel manager's. */
  readonly nowMs?: () => number;
  readonly logger?: Logger;
}

/** {@link BalancerOptions} with every default filled in, validated once. */
export interface ResolvedBalancerOptions {
  readonly channels: ChannelManager;
  readonly registry: NodeRegistry;
  readonly policy: BalancePolicy;
  readonly policyConfig: BalancePolicyConfig;
  readonly vchannelStats: VChannelStatsProvider;
  readonly triggerIntervalMs: number;
  readonly backoff: Readonly<BackoffOptions>;
  readonly collectStatusTimeoutMs: number;
  readonly operationTimeoutMs: number;
  readonly applyConcurrency: number;
  readonly maxPassesPerRound: number;
  readonly nowMs: () => number;
  readonly logger: Logger;
}

/**
 * Fills in defaults and checks every number.
 *
 * @throws StreamingError INVAILD_ARGUMENT naming the bad option, or an unknown policy name.
 */
export function resolveBalancerOptions(options: BalancerOptions): ResolvedBalancerOptions {
  const policy = typeof options.policy === 'object' ? options.policy : getBalancePolicy(options.policy);
  const resolved: ResolvedBalancerOptions = {
    channels: options.channels,
    registry: options.registry,
    policy,
    policyConfig: options.policyConfig ?? defaultBalancePolicyConfig(),
    vchannelStats: options.vchannelStats ?? (() => undefined),
    triggerIntervalMs: options.triggerIntervalMs ?? DEFAULT_BALANCE_INTERVAL_MS,
    backoff: Object.freeze({ ...DEFAULT_BALANCER_BACKOFF, ...options.backoff }),
    collectStatusTimeoutMs: options.collectStatusTimeoutMs ?? DEFAULT_COLLECT_STATUS_TIMEOUT_MS,
    operationTimeoutMs: options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS,
    applyConcurrency: options.applyConcurrency ?? DEFAULT_APPLY_CONCURRENCY,
    maxPassesPerRound: options.maxPassesPerRound ?? DEFAULT_MAX_PASSES_PER_ROUND,
    nowMs: options.nowMs ?? Date.now,
    logger: (options.logger ?? noopLogger).child({ component: 'balancer', policy: policy.name }),
  };
  positive('triggerIntervalMs', resolved.triggerIntervalMs);
  positive('collectStatusTimeoutMs', resolved.collectStatusTimeoutMs);
  positive('operationTimeoutMs', resolved.operationTimeoutMs);
  positiveInteger('applyConcurrency', resolved.applyConcurrency);
  positiveInteger('maxPassesPerRound', resolved.maxPassesPerRound);
  return Object.freeze(resolved);
}

function positive(field: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) throw StreamingError.invalidArgument(`balancer.${field}`, `must be a finite number > 0, got ${value}`);
}

function positiveInteger(field: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) throw StreamingError.invalidArgument(`balancer.${field}`, `must be an integer > 0, got ${value}`);
}
