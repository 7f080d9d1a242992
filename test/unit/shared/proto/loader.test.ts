import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StreamingError } from '../../../../shared/errors/index.js';
import {
  PROTO_FILES,
  clientConstructors,
  encodeProto,
  findProtoDir,
  loadPackageDefinition,
  loadProtos,
  protoDir,
  serviceDefinitions,
} from '../../../../shared/proto/index.js';

const ROOT = resolve(import.meta.dirname, '../../../..');

/** [service full name, method, requestStream, responseStream, request type, response type] */
const METHODS: ReadonlyArray<readonly [string, string, boolean, boolean, string, string]> = [
  ['milvus.proto.streaming.StreamingNodeStateService', 'GetComponentStates', false, false, 'GetComponentStatesRequest', 'ComponentStates'],
  ['milvus.proto.streaming.StreamingCoordBroadcastService', 'Broadcast', false, false, 'BroadcastRequest', 'BroadcastResponse'],
  ['milvus.proto.streaming.StreamingCoordBroadcastService', 'Ack', false, false, 'BroadcastAckRequest', 'BroadcastAckResponse'],
  [
    'milvus.proto.streaming.StreamingCoordAssignmentService',
    'UpdateReplicateConfiguration',
    false,
    false,
    'UpdateReplicateConfigurationRequest',
    'UpdateReplicateConfigurationResponse',
  ],
  [
    'milvus.proto.streaming.StreamingCoordAssignmentService',
    'UpdateWALBalancePolicy',
    false,
    false,
    'UpdateWALBalancePolicyRequest',
    'UpdateWALBalancePolicyResponse',
  ],
  [
    'milvus.proto.streaming.StreamingCoordAssignmentService',
    'AssignmentDiscover',
    true,
    true,
    'AssignmentDiscoverRequest',
    'AssignmentDiscoverResponse',
  ],
  [
    'milvus.proto.streaming.StreamingNodeHandlerService',
    'GetReplicateCheckpoint',
    false,
    false,
    'GetReplicateCheckpointRequest',
    'GetReplicateCheckpointResponse',
  ],
  ['milvus.proto.streaming.StreamingNodeHandlerService', 'Produce', true, true, 'ProduceRequest', 'ProduceResponse'],
  ['milvus.proto.streaming.StreamingNodeHandlerService', 'Consume', true, true, 'ConsumeRequest', 'ConsumeResponse'],
  [
    'milvus.proto.streaming.StreamingNodeManagerService',
    'Assign',
    false,
    false,
    'StreamingNodeManagerAssignRequest',
    'StreamingNodeManagerAssignResponse',
  ],
  [
    'milvus.proto.streaming.StreamingNodeManagerService',
    'Remove',
    false,
    false,
    'StreamingNodeManagerRemoveRequest',
    'StreamingNodeManagerRemoveResponse',
  ],
  [
    'milvus.proto.streaming.StreamingNodeManagerService',
    'CollectStatus',
    false,
    false,
    'StreamingNodeManagerCollectStatusRequest',
    'StreamingNodeManagerCollectStatusResponse',
  ],
  ['streamingwal.v1.TsoService', 'AllocateTimestamps', false, false, 'AllocateTimestampsRequest', 'AllocateTimestampsResponse'],
  ['streamingwal.v1.WalAdminService', 'AllocateVChannels', false, false, 'AllocateVChannelsRequest', 'AllocateVChannelsResponse'],
  ['streamingwal.v1.WalAdminService', 'DropVChannels', false, false, 'DropVChannelsRequest', 'DropVChannelsResponse'],
  ['streamingwal.v1.WalAdminService', 'ListVChannels', false, false, 'ListVChannelsRequest', 'ListVChannelsResponse'],
  ['streamingwal.v1.WalAdminService', 'ListNodes', false, false, 'ListNodesRequest', 'ListNodesResponse'],
  ['streamingwal.v1.WalAdminService', 'GetWALDistribution', false, false, 'GetWALDistributionRequest', 'GetWALDistributionResponse'],
  ['streamingwal.v1.WalAdminService', 'TriggerBalance', false, false, 'TriggerBalanceRequest', 'TriggerBalanceResponse'],
  [
    'streamingwal.v1.WalAdminService',
    'GetActiveCoordinator',
    false,
    false,
    'GetActiveCoordinatorRequest',
    'GetActiveCoordinatorResponse',
  ],
];

/** Name of a method's request/response message from its proto-loader descriptor. */
function descriptorName(def: { type: object }): string {
  return (def.type as { name?: string }).name ?? '';
}

describe('proto loader', () => {
  it('finds proto/ at the repository root', () => {
    expect(protoDir()).toBe(join(ROOT, 'proto'));
    for (const file of PROTO_FILES) expect(existsSync(join(protoDir(), file)), file).toBe(true);
  });

  it('finds proto/ from the compiled location dist/shared/proto', () => {
    expect(findProtoDir(join(ROOT, 'dist', 'shared', 'proto'))).toBe(join(ROOT, 'proto'));
  });

  it('fails with a StreamingError when no proto/ exists above the start directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'no-proto-'));
    try {
      expect(() => findProtoDir(dir)).toThrow(StreamingError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads once', () => {
    expect(loadProtos()).toBe(loadProtos());
    expect(loadPackageDefinition()).toBe(loadPackageDefinition());
  });

  it.each(METHODS)('%s/%s has the exact path, stream shape and message types', (service, method, reqStream, resStream, req, res) => {
    const def = loadPackageDefinition()[service] as Record<string, unknown> | undefined;
    expect(def, service).toBeDefined();
    const m = def![method] as {
      path: string;
      requestStream: boolean;
      responseStream: boolean;
      requestType: { type: object };
      responseType: { type: object };
    };
    expect(m.path).toBe(`/${service}/${method}`);
    expect([m.requestStream, m.responseStream]).toEqual([reqStream, resStream]);
    expect([descriptorName(m.requestType), descriptorName(m.responseType)]).toEqual([req, res]);
  });

  it('declares no methods beyond the table above', () => {
    const def = loadPackageDefinition();
    const services = new Set(METHODS.map(([s]) => s));
    for (const service of services) {
      const declared = Object.keys(def[service] as object).sort();
      const expected = METHODS.filter(([s]) => s === service).map(([, m]) => m).sort();
      expect(declared, service).toEqual(expected);
    }
  });

  it('exposes typed service definitions and client constructors for every service', () => {
    const defs = serviceDefinitions();
    expect(defs.streamingNodeHandler.Produce.path).toBe('/milvus.proto.streaming.StreamingNodeHandlerService/Produce');
    expect(defs.streamingCoordAssignment.AssignmentDiscover.path).toBe(
      '/milvus.proto.streaming.StreamingCoordAssignmentService/AssignmentDiscover',
    );
    expect(defs.streamingNodeManager.Assign.path).toBe('/milvus.proto.streaming.StreamingNodeManagerService/Assign');
    expect(defs.streamingNodeState.GetComponentStates.path).toBe(
      '/milvus.proto.streaming.StreamingNodeStateService/GetComponentStates',
    );
    expect(defs.streamingCoordBroadcast.Broadcast.path).toBe('/milvus.proto.streaming.StreamingCoordBroadcastService/Broadcast');
    expect(defs.tso.AllocateTimestamps.path).toBe('/streamingwal.v1.TsoService/AllocateTimestamps');
    expect(defs.walAdmin.GetActiveCoordinator.path).toBe('/streamingwal.v1.WalAdminService/GetActiveCoordinator');
    const ctors = clientConstructors();
    for (const ctor of Object.values(ctors)) expect(typeof ctor).toBe('function');
    expect(ctors.streamingNodeHandler.service).toBe(defs.streamingNodeHandler);
  });

  it('serializes gRPC frames byte-for-byte like the codec', () => {
    const produce = serviceDefinitions().streamingNodeHandler.Produce;
    const frame = {
      produce: { request_id: '7', message: { payload: Buffer.from('hi'), properties: { _t: '2', _vc: 'v1' } } },
    };
    const wire = produce.requestSerialize(frame);
    expect(wire.equals(encodeProto('milvus.proto.streaming.ProduceRequest', frame))).toBe(true);
    const back = produce.requestDeserialize(wire);
    expect(back.request).toBe('produce');
    expect(back.produce?.request_id).toBe('7');
    expect(back.produce?.message?.properties).toEqual({ _t: '2', _vc: 'v1' });
  });
});
