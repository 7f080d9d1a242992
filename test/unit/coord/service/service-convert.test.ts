/**
 * The pure edges of the coordinator services: the discovery snapshot (idle nodes, a gone node
 * still holding channels, order, exact int64s on the wire), node listing states, the WAL
 * distribution, and the UpdateWALBalancePolicy request conversion (mask absent vs empty).
 */
import { describe, expect, it } from 'vitest';
import { PChannelMetaState, type PChannelMeta, type StreamingNodeInfo } from '../../../../coord/catalog/index.js';
import { assignToServerDone, makeSnapshot, newPChannelMeta, tryAssignToServerId, versionPair } from '../../../../coord/channel/index.js';
import type { NodeView } from '../../../../coord/discovery/index.js';
import {
  balancePolicyStateToProto,
  balancePolicyUpdateFromProto,
  buildFullAssignment,
  distributionToProto,
  fullAssignmentToProto,
  listNodes,
} from '../../../../coord/service/index.js';
import { StreamingCode, StreamingError, protoTypes } from '../../../../shared/index.js';
import type { ProtoOutput } from '../../../../shared/index.js';

const BIG = (1n << 62n) + 3n; // beyond 2^53: a Number would round it

function node(id: bigint): StreamingNodeInfo {
  return { serverId: id, address: `10.0.0.${id % 250n}:22222` };
}

function assigned(name: string, n: StreamingNodeInfo, nowSeconds = 1_700_000_000n): PChannelMeta {
  return assignToServerDone(tryAssignToServerId(newPChannelMeta(name, 'rw'), 'rw', n).meta, nowSeconds).meta;
}

function view(...nodes: { id: bigint; stopping?: boolean }[]): NodeView {
  return { revision: 1, nodes: new Map(nodes.map((n) => [n.id, { serverId: n.id, address: node(n.id).address, stopping: n.stopping ?? false }])) };
}

describe('buildFullAssignment', () => {
  it('lists every live node (idle ones with no channels) and keeps a gone node that still holds channels', () => {
    const snapshot = makeSnapshot(versionPair(BIG, 7n), 'ch_0', [
      assigned('ch_1', node(3n)),
      assigned('ch_0', node(3n)),
      assigned('ch_2', node(9n)), // node 9 left the session view
      tryAssignToServerId(newPChannelMeta('ch_3', 'rw'), 'rw', node(1n)).meta, // ASSIGNING: not listed
      newPChannelMeta('ch_4', 'rw'),
    ]);
    const full = buildFullAssignment(snapshot, view({ id: 3n }, { id: 1n }, { id: 5n, stopping: true }), 1n);
    expect(full.nodes.map((n) => [n.node.serverId, n.channels.map((c) => c.name)])).toEqual([
      [1n, []],
      [3n, ['ch_0', 'ch_1']],
      [5n, []],
      [9n, ['ch_2']],
    ]);
    expect(full.version).toEqual({ global: BIG, local: 7n });
  });

  it('encodes int64s as exact decimal strings that survive the wire', () => {
    const snapshot = makeSnapshot(versionPair(BIG, BIG + 1n), 'ch_0', [assigned('ch_0', node(BIG))]);
    const proto = fullAssignmentToProto(buildFullAssignment(snapshot, view({ id: BIG }), 1n));
    const bytes = protoTypes.streaming.AssignmentDiscoverResponse.encode(proto);
    const decoded = protoTypes.streaming.AssignmentDiscoverResponse.decode(bytes) as ProtoOutput<'milvus.proto.streaming.AssignmentDiscoverResponse'>;
    const full = decoded.full_assignment!;
    expect(full.version).toEqual({ global: BIG.toString(), local: (BIG + 1n).toString() });
    expect(full.assignments[0]!.node!.server_id).toBe(BIG.toString());
    expect(full.assignments[0]!.channels).toEqual([{ name: 'ch_0', term: '2', access_mode: 'PCHANNEL_ACCESS_READWRITE' }]);
    expect(full.cchannel).toEqual({ meta: { pchannel: 'ch_0' } });
    expect(full.streaming_version).toEqual({ version: '1' });
  });
});

describe('listNodes', () => {
  it('marks stopping over frozen over online and lists ASSIGNED channels', () => {
    const snapshot = makeSnapshot(versionPair(1n, 1n), 'ch_0', [assigned('ch_0', node(1n)), assigned('ch_1', node(2n))]);
    const assignments = { version: snapshot.version, cchannel: 'ch_0', nodes: [{ node: node(1n), channels: [snapshot.channels.get('ch_0')!.channel] }, { node: node(2n), channels: [snapshot.channels.get('ch_1')!.channel] }] };
    const listed = listNodes(view({ id: 4n, stopping: true }, { id: 2n }, { id: 1n }, { id: 3n }), assignments, [2n, 4n]);
    expect(listed.map((n) => [n.serverId, n.state, n.channels.map((c) => `${c.name}@${c.term}`)])).toEqual([
      [1n, 'online', ['ch_0@2']],
      [2n, 'frozen', ['ch_1@2']],
      [3n, 'online', []],
      [4n, 'stopping', []],
    ]);
  });
});

describe('distributionToProto', () => {
  it('reports every pchannel, with no node until its first assignment', () => {
    const unavailable: PChannelMeta = { ...assigned('ch_1', node(2n), 42n), state: PChannelMetaState.UNAVAILABLE };
    const d = distributionToProto(makeSnapshot(versionPair(5n, 9n), 'ch_0', [newPChannelMeta('ch_0', 'ro'), unavailable]));
    expect(d).toEqual({
      version: { global: '5', local: '9' },
      pchannels: [
        { pchannel: 'ch_0', node: null, term: '1', state: 'PCHANNEL_META_STATE_UNINITIALIZED', access_mode: 'PCHANNEL_ACCESS_READONLY', last_assign_timestamp_seconds: '0' },
        {
          pchannel: 'ch_1',
          node: { server_id: '2', address: '10.0.0.2:22222' },
          term: '2',
          state: 'PCHANNEL_META_STATE_UNAVAILABLE',
          access_mode: 'PCHANNEL_ACCESS_READWRITE',
          last_assign_timestamp_seconds: '42',
        },
      ],
    });
  });
});

describe('UpdateWALBalancePolicy conversion', () => {
  type Req = ProtoOutput<'milvus.proto.streaming.UpdateWALBalancePolicyRequest'>;
  const req = (r: Partial<Req>): Req => ({ config: null, nodes: null, update_mask: null, ...r });

  it('keeps an absent mask absent and an empty mask empty', () => {
    expect(balancePolicyUpdateFromProto(req({}))).toEqual({ freezeNodeIds: [], defreezeNodeIds: [] });
    expect(balancePolicyUpdateFromProto(req({ config: { allow_rebalance: true }, update_mask: { paths: [] } }))).toEqual({
      allowRebalance: true,
      freezeNodeIds: [],
      defreezeNodeIds: [],
      updateMask: [],
    });
    expect(
      balancePolicyUpdateFromProto(req({ nodes: { freeze_node_ids: [BIG.toString()], defreeze_node_ids: ['2'] }, update_mask: { paths: ['config.allow_rebalance'] } })),
    ).toEqual({ freezeNodeIds: [BIG], defreezeNodeIds: [2n], updateMask: ['config.allow_rebalance'] });
  });

  it('names a malformed node id', () => {
    const e = (() => {
      try {
        balancePolicyUpdateFromProto(req({ nodes: { freeze_node_ids: ['1', 'x'], defreeze_node_ids: [] } }));
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(StreamingError);
    expect((e as StreamingError).code).toBe(StreamingCode.INVAILD_ARGUMENT);
    expect((e as StreamingError).message).toContain('nodes.freeze_node_ids[1]');
  });

  it('answers with the settings in force', () => {
    expect(balancePolicyStateToProto({ allowRebalance: false, frozenNodeIds: [1n, BIG] })).toEqual({
      config: { allow_rebalance: false },
      freeze_node_ids: ['1', BIG.toString()],
    });
  });
});
