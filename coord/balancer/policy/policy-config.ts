/**
 * Balance policy settings (Milvus `streaming.walBalancer.balancePolicy.*`, reference
 * `milvus-coord.md` §3.4–3.6 and §8), with Milvus's defaults. Durations are in ms (STYLE §6).
 */
import { StreamingError } from '../../../shared/index.js';
import type { AccessMode } from '../../../shared/index.js';

/** Milvus `balancePolicy.minRebalanceIntervalThreshold` (5m). */
export const DEFAULT_MIN_REBALANCE_INTERVAL_MS = 5 * 60_000;
/** Milvus `balancePolicy.allowRebalanceRecoveryLagThreshold` (1s). */
export const DEFAULT_REBALANCE_RECOVERY_LAG_THRESHOLD_MS = 1_000;

/** Weights and limits of `vchannelFair` (Milvus `balancePolicy.vchannelFair.*`). */
export interface VChannelFairConfig {
  /** Weight of the squared relative deviation of a node's pchannel count. */
  readonly pchannelWeight: number;
  /** Weight of the squared relative deviation of a node's vchannel count. */
  readonly vchannelWeight: number;
  /** Weight of collection sharing between pchannels on one node. */
  readonly antiAffinityWeight: number;
  /** Minimum score gain for a rebalance to be worth its moves. */
  readonly rebalanceTolerance: number;
  /**
   * At most this many placed channels move per balance computation. It is also the depth of the
   * search, which costs nodes^steps score evaluations, so keep it small (Milvus: 3).
   */
  readonly rebalanceMaxStep: number;
}

/** Milvus 2.6 defaults of {@link VChannelFairConfig}. */
export const DEFAULT_VCHANNEL_FAIR_CONFIG: Readonly<VChannelFairConfig> = Object.freeze({
  pchannelWeight: 0.4,
  vchannelWeight: 0.3,
  antiAffinityWeight: 0.01,
  rebalanceTolerance: 0.01,
  rebalanceMaxStep: 3,
});

/** Everything a policy reads besides the layout itself. */
export interface BalancePolicyConfig {
  /** False: only lost or never-placed channels are placed ("lost-WAL recovery only"). */
  readonly allowRebalance: boolean;
  /** A channel assigned less than this long ago is not moved (unless its node is unusable). */
  readonly minRebalanceIntervalMs: number;
  /** A channel whose recovery lag is above this is not moved (unless its node is unusable). */
  readonly rebalanceRecoveryLagThresholdMs: number;
  /** Access mode of every expected assignment; read-write unless a port ever needs replicas. */
  readonly expectedAccessMode: AccessMode;
  readonly vchannelFair: VChannelFairConfig;
}

/** A fresh {@link BalancePolicyConfig} with Milvus's defaults, optionally overridden. */
export function defaultBalancePolicyConfig(overrides: Partial<BalancePolicyConfig> = {}): BalancePolicyConfig {
  return Object.freeze({
    allowRebalance: true,
    minRebalanceIntervalMs: DEFAULT_MIN_REBALANCE_INTERVAL_MS,
    rebalanceRecoveryLagThresholdMs: DEFAULT_REBALANCE_RECOVERY_LAG_THRESHOLD_MS,
    expectedAccessMode: 'rw' as const,
    vchannelFair: DEFAULT_VCHANNEL_FAIR_CONFIG,
    ...overrides,
  });
}

/**
 * Checks a {@link VChannelFairConfig} as Milvus's `Validate` does: every value finite and ≥ 0, and
 * the step count an integer.
 *
 * @throws StreamingError INVAILD_ARGUMENT naming the bad field.
 */
export function validateVChannelFairConfig(cfg: VChannelFairConfig): void {
  for (const key of ['pchannelWeight', 'vchannelWeight', 'antiAffinityWeight', 'rebalanceTolerance', 'rebalanceMaxStep'] as const) {
    const v = cfg[key];
    if (!Number.isFinite(v) || v < 0) throw StreamingError.invalidArgument(`vchannelFair.${key}`, `must be a finite number >= 0, got ${v}`);
  }
  if (!Number.isInteger(cfg.rebalanceMaxStep)) {
    throw StreamingError.invalidArgument('vchannelFair.rebalanceMaxStep', `must be an integer, got ${cfg.rebalanceMaxStep}`);
  }
}
