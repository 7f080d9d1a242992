/**
 * `vchannelFair`, the default policy (Milvus `policy/vchannelfair`, reference `milvus-coord.md`
 * §3.5): balance a score that mixes pchannel count, vchannel count and collection anti-affinity
 * per node (see `vchannel-fair-score.ts`).
 *
 * 1. Keep every channel that is ASSIGNED on a healthy node.
 * 2. Place the others (lost, new, on gone/frozen/stopping nodes) by vchannel count descending, ties
 *    by name, each on the node giving the lowest score (ties: lowest server id).
 * 3. If rebalancing is allowed: up to `rebalanceMaxStep` times, take out the channel whose removal
 *    lowers the score most, among channels placed in step 2 and placements that may move (minimum
 *    interval elapsed, no recovery lag); then try every node for each taken-out channel (DFS,
 *    nodes^steps leaves) and keep the best layout only if it beats step 2's by more than
 *    `rebalanceTolerance`. So at most `rebalanceMaxStep` placements move per round, and every
 *    accepted round lowers the score by more than the tolerance: rounds converge.
 */
import {
  analyzeLayout,
  compareStrings,
  toResult,
  type BalanceLayout,
  type BalancePolicy,
  type BalanceResult,
  type LayoutChannel,
} from './layout.js';
import { validateVChannelFairConfig } from './policy-config.js';
import { FairScoreModel } from './vchannel-fair-score.js';

/** Registry name of {@link vchannelFair} (Milvus's name). */
export const VCHANNEL_FAIR = 'vchannelFair';

/**
 * Scores closer than this are equal: float noise must not decide a tie, which the deterministic
 * tie-breaks (lowest server id, first name) decide instead.
 */
const SCORE_EPSILON = 1e-9;

/** Balances by the vchannelFair score; see the module comment. */
export function vchannelFair(layout: BalanceLayout): BalanceResult {
  const analyzed = analyzeLayout(layout);
  if (analyzed === undefined) return { kind: 'noNode' };
  const cfg = layout.config.vchannelFair;
  validateVChannelFairConfig(cfg);

  const nodeIds = analyzed.healthy.map((n) => n.serverId);
  const model = new FairScoreModel(analyzed.channels, nodeIds, cfg);
  for (const [name, serverId] of analyzed.placed) model.assign(name, serverId);
  placeIncoming(model, nodeIds, analyzed.pending);

  const names = analyzed.channels.map((c) => c.name);
  const snapshot = placementsOf(model, names);
  const snapshotScore = model.score();
  if (!layout.config.allowRebalance || cfg.rebalanceMaxStep === 0) return toResult(layout, analyzed, snapshot);

  // Channels placed in step 2 are moving anyway; placements may only move when allowed.
  const candidates = names.filter((n) => analyzed.movable.has(n) || !analyzed.placed.has(n));
  const removed = takeOut(model, candidates, cfg.rebalanceMaxStep);
  const found = { score: snapshotScore, placements: snapshot };
  search(model, nodeIds, removed, 0, names, found);
  const chosen = found.score < snapshotScore - cfg.rebalanceTolerance ? found.placements : snapshot;
  return toResult(layout, analyzed, chosen);
}

/** The {@link BalancePolicy} object of {@link vchannelFair}. */
export const vchannelFairPolicy: BalancePolicy = Object.freeze({ name: VCHANNEL_FAIR, balance: vchannelFair });

/** Step 2: vchannel count descending, ties by name; each on the lowest-score node, ties to the lowest id. */
function placeIncoming(model: FairScoreModel, nodeIds: readonly bigint[], pending: readonly LayoutChannel[]): void {
  const incoming = [...pending].sort((a, b) => b.vchannelCount - a.vchannelCount || compareStrings(a.name, b.name));
  for (const c of incoming) {
    let target = nodeIds[0] ?? 0n;
    let best = Infinity;
    for (const id of nodeIds) {
      const score = model.tryAssignScore(c.name, id);
      if (score < best - SCORE_EPSILON) {
        best = score;
        target = id;
      }
    }
    model.assign(c.name, target);
  }
}

/** Step 3: unassigns up to `maxStep` candidates, each time the one whose removal lowers the score most. */
function takeOut(model: FairScoreModel, candidates: readonly string[], maxStep: number): string[] {
  const removed: string[] = [];
  for (let step = 0; step < maxStep; step++) {
    let pick: string | undefined;
    let best = Infinity;
    for (const name of candidates) {
      if (model.nodeOf(name) === undefined) continue;
      const score = model.tryUnassignScore(name);
      if (score < best - SCORE_EPSILON) {
        best = score;
        pick = name;
      }
    }
    if (pick === undefined) break;
    model.unassign(pick);
    removed.push(pick);
  }
  return removed;
}

/** Tries every node for `removed[depth..]`, keeping the first strictly best layout in `found`. */
function search(
  model: FairScoreModel,
  nodeIds: readonly bigint[],
  removed: readonly string[],
  depth: number,
  names: readonly string[],
  found: { score: number; placements: Map<string, bigint> },
): void {
  const name = removed[depth];
  if (name === undefined) {
    const score = model.score();
    if (score < found.score - SCORE_EPSILON) {
      found.score = score;
      found.placements = placementsOf(model, names);
    }
    return;
  }
  for (const id of nodeIds) {
    model.assign(name, id);
    search(model, nodeIds, removed, depth + 1, names, found);
    model.unassign(name);
  }
}

function placementsOf(model: FairScoreModel, names: readonly string[]): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const name of names) {
    const id = model.nodeOf(name);
    if (id !== undefined) out.set(name, id);
  }
  return out;
}
