/**
 * `pchannelCountFair` (Milvus's legacy `pchannel_count_fair`, reference `milvus-coord.md` §3.5):
 * every healthy node ends with ⌊C/N⌋ or ⌊C/N⌋+1 pchannels, and as many current placements as
 * possible are kept.
 *
 * Quotas: ⌊C/N⌋ each, and the C mod N "+1" quotas go to the nodes holding the most channels now
 * (ties by server id), because only a node above ⌊C/N⌋ saves a move by getting the extra one.
 * Each node keeps its pinned channels (not movable: rebalance off, moved recently, lagging), then
 * its other channels by name up to its quota; the rest, with every lost or new channel, go by name
 * to the node with the largest remaining deficit (ties: fewest channels, then lowest server id).
 */
import {
  analyzeLayout,
  compareIds,
  compareStrings,
  toResult,
  type AnalyzedLayout,
  type BalanceLayout,
  type BalancePolicy,
  type BalanceResult,
  type LayoutChannel,
} from './layout.js';

/** Registry name of {@link pchannelCountFair}. */
export const PCHANNEL_COUNT_FAIR = 'pchannelCountFair';

/** Balances pchannel counts per node; see the module comment. */
export function pchannelCountFair(layout: BalanceLayout): BalanceResult {
  const analyzed = analyzeLayout(layout);
  if (analyzed === undefined) return { kind: 'noNode' };

  const quota = quotas(analyzed);
  const count = new Map<bigint, number>(analyzed.healthy.map((n) => [n.serverId, 0]));
  const placements = new Map<string, bigint>();
  const pending: LayoutChannel[] = [...analyzed.pending];

  for (const node of analyzed.healthy) {
    const mine = analyzed.channels.filter((c) => analyzed.placed.get(c.name) === node.serverId);
    const pinned = mine.filter((c) => !analyzed.movable.has(c.name));
    const free = mine.filter((c) => analyzed.movable.has(c.name));
    let kept = 0;
    for (const c of pinned) {
      placements.set(c.name, node.serverId);
      kept++;
    }
    for (const c of free) {
      if (kept < (quota.get(node.serverId) ?? 0)) {
        placements.set(c.name, node.serverId);
        kept++;
      } else {
        pending.push(c);
      }
    }
    count.set(node.serverId, kept);
  }

  pending.sort((a, b) => compareStrings(a.name, b.name));
  for (const c of pending) {
    const target = pickTarget(analyzed, quota, count);
    placements.set(c.name, target);
    count.set(target, (count.get(target) ?? 0) + 1);
  }
  return toResult(layout, analyzed, placements);
}

/** The {@link BalancePolicy} object of {@link pchannelCountFair}. */
export const pchannelCountFairPolicy: BalancePolicy = Object.freeze({ name: PCHANNEL_COUNT_FAIR, balance: pchannelCountFair });

function quotas(analyzed: AnalyzedLayout): Map<bigint, number> {
  const total = analyzed.channels.length;
  const n = analyzed.healthy.length;
  const avg = Math.floor(total / n);
  let extra = total % n;
  const current = new Map<bigint, number>(analyzed.healthy.map((node) => [node.serverId, 0]));
  for (const serverId of analyzed.placed.values()) current.set(serverId, (current.get(serverId) ?? 0) + 1);
  const order = [...analyzed.healthy].sort(
    (a, b) => (current.get(b.serverId) ?? 0) - (current.get(a.serverId) ?? 0) || compareIds(a.serverId, b.serverId),
  );
  const quota = new Map<bigint, number>();
  for (const node of order) {
    quota.set(node.serverId, avg + (extra > 0 ? 1 : 0));
    if (extra > 0) extra--;
  }
  return quota;
}

function pickTarget(analyzed: AnalyzedLayout, quota: ReadonlyMap<bigint, number>, count: ReadonlyMap<bigint, number>): bigint {
  let best: bigint | undefined;
  let bestDeficit = -Infinity;
  let bestCount = Infinity;
  // healthy is in server-id order, so strict comparisons leave ties with the lowest id.
  for (const node of analyzed.healthy) {
    const c = count.get(node.serverId) ?? 0;
    const deficit = (quota.get(node.serverId) ?? 0) - c;
    if (deficit > bestDeficit || (deficit === bestDeficit && c < bestCount)) {
      best = node.serverId;
      bestDeficit = deficit;
      bestCount = c;
    }
  }
  // analyzeLayout guarantees at least one healthy node.
  return best ?? analyzed.healthy[0]!.serverId;
}
