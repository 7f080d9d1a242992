/**
 * Balance policies by name (Milvus `policy_registry.go`). Milvus 2.6 registers only `vchannelFair`;
 * we also register `pchannelCountFair`, which 2.6 keeps as code but not in its registry.
 */
import { StreamingError } from '../../../shared/index.js';
import type { BalancePolicy } from './layout.js';
import { pchannelCountFairPolicy } from './pchannel-count-fair.js';
import { VCHANNEL_FAIR, vchannelFairPolicy } from './vchannel-fair.js';

/** Milvus `streaming.walBalancer.balancePolicy.name` default. */
export const DEFAULT_BALANCE_POLICY = VCHANNEL_FAIR;

const POLICIES: ReadonlyMap<string, BalancePolicy> = new Map([
  [vchannelFairPolicy.name, vchannelFairPolicy],
  [pchannelCountFairPolicy.name, pchannelCountFairPolicy],
]);

/** Names of every registered policy, default first. */
export function balancePolicyNames(): string[] {
  return [...POLICIES.keys()];
}

/**
 * The policy registered as `name` (default {@link DEFAULT_BALANCE_POLICY}).
 *
 * @throws StreamingError INVAILD_ARGUMENT for an unknown name (Milvus panics at startup instead).
 */
export function getBalancePolicy(name: string = DEFAULT_BALANCE_POLICY): BalancePolicy {
  const policy = POLICIES.get(name);
  if (policy === undefined) {
    throw StreamingError.invalidArgument('balancePolicy.name', `unknown policy ${JSON.stringify(name)}; known: ${balancePolicyNames().join(', ')}`);
  }
  return policy;
}
