/** The policy input built from channel metas and node status, and the compact move log form. */
import { describe, expect, it } from 'vitest';
import { buildBalanceLayout, formatMove } from '../../../../coord/balancer/balance-layout.js';
import { defaultBalancePolicyConfig } from '../../../../coord/balancer/index.js';
import { layoutOf, makeSnapshot, newPChannelMeta, tryAssignToServerId, versionPair } from '../../../../coord/channel/index.js';
import { assignedMeta } from '../channel/manager-fixtures.js';

const A = { serverId: 1n, address: '10.0.0.1:22222' };
const B = { serverId: 2n, address: '10.0.0.2:22222' };

describe('buildBalanceLayout', () => {
  it('places only ASSIGNED channels, merges vchannel stats, and keeps only the owner-at-term lag', () => {
    const assigned = assignedMeta('p0', A, 3n);
    const assigning = tryAssignToServerId(assignedMeta('p1', A, 2n), 'rw', B).meta;
    const fresh = newPChannelMeta('p2', 'rw');
    const staleLag = assignedMeta('p3', B, 4n);
    const view = layoutOf(makeSnapshot(versionPair(1n, 0n), 'p0', [assigned, assigning, fresh, staleLag]));
    const layout = buildBalanceLayout({
      view,
      collected: {
        nodes: [{ serverId: 1n, address: A.address, frozen: false, stopping: false }],
        lags: new Map([
          ['p0', { serverId: 1n, term: 3n, lagMs: 2_500 }],
          ['p3', { serverId: 2n, term: 3n, lagMs: 9_000 }], // an older term's report
        ]),
        failed: new Map(),
      },
      config: defaultBalancePolicyConfig(),
      vchannelStats: (name) => (name === 'p0' ? { count: 2, collectionIds: [7n, 8n] } : undefined),
      nowMs: 42,
    });
    expect(layout.channels.map((c) => [c.name, c.node, c.term, c.vchannelCount, c.recoveryLagMs])).toEqual([
      ['p0', 1n, 3n, 2, 2_500],
      ['p1', undefined, 3n, 0, undefined],
      ['p2', undefined, 1n, 0, undefined],
      ['p3', 2n, 4n, 0, undefined],
    ]);
    expect(layout.channels[0]?.collectionIds).toEqual([7n, 8n]);
    expect(layout.nowMs).toBe(42);
  });
});

describe('formatMove', () => {
  it('prints the target as name:mode@term>serverId@address, then each assignment still to remove', () => {
    const meta = tryAssignToServerId(tryAssignToServerId(assignedMeta('p1', A, 2n), 'rw', B).meta, 'rw', A).meta;
    expect(formatMove(meta)).toBe('p1:rw@4>1@10.0.0.1:22222 <rw@2>1@10.0.0.1:22222 <rw@3>2@10.0.0.2:22222');
  });
});
