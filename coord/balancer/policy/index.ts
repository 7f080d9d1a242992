/** The public surface of `coord/balancer/policy/`: pure balance policies and their inputs. */
export {
  analyzeLayout,
  compareIds,
  compareStrings,
  countMoves,
  mayMove,
} from './layout.js';
export type {
  AnalyzedLayout,
  BalanceLayout,
  BalancePolicy,
  BalanceResult,
  LayoutChannel,
  LayoutNode,
  PolicyAssignment,
} from './layout.js';
export {
  DEFAULT_MIN_REBALANCE_INTERVAL_MS,
  DEFAULT_REBALANCE_RECOVERY_LAG_THRESHOLD_MS,
  DEFAULT_VCHANNEL_FAIR_CONFIG,
  defaultBalancePolicyConfig,
  validateVChannelFairConfig,
} from './policy-config.js';
export type { BalancePolicyConfig, VChannelFairConfig } from './policy-config.js';
export { PCHANNEL_COUNT_FAIR, pchannelCountFair, pchannelCountFairPolicy } from './pchannel-count-fair.js';
export { VCHANNEL_FAIR, vchannelFair, vchannelFairPolicy } from './vchannel-fair.js';
export { FairScoreModel, pchannelAffinity } from './vchannel-fair-score.js';
export { DEFAULT_BALANCE_POLICY, balancePolicyNames, getBalancePolicy } from './policy-registry.js';
