import { describe, expect, it } from 'vitest';
import {
  DEFAULT_VCHANNEL_FAIR_CONFIG,
  VCHANNEL_FAIR,
  balancePolicyNames,
  countMoves,
  getBalancePolicy,
  pchannelAffinity,
  vchannelFair,
  type LayoutChannel,
} from '../../../../../coord/balancer/policy/index.js';
import { StreamingCode, StreamingError } from '../../../../../shared/index.js';
import { apply, assignmentsOf, channel, countsPerNode, layout, node, placement } from './layout-builders.js';

/** Milvus's vchannelFair test layout: c1/c3 share collections 1 and 2, c5 has 3 vchannels of its own. */
function milvusChannels(placed: Record<string, number | undefined>): LayoutChannel[] {
  const collections: Record<string, number[]> = { c1: [1, 2], c3: [1, 2, 3], c5: [4, 5, 6] };
  return Object.entries(placed).map(([name, onNode]) => channel(name, onNode, { collections: collections[name] ?? [] }));
}

const partial = { c1: 2, c3: 2, c4: 2, c2: 3, c5: 3, c6: 3, c7: 3, c8: undefined, c9: undefined, c10: undefined };
const none = Object.fromEntries(Object.keys(partial).map((k) => [k, undefined]));

function expectCode(f: () => unknown, code: StreamingCode): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(StreamingError);
  expect((err as StreamingError).code).toBe(code);
}

describe('vchannelFair (Milvus TestVChannelFairPolicy)', () => {
  it('is registered as the default under Milvus’s name; unknown names are rejected', () => {
    expect(getBalancePolicy().name).toBe('vchannelFair');
    expect(VCHANNEL_FAIR).toBe('vchannelFair');
    expect(balancePolicyNames()).toEqual(['vchannelFair', 'pchannelCountFair']);
    expect(getBalancePolicy('pchannelCountFair').name).toBe('pchannelCountFair');
    expectCode(() => getBalancePolicy('roundRobin'), StreamingCode.INVAILD_ARGUMENT);
  });

  it('answers noNode for an empty layout or one without healthy nodes', () => {
    expect(vchannelFair(layout([], []))).toEqual({ kind: 'noNode' });
    expect(vchannelFair(layout([channel('a', 1)], [node(1, { frozen: true })]))).toEqual({ kind: 'noNode' });
  });

  it('over 2 nodes assigns all 10 channels and separates c1 from c3', () => {
    const p = placement(vchannelFair(layout(milvusChannels(partial), [node(2), node(3)])));
    expect(Object.keys(p)).toHaveLength(10);
    expect(p.c1).not.toBe(p.c3);
  });

  it.each([
    ['partially placed', partial],
    ['all unassigned', none],
  ])('over 3 nodes (%s) puts c1, c3 and c5 on pairwise different nodes', (_, placed) => {
    const p = placement(vchannelFair(layout(milvusChannels(placed), [node(1), node(2), node(3)])));
    expect(Object.keys(p)).toHaveLength(10);
    expect(new Set([p.c1, p.c3, p.c5]).size).toBe(3);
  });

  it('moves at most rebalanceMaxStep placed channels per round and converges to an even spread', () => {
    const names = Array.from({ length: 12 }, (_, i) => `c${String(i).padStart(2, '0')}`);
    let l = layout(names.map((n) => channel(n, 1, { vchannels: 1 })), [node(1), node(2), node(3), node(4)]);
    let rounds = 0;
    for (;;) {
      const r = vchannelFair(l);
      const moves = countMoves(l, assignmentsOf(r));
      expect(moves).toBeLessThanOrEqual(DEFAULT_VCHANNEL_FAIR_CONFIG.rebalanceMaxStep);
      if (moves === 0) break;
      l = apply(l, r);
      rounds++;
      expect(rounds).toBeLessThan(20);
    }
    expect(rounds).toBe(3); // 9 channels must leave node 1, 3 per round
    expect([...countsPerNode(vchannelFair(l), [1n, 2n, 3n, 4n]).values()]).toEqual([3, 3, 3, 3]);
  });

  it('balances vchannels, not only pchannels', () => {
    // Two heavy and two empty pchannels over two nodes: one heavy one per node.
    const l = layout(
      [channel('h1', 1, { vchannels: 8 }), channel('h2', 1, { vchannels: 8 }), channel('e1', 2), channel('e2', 2)],
      [node(1), node(2)],
    );
    const p = placement(vchannelFair(l));
    expect(p.h1).not.toBe(p.h2);
    expect(p.e1).not.toBe(p.e2);
  });

  it('with allowRebalance=false only places lost or unassigned channels', () => {
    const l = layout(
      [channel('a', 1, { vchannels: 3 }), channel('b', 1, { vchannels: 3 }), channel('c', 1), channel('d', 9), channel('e')],
      [node(1), node(2)],
      { allowRebalance: false },
    );
    const r = vchannelFair(l);
    expect(countMoves(l, assignmentsOf(r))).toBe(0);
    expect(placement(r)).toMatchObject({ a: 1, b: 1, c: 1, d: 2, e: 2 });
  });

  it('moves channels off frozen, stopping and gone nodes and places nothing on them', () => {
    const l = layout(
      [channel('a', 1), channel('b', 2), channel('c', 3, { assignedAgoSeconds: 1 }), channel('d', 9, { assignedAgoSeconds: 1 })],
      [node(1, { frozen: true }), node(2, { stopping: true }), node(3), node(4)],
    );
    const p = placement(vchannelFair(l));
    expect(Object.values(p).every((id) => id === 3 || id === 4)).toBe(true);
    expect(p.c).toBe(3); // recent, on a healthy node: stays
  });

  it('does not move channels assigned within the minimum interval or with recovery lag', () => {
    const nodes = [node(1), node(2)];
    const recent = layout(['a', 'b', 'c', 'd'].map((n) => channel(n, 1, { vchannels: 1, assignedAgoSeconds: 10 })), nodes);
    expect(countMoves(recent, assignmentsOf(vchannelFair(recent)))).toBe(0);
    const lagging = layout(['a', 'b', 'c', 'd'].map((n) => channel(n, 1, { vchannels: 1, recoveryLagMs: 10_000 })), nodes);
    expect(countMoves(lagging, assignmentsOf(vchannelFair(lagging)))).toBe(0);
    const free = layout(['a', 'b', 'c', 'd'].map((n) => channel(n, 1, { vchannels: 1 })), nodes);
    expect([...countsPerNode(vchannelFair(free), [1n, 2n]).values()]).toEqual([2, 2]);
  });

  it('ignores improvements smaller than the tolerance', () => {
    const channels = ['a', 'b', 'c'].map((n) => channel(n, 1, { vchannels: 1 }));
    const strict = layout(channels, [node(1), node(2)], { vchannelFair: { ...DEFAULT_VCHANNEL_FAIR_CONFIG, rebalanceTolerance: 100 } });
    expect(countMoves(strict, assignmentsOf(vchannelFair(strict)))).toBe(0);
    const loose = layout(channels, [node(1), node(2)]);
    expect(countMoves(loose, assignmentsOf(vchannelFair(loose)))).toBe(1);
  });

  it('is deterministic whatever the input order (ties go to the lowest server id)', () => {
    const channels = ['x', 'y', 'z'].map((n) => channel(n));
    const nodes = [node(3), node(1), node(2)];
    const a = placement(vchannelFair(layout(channels, nodes)));
    const b = placement(vchannelFair(layout([...channels].reverse(), [...nodes].reverse())));
    expect(a).toEqual(b);
    expect(placement(vchannelFair(layout([channel('only')], nodes)))).toEqual({ only: 1 });
  });

  it('rejects a negative weight or a fractional step count', () => {
    const bad = (over: Partial<typeof DEFAULT_VCHANNEL_FAIR_CONFIG>): unknown =>
      vchannelFair(layout([channel('a')], [node(1)], { vchannelFair: { ...DEFAULT_VCHANNEL_FAIR_CONFIG, ...over } }));
    expectCode(() => bad({ vchannelWeight: -1 }), StreamingCode.INVAILD_ARGUMENT);
    expectCode(() => bad({ rebalanceMaxStep: 1.5 }), StreamingCode.INVAILD_ARGUMENT);
  });
});

describe('pchannel affinity (Milvus pchannelAffinity)', () => {
  it('is 1 without shared collections, lower the more they share', () => {
    expect(pchannelAffinity([], [])).toBe(1);
    expect(pchannelAffinity([1n, 2n], [3n])).toBe(1);
    expect(pchannelAffinity([1n, 2n], [1n, 2n, 3n])).toBeCloseTo(-1 / 3);
    expect(pchannelAffinity([1n], [1n])).toBe(-1);
  });
});
