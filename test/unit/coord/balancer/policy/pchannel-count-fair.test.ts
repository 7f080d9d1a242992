import { describe, expect, it } from 'vitest';
import { countMoves, pchannelCountFair } from '../../../../../coord/balancer/policy/index.js';
import { StreamingCode, StreamingError } from '../../../../../shared/index.js';
import { apply, assignmentsOf, channel, countsPerNode, layout, node, placement } from './layout-builders.js';

const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `c${i}`);

describe('pchannelCountFair (Milvus TestPChannelCountFair)', () => {
  it('without any healthy node answers noNode', () => {
    expect(pchannelCountFair(layout([channel('c0', 1)], []))).toEqual({ kind: 'noNode' });
    expect(pchannelCountFair(layout([channel('c0', 1)], [node(1, { frozen: true }), node(2, { stopping: true })]))).toEqual({ kind: 'noNode' });
  });

  it('with nodes and no channels gives an empty assignment', () => {
    expect(assignmentsOf(pchannelCountFair(layout([], [node(1)]))).size).toBe(0);
  });

  it('10 channels over 3 nodes end with 3–4 each, keeping existing placements where possible', () => {
    const channels = [
      ...['c0', 'c1', 'c2', 'c3', 'c4', 'c5'].map((n) => channel(n, 1)),
      channel('c6', 2),
      channel('c7', 2),
      channel('c8'),
      channel('c9'),
    ];
    const l = layout(channels, [node(1), node(2), node(3)]);
    const r = pchannelCountFair(l);
    expect(placement(r)).toEqual({ c0: 1, c1: 1, c2: 1, c3: 1, c4: 3, c5: 3, c6: 2, c7: 2, c8: 2, c9: 3 });
    expect([...countsPerNode(r, [1n, 2n, 3n]).values()]).toEqual([4, 3, 3]);
    // Only the two channels above node 1's quota move; placing c8/c9 is not a move.
    expect(countMoves(l, assignmentsOf(r))).toBe(2);
  });

  it('gives the +1 quotas to the nodes that hold the most, so nothing moves when already fair', () => {
    const l = layout([channel('a', 2), channel('b', 2), channel('c', 1), channel('d', 3)], [node(1), node(2), node(3)]);
    expect(countMoves(l, assignmentsOf(pchannelCountFair(l)))).toBe(0);
  });

  it('moves channels off frozen, stopping and gone nodes; frozen nodes get nothing', () => {
    const l = layout(
      [channel('a', 1), channel('b', 2), channel('c', 3), channel('d', 9), channel('e', 4)],
      [node(1, { frozen: true }), node(2, { stopping: true }), node(3), node(4)],
    );
    const p = placement(pchannelCountFair(l));
    expect(Object.values(p).every((id) => id === 3 || id === 4)).toBe(true);
    expect(p.c).toBe(3);
    expect(p.e).toBe(4);
  });

  it('with allowRebalance=false only places lost or unassigned channels', () => {
    const l = layout(
      [channel('a', 1), channel('b', 1), channel('c', 1), channel('d', 9), channel('e')],
      [node(1), node(2)],
      { allowRebalance: false },
    );
    expect(placement(pchannelCountFair(l))).toEqual({ a: 1, b: 1, c: 1, d: 2, e: 2 });
  });

  it('does not move a channel assigned within the minimum interval, unless its node is unusable', () => {
    const recent = { assignedAgoSeconds: 60 };
    const l = layout(
      [channel('a', 1, recent), channel('b', 1, recent), channel('c', 1, recent), channel('d', 1, recent), channel('e', 9, recent)],
      [node(1), node(2)],
    );
    const p = placement(pchannelCountFair(l));
    expect(p).toEqual({ a: 1, b: 1, c: 1, d: 1, e: 2 });
    // Once the interval has passed, the node evens out.
    const later = layout(l.channels.map((c) => ({ ...c, lastAssignSeconds: 0n })), l.nodes);
    expect([...countsPerNode(pchannelCountFair(later), [1n, 2n]).values()]).toEqual([3, 2]);
  });

  it('does not move a channel whose WAL recovery lag is above the threshold', () => {
    const lagging = { recoveryLagMs: 10_000 };
    const l = layout([channel('a', 1, lagging), channel('b', 1, lagging), channel('c', 1, lagging), channel('d', 2)], [node(1), node(2)]);
    expect(placement(pchannelCountFair(l))).toEqual({ a: 1, b: 1, c: 1, d: 2 });
    const caughtUp = layout(l.channels.map((c) => ({ ...c, recoveryLagMs: 0 })), l.nodes);
    expect([...countsPerNode(pchannelCountFair(caughtUp), [1n, 2n]).values()]).toEqual([2, 2]);
  });

  it('is deterministic whatever the input order, and idempotent once applied', () => {
    const channels = names(11).map((n, i) => channel(n, i % 2 === 0 ? 1 : undefined));
    const nodes = [node(3), node(1), node(2)];
    const a = pchannelCountFair(layout(channels, nodes));
    const b = pchannelCountFair(layout([...channels].reverse(), [...nodes].reverse()));
    expect(placement(a)).toEqual(placement(b));
    const applied = apply(layout(channels, nodes), a);
    expect(countMoves(applied, assignmentsOf(pchannelCountFair(applied)))).toBe(0);
  });

  it('uses the configured access mode and the node addresses', () => {
    const r = assignmentsOf(pchannelCountFair(layout([channel('a')], [node(5)], { expectedAccessMode: 'ro' })));
    expect(r.get('a')).toEqual({ node: { serverId: 5n, address: '10.0.0.5:22222' }, accessMode: 'ro' });
  });

  it('rejects duplicate channels or nodes', () => {
    const dupChannel = (): unknown => pchannelCountFair(layout([channel('a'), channel('a')], [node(1)]));
    const dupNode = (): unknown => pchannelCountFair(layout([channel('a')], [node(1), node(1)]));
    for (const f of [dupChannel, dupNode]) {
      expect(f).toThrow(StreamingError);
      try {
        f();
      } catch (e) {
        expect((e as StreamingError).code).toBe(StreamingCode.INVAILD_ARGUMENT);
      }
    }
  });
});
