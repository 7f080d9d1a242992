import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_VCHANNEL_FAIR_CONFIG,
  analyzeLayout,
  countMoves,
  pchannelCountFair,
  vchannelFair,
  type BalanceLayout,
  type BalancePolicyConfig,
  type BalanceResult,
  type LayoutChannel,
  type LayoutNode,
} from '../../../../../coord/balancer/policy/index.js';
import { NOW_MS, apply, assignmentsOf, countsPerNode, layout } from './layout-builders.js';

/** A server id no node has: channels placed there are on a gone node. */
const GONE = 99;
const NOW_S = Math.floor(NOW_MS / 1000);

const nodesArb: fc.Arbitrary<LayoutNode[]> = fc
  .uniqueArray(
    fc.record({ id: fc.integer({ min: 1, max: 12 }), frozen: fc.boolean(), stopping: fc.constantFrom(false, false, true) }),
    { minLength: 1, maxLength: 5, selector: (n) => n.id },
  )
  // At least one healthy node: the first one.
  .map((ns) => ns.map((n, i) => ({ serverId: BigInt(n.id), address: `a${n.id}`, frozen: i === 0 ? false : n.frozen, stopping: i === 0 ? false : n.stopping })));

function channelsArb(nodes: LayoutNode[], opts: { pinning: boolean }): fc.Arbitrary<LayoutChannel[]> {
  const where = fc.constantFrom<number | undefined>(undefined, GONE, ...nodes.map((n) => Number(n.serverId)));
  const one = fc.record({
    where,
    collections: fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 4 }),
    agoSeconds: opts.pinning ? fc.constantFrom(0, 10, 100_000) : fc.constant(-1),
    lagMs: opts.pinning ? fc.constantFrom(undefined, 0, 5_000) : fc.constant(undefined),
  });
  return fc.array(one, { maxLength: 14 }).map((cs) =>
    cs.map((c, i) => ({
      name: `ch_${String(i).padStart(2, '0')}`,
      term: 2n,
      node: c.where === undefined ? undefined : BigInt(c.where),
      lastAssignSeconds: c.agoSeconds < 0 ? 0n : BigInt(NOW_S - c.agoSeconds),
      vchannelCount: c.collections.length,
      collectionIds: c.collections.map(BigInt),
      recoveryLagMs: c.lagMs,
    })),
  );
}

function layoutArb(opts: { pinning: boolean; config?: fc.Arbitrary<Partial<BalancePolicyConfig>> }): fc.Arbitrary<BalanceLayout> {
  return nodesArb.chain((nodes) =>
    fc.tuple(channelsArb(nodes, opts), opts.config ?? fc.constant({})).map(([channels, config]) => layout(channels, nodes, config)),
  );
}

const configArb: fc.Arbitrary<Partial<BalancePolicyConfig>> = fc.record({
  allowRebalance: fc.boolean(),
  vchannelFair: fc.integer({ min: 0, max: 3 }).map((rebalanceMaxStep) => ({ ...DEFAULT_VCHANNEL_FAIR_CONFIG, rebalanceMaxStep })),
});

const healthyIds = (l: BalanceLayout): bigint[] => l.nodes.filter((n) => !n.frozen && !n.stopping).map((n) => n.serverId);

function expectOnlyHealthy(l: BalanceLayout, r: BalanceResult): void {
  const healthy = new Set(healthyIds(l));
  const a = assignmentsOf(r);
  expect(a.size).toBe(l.channels.length);
  for (const c of l.channels) expect(healthy.has(a.get(c.name)!.node.serverId)).toBe(true);
}

/** Placements that may not move (recent or lagging, or rebalance off) stay where they are. */
function expectPinnedStay(l: BalanceLayout, r: BalanceResult): void {
  const analyzed = analyzeLayout(l)!;
  const a = assignmentsOf(r);
  for (const [name, serverId] of analyzed.placed) {
    if (!analyzed.movable.has(name)) expect(a.get(name)!.node.serverId).toBe(serverId);
  }
}

describe('balance policy properties', () => {
  it.each([
    ['pchannelCountFair', pchannelCountFair],
    ['vchannelFair', vchannelFair],
  ] as const)('%s places every channel on a healthy node and never moves a pinned one', (_, policy) => {
    fc.assert(
      fc.property(layoutArb({ pinning: true, config: configArb }), (l) => {
        const r = policy(l);
        expectOnlyHealthy(l, r);
        expectPinnedStay(l, r);
        expect(policy(l)).toEqual(r); // deterministic
      }),
    );
  });

  it('pchannelCountFair: when fully free, ends with max − min ≤ 1 and moves the minimum', () => {
    fc.assert(
      fc.property(layoutArb({ pinning: false }), (l) => {
        const r = pchannelCountFair(l);
        const ids = healthyIds(l);
        const counts = [...countsPerNode(r, ids).values()];
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        // Optimal: every node above ⌊C/N⌋ sheds the surplus, and up to C mod N of them keep one extra.
        const analyzed = analyzeLayout(l)!;
        const avg = Math.floor(l.channels.length / ids.length);
        const current = ids.map((id) => [...analyzed.placed.values()].filter((s) => s === id).length);
        const over = current.filter((c) => c > avg);
        const optimal = over.reduce((s, c) => s + c - avg, 0) - Math.min(l.channels.length % ids.length, over.length);
        expect(countMoves(l, assignmentsOf(r))).toBe(optimal);
      }),
    );
  });

  it('pchannelCountFair is idempotent: re-running on its applied output moves nothing', () => {
    fc.assert(
      fc.property(layoutArb({ pinning: true, config: configArb }), (l) => {
        const r = pchannelCountFair(l);
        const next = apply(l, r);
        const again = pchannelCountFair(next);
        expect(countMoves(next, assignmentsOf(again))).toBe(0);
        expect(assignmentsOf(again)).toEqual(assignmentsOf(r));
      }),
    );
  });

  it('vchannelFair never moves more than rebalanceMaxStep placed channels per round', () => {
    fc.assert(
      fc.property(layoutArb({ pinning: true, config: configArb }), (l) => {
        const moves = countMoves(l, assignmentsOf(vchannelFair(l)));
        expect(moves).toBeLessThanOrEqual(l.config.allowRebalance ? l.config.vchannelFair.rebalanceMaxStep : 0);
      }),
    );
  });

  it('vchannelFair converges: applied round after round, it stops moving within a bounded number of rounds', () => {
    fc.assert(
      fc.property(layoutArb({ pinning: false, config: configArb }), (l) => {
        let current = l;
        for (let round = 0; round < 40; round++) {
          const r = vchannelFair(current);
          const next = apply(current, r);
          const unplaced = analyzeLayout(current)!.pending.length;
          if (countMoves(current, assignmentsOf(r)) === 0 && unplaced === 0) return;
          current = next;
        }
        expect.fail('vchannelFair did not converge within 40 rounds');
      }),
    );
  });
});
