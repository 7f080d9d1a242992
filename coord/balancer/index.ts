/**
 * The public surface of `coord/balancer/`: the balancer loop, its options and runtime policy
 * settings, and (re-exported) the pure balance policies of `policy/`.
 */
export { Balancer } from './balancer.js';
export {
  DEFAULT_APPLY_CONCURRENCY,
  DEFAULT_BALANCER_BACKOFF,
  DEFAULT_COLLECT_STATUS_TIMEOUT_MS,
  DEFAULT_MAX_PASSES_PER_ROUND,
  DEFAULT_OPERATION_TIMEOUT_MS,
  resolveBalancerOptions,
} from './balancer-options.js';
export type { BalancerOptions, ResolvedBalancerOptions, VChannelStats, VChannelStatsProvider } from './balancer-options.js';
export { UPDATE_MASK_ALLOW_REBALANCE } from './balance-settings.js';
export type { BalancePolicyState, BalancePolicyUpdate } from './balance-settings.js';
export type { RoundOutcome, TriggerReason } from './balance-triggers.js';
export { formatMove } from './balance-layout.js';
export * from './policy/index.js';
