/**
 * The coordinator's unary RPCs over real grpc-js on loopback (raw generated clients):
 * UpdateWALBalancePolicy field-mask semantics, the UNIMPLEMENTED placeholders, the TSO, vchannel
 * allocation / drop / listing, ListNodes and GetWALDistribution over a real ChannelManager and a
 * fake node registry, TriggerBalance, GetActiveCoordinator, and standby mode on every RPC.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { ACTIVE_COORDINATOR_METADATA_KEY } from '../../coord/service/index.js';
import { LOGICAL_COUNT, StreamingCode, fromServiceError } from '../../shared/index.js';
import type { ProtoInputOf, ProtoOutput } from '../../shared/index.js';
import { placed } from '../unit/coord/balancer/fakes/balancer-harness.js';
import { type ServicesFixture, startServices, unary } from '../unit/coord/service/fixtures/services-fixture.js';

let f: ServicesFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

/** The gRPC error of a call that must fail. */
async function failure(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (e) {
    return e as grpc.ServiceError;
  }
  throw new Error('expected the call to fail');
}

describe('UpdateWALBalancePolicy (Milvus field-mask semantics)', () => {
  it('applies allow_rebalance without a mask, only listed paths with one, and freeze/defreeze always', async () => {
    f = await startServices({ channelCount: 2, nodes: [1, 2] });
    const update = (req: ProtoInputOf<'milvus.proto.streaming.UpdateWALBalancePolicyRequest'>) =>
      unary<{ config: { allow_rebalance: boolean } | null; freeze_node_ids: string[] }>((cb) => f!.assignment.UpdateWALBalancePolicy(req, cb));

    // No mask: allow_rebalance is always set from config; freeze applies.
    expect(await update({ config: { allow_rebalance: false }, nodes: { freeze_node_ids: ['1'] } })).toEqual({
      config: { allow_rebalance: false },
      freeze_node_ids: ['1'],
    });
    expect(f.h.balancer.balancePolicy()).toEqual({ allowRebalance: false, frozenNodeIds: [1n] });

    // A mask listing the path applies it.
    expect(await update({ config: { allow_rebalance: true }, update_mask: { paths: ['config.allow_rebalance'] } })).toEqual({
      config: { allow_rebalance: true },
      freeze_node_ids: ['1'],
    });

    // A present but empty mask changes no config field; defreeze still applies.
    expect(await update({ config: { allow_rebalance: false }, update_mask: { paths: [] }, nodes: { defreeze_node_ids: ['1'] } })).toEqual({
      config: { allow_rebalance: true },
      freeze_node_ids: [],
    });

    // No mask and no config: a missing config reads as allow_rebalance = false.
    expect(await update({})).toEqual({ config: { allow_rebalance: false }, freeze_node_ids: [] });
  });

  it('rejects an unknown mask path with INVAILD_ARGUMENT and changes nothing', async () => {
    f = await startServices({ channelCount: 2, nodes: [1] });
    const err = await failure(
      unary((cb) => f!.assignment.UpdateWALBalancePolicy({ config: { allow_rebalance: false }, update_mask: { paths: ['config.nope'] } }, cb)),
    );
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(fromServiceError(err).code).toBe(StreamingCode.INVAILD_ARGUMENT);
    expect(err.details).toContain('update_mask');
    expect(f.h.balancer.balancePolicy().allowRebalance).toBe(true);
  });
});

describe('UNIMPLEMENTED placeholders', () => {
  it('UpdateReplicateConfiguration, Broadcast and Ack answer UNIMPLEMENTED with a clear message', async () => {
    f = await startServices({ channelCount: 1 });
    const errors = [
      await failure(unary((cb) => f!.assignment.UpdateReplicateConfiguration({}, cb))),
      await failure(unary((cb) => f!.broadcast.Broadcast({}, cb))),
      await failure(unary((cb) => f!.broadcast.Ack({}, cb))),
    ];
    for (const e of errors) expect(e.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(errors[0]!.details).toMatch(/UpdateReplicateConfiguration is not implemented: cross-cluster replication/);
    expect(errors[1]!.details).toMatch(/Broadcast is not implemented: .*broadcaster/);
  });
});

describe('TsoService.AllocateTimestamps', () => {
  it('hands out strictly increasing ranges across calls', async () => {
    f = await startServices({ channelCount: 1 });
    let next = 0n;
    for (const count of [1, 5, 1, 100, 3, 1, 1000, 1]) {
      const res = await unary<{ timestamp: string; count: number }>((cb) => f!.tsoClient.AllocateTimestamps({ count }, cb));
      expect(res.count).toBe(count);
      const ts = BigInt(res.timestamp);
      expect(ts >= next).toBe(true);
      next = ts + BigInt(count);
    }
  });

  it('rejects count 0 and counts above the bound with INVAILD_ARGUMENT naming count', async () => {
    f = await startServices({ channelCount: 1 });
    for (const count of [0, LOGICAL_COUNT + 1]) {
      const err = await failure(unary((cb) => f!.tsoClient.AllocateTimestamps({ count }, cb)));
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(fromServiceError(err).code).toBe(StreamingCode.INVAILD_ARGUMENT);
      expect(err.details).toContain('invalid count');
    }
    const max = await unary<{ count: number }>((cb) => f!.tsoClient.AllocateTimestamps({ count: LOGICAL_COUNT }, cb));
    expect(max.count).toBe(LOGICAL_COUNT);
  });
});

describe('WalAdminService vchannels', () => {
  type Allocated = { collection_id: string; vchannels: { vchannel: string; pchannel: string }[] };

  it('allocates on distinct pchannels, lists, drops, and rejects bad input naming the field', async () => {
    f = await startServices({ channelCount: 4 });
    const a = await unary<Allocated>((cb) => f!.admin.AllocateVChannels({ collection_id: '0', count: 3 }, cb));
    expect(BigInt(a.collection_id) > 0n).toBe(true);
    expect(a.vchannels.map((v) => v.pchannel)).toEqual(['dml_0', 'dml_1', 'dml_2']);
    expect(a.vchannels.map((v) => v.vchannel)).toEqual([0, 1, 2].map((i) => `dml_${i}_${a.collection_id}v${i}`));
    const b = await unary<Allocated>((cb) => f!.admin.AllocateVChannels({ collection_id: '42', count: 0 }, cb)); // 0 = 1
    expect(b.vchannels).toEqual([{ vchannel: 'dml_3_42v0', pchannel: 'dml_3' }]);

    const over = await failure(unary((cb) => f!.admin.AllocateVChannels({ collection_id: '7', count: 5 }, cb)));
    expect(over.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(over.details).toContain('invalid count');
    const negative = await failure(unary((cb) => f!.admin.AllocateVChannels({ collection_id: '-3', count: 1 }, cb)));
    expect(negative.details).toContain('invalid collection_id');

    const dropped = await unary<{ dropped: string[] }>((cb) => f!.admin.DropVChannels({ vchannels: ['dml_3_42v0', 'dml_0_999v0', 'dml_3_42v0'] }, cb));
    expect(dropped.dropped).toEqual(['dml_3_42v0']);
    const badName = await failure(unary((cb) => f!.admin.DropVChannels({ vchannels: ['dml_1_5v0', 'not a name'] }, cb)));
    expect(badName.details).toContain('invalid vchannels[1]');

    type Listed = { vchannels: { vchannel: string; state: string; collection_id: string; drop_timestamp: string }[] };
    const live = await unary<Listed>((cb) => f!.admin.ListVChannels({}, cb));
    expect(live.vchannels.map((v) => v.vchannel)).toEqual(a.vchannels.map((v) => v.vchannel));
    const all = await unary<Listed>((cb) => f!.admin.ListVChannels({ pchannel: 'dml_3', include_dropped: true }, cb));
    expect(all.vchannels).toMatchObject([{ vchannel: 'dml_3_42v0', state: 'VCHANNEL_STATE_DROPPED', collection_id: '42' }]);
    expect(BigInt(all.vchannels[0]!.drop_timestamp) > 0n).toBe(true);
    const badFilter = await failure(unary((cb) => f!.admin.ListVChannels({ pchannel: 'dml_3_42v0' }, cb)));
    expect(badFilter.details).toContain('invalid pchannel');
  });
});

describe('WalAdminService nodes, distribution, balance, active coordinator', () => {
  type Listed = { nodes: { server_id: string; address: string; state: string; channels: { name: string; term: string }[] }[] };

  it('ListNodes shows every live node with its state and ASSIGNED channels', async () => {
    f = await startServices({ channelCount: 4, nodes: [1, 2, 3] });
    await placed(f.h);
    await f.h.balancer.updateBalancePolicy({ freezeNodeIds: [2n], updateMask: [] });
    await f.h.balancer.triggerBalance();
    f.h.registry.stop(3);
    f.h.registry.join(4);
    const res = await unary<Listed>((cb) => f!.admin.ListNodes({}, cb));
    expect(res.nodes.map((n) => [n.server_id, n.state])).toEqual([
      ['1', 'NODE_STATE_ONLINE'],
      ['2', 'NODE_STATE_FROZEN'],
      ['3', 'NODE_STATE_STOPPING'],
      ['4', 'NODE_STATE_ONLINE'],
    ]);
    const expected = new Map(f.h.channels.currentAssignments().nodes.map((n) => [n.node.serverId.toString(), n.channels.map((c) => `${c.name}@${c.term}`)]));
    for (const n of res.nodes) expect(n.channels.map((c) => `${c.name}@${c.term}`)).toEqual(expected.get(n.server_id) ?? []);
    expect(res.nodes.find((n) => n.server_id === '2')!.channels).toEqual([]);
    expect(res.nodes[0]!.address).toBe('10.0.0.1:22222');
  });

  it('GetWALDistribution lists every pchannel with node, term, state, access mode, last assign time and version', async () => {
    f = await startServices({ channelCount: 3 });
    type Dist = ProtoOutput<'streamingwal.v1.GetWALDistributionResponse'>;
    const before = await unary<Dist>((cb) => f!.admin.GetWALDistribution({}, cb));
    expect(before.pchannels).toEqual(
      ['dml_0', 'dml_1', 'dml_2'].map((pchannel) => ({
        pchannel,
        node: null,
        term: '1',
        state: 'PCHANNEL_META_STATE_UNINITIALIZED',
        access_mode: 'PCHANNEL_ACCESS_READWRITE',
        last_assign_timestamp_seconds: '0',
      })),
    );
    f.h.registry.join(7);
    await placed(f.h);
    const after = await unary<Dist>((cb) => f!.admin.GetWALDistribution({}, cb));
    expect(after.version).toEqual({ global: '100', local: f.h.channels.version.local.toString() });
    const seconds = String(Math.floor(f.h.clock.ms / 1000));
    for (const p of after.pchannels) {
      expect(p).toMatchObject({ node: { server_id: '7' }, term: '2', state: 'PCHANNEL_META_STATE_ASSIGNED', last_assign_timestamp_seconds: seconds });
    }
  });

  it('TriggerBalance waits for a fresh round and reports a failed one', async () => {
    f = await startServices({ channelCount: 2 });
    const noNode = await failure(unary((cb) => f!.admin.TriggerBalance({}, cb)));
    expect(noNode.details).toContain('no streaming node');
    f.h.registry.join(1);
    await unary((cb) => f!.admin.TriggerBalance({}, cb));
    expect(f.h.channels.currentAssignments().nodes.map((n) => n.channels.length)).toEqual([2]);
  });

  it('GetActiveCoordinator answers the injected provider', async () => {
    f = await startServices({ channelCount: 1 });
    expect(await unary((cb) => f!.admin.GetActiveCoordinator({}, cb))).toEqual({ server_id: '100', address: f.address });
  });
});

describe('standby mode', () => {
  it('answers every RPC with ON_SHUTDOWN naming the active coordinator, except GetActiveCoordinator', async () => {
    f = await startServices({ channelCount: 2, nodes: [1] });
    f.role.active = false;
    f.role.activeAddress = '10.9.8.7:22220';
    const calls: [string, Promise<unknown>][] = [
      ['UpdateWALBalancePolicy', unary((cb) => f!.assignment.UpdateWALBalancePolicy({}, cb))],
      ['UpdateReplicateConfiguration', unary((cb) => f!.assignment.UpdateReplicateConfiguration({}, cb))],
      ['Broadcast', unary((cb) => f!.broadcast.Broadcast({}, cb))],
      ['Ack', unary((cb) => f!.broadcast.Ack({}, cb))],
      ['AllocateTimestamps', unary((cb) => f!.tsoClient.AllocateTimestamps({ count: 1 }, cb))],
      ['AllocateVChannels', unary((cb) => f!.admin.AllocateVChannels({ count: 1 }, cb))],
      ['DropVChannels', unary((cb) => f!.admin.DropVChannels({ vchannels: [] }, cb))],
      ['ListVChannels', unary((cb) => f!.admin.ListVChannels({}, cb))],
      ['ListNodes', unary((cb) => f!.admin.ListNodes({}, cb))],
      ['GetWALDistribution', unary((cb) => f!.admin.GetWALDistribution({}, cb))],
      ['TriggerBalance', unary((cb) => f!.admin.TriggerBalance({}, cb))],
    ];
    for (const [name, call] of calls) {
      const err = await failure(call);
      expect(err.code, name).toBe(grpc.status.FAILED_PRECONDITION);
      expect(fromServiceError(err).code, name).toBe(StreamingCode.ON_SHUTDOWN);
      expect(err.details, name).toBe('not the active coordinator; the active coordinator is at 10.9.8.7:22220');
      expect(err.metadata.get(ACTIVE_COORDINATOR_METADATA_KEY), name).toEqual(['10.9.8.7:22220']);
    }
    const w = f.watch();
    await w.settled();
    expect(w.error?.code).toBe(StreamingCode.ON_SHUTDOWN);
    expect(w.error?.message).toContain('10.9.8.7:22220');
    expect(w.received).toHaveLength(0);
    expect(await unary((cb) => f!.admin.GetActiveCoordinator({}, cb))).toEqual({ server_id: '100', address: f.address });

    // Unknown active coordinator: still a clear error, no address trailer.
    f.role.activeAddress = undefined;
    const unknown = await failure(unary((cb) => f!.admin.ListNodes({}, cb)));
    expect(unknown.details).toBe('not the active coordinator; no active coordinator is known yet');
    expect(unknown.metadata.get(ACTIVE_COORDINATOR_METADATA_KEY)).toEqual([]);

    // Promoted: everything serves again.
    f.role.active = true;
    const nodes = await unary<{ nodes: unknown[] }>((cb) => f!.admin.ListNodes({}, cb));
    expect(nodes.nodes).toHaveLength(1);
    const w2 = f.watch();
    await w2.until(() => true, 'snapshot after promotion');
  });
});
