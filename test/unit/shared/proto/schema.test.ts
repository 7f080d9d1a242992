/**
 * Pins enum numbers and field numbers of the wire contract against the Milvus 2.6 values
 * (reference/milvus-messages.md §1–3), and the set of our extension fields (>= 1000).
 */
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { StreamingCode } from '../../../../shared/errors/index.js';
import { protoRoot, protoType } from '../../../../shared/proto/index.js';

function enumValues(name: string): Record<string, number> {
  return protoRoot().lookupEnum(`.${name}`).values;
}

/** `{ field: number }` of a message type. */
function fieldNumbers(name: string): Record<string, number> {
  return Object.fromEntries(Object.values(protoType(name).fields).map((f) => [f.name, f.id]));
}

function allTypes(ns: protobuf.NamespaceBase): protobuf.Type[] {
  return ns.nestedArray.flatMap((n) => {
    if (n instanceof protobuf.Type) return [n, ...allTypes(n)];
    if (n instanceof protobuf.Namespace) return allTypes(n);
    return [];
  });
}

describe('enum numbers', () => {
  it('StreamingCode is 0..13 and 999, exactly, and matches shared/errors', () => {
    const values = enumValues('milvus.proto.streaming.StreamingCode');
    expect(values).toEqual({
      STREAMING_CODE_OK: 0,
      STREAMING_CODE_CHANNEL_NOT_EXIST: 1,
      STREAMING_CODE_CHANNEL_FENCED: 2,
      STREAMING_CODE_ON_SHUTDOWN: 3,
      STREAMING_CODE_INVALID_REQUEST_SEQ: 4,
      STREAMING_CODE_UNMATCHED_CHANNEL_TERM: 5,
      STREAMING_CODE_IGNORED_OPERATION: 6,
      STREAMING_CODE_INNER: 7,
      STREAMING_CODE_INVAILD_ARGUMENT: 8,
      STREAMING_CODE_TRANSACTION_EXPIRED: 9,
      STREAMING_CODE_INVALID_TRANSACTION_STATE: 10,
      STREAMING_CODE_UNRECOVERABLE: 11,
      STREAMING_CODE_RESOURCE_ACQUIRED: 12,
      STREAMING_CODE_REPLICATE_VIOLATION: 13,
      STREAMING_CODE_UNKNOWN: 999,
    });
    for (const [name, n] of Object.entries(values)) {
      expect(StreamingCode[name.replace('STREAMING_CODE_', '') as keyof typeof StreamingCode], name).toBe(n);
    }
  });

  it('MessageType keeps the upstream numbers and reserves 39..46', () => {
    const values = enumValues('milvus.proto.messages.MessageType');
    expect(values).toMatchObject({
      Unknown: 0,
      TimeTick: 1,
      Insert: 2,
      Delete: 3,
      Flush: 4,
      CreateCollection: 5,
      DropCollection: 6,
      CreatePartition: 7,
      DropPartition: 8,
      ManualFlush: 9,
      CreateSegment: 10,
      Import: 11,
      SchemaChange: 12,
      AlterCollection: 13,
      RestoreRBAC: 21,
      CreateIndex: 34,
      DropIndex: 36,
      FlushAll: 37,
      TruncateCollection: 38,
      AlterRLSMetadata: 47,
      DropRLSMetadata: 48,
      AlterWAL: 700,
      AlterReplicateConfig: 800,
      BeginTxn: 900,
      CommitTxn: 901,
      RollbackTxn: 902,
      Txn: 999,
    });
    // 0..38, 47..48, 700, 800, 900..902, 999
    expect(Object.keys(values)).toHaveLength(39 + 2 + 6);
    const numbers = Object.values(values);
    for (let n = 39; n <= 46; n++) expect(numbers).not.toContain(n);
    expect(protoRoot().lookupEnum('.milvus.proto.messages.MessageType').reserved).toEqual([[39, 46]]);
  });

  it('the other Milvus enums keep their numbers', () => {
    expect(enumValues('milvus.proto.streaming.PChannelAccessMode')).toEqual({
      PCHANNEL_ACCESS_READWRITE: 0,
      PCHANNEL_ACCESS_READONLY: 1,
    });
    expect(enumValues('milvus.proto.streaming.PChannelMetaState')).toEqual({
      PCHANNEL_META_STATE_UNKNOWN: 0,
      PCHANNEL_META_STATE_UNINITIALIZED: 1,
      PCHANNEL_META_STATE_ASSIGNING: 2,
      PCHANNEL_META_STATE_ASSIGNED: 3,
      PCHANNEL_META_STATE_UNAVAILABLE: 4,
    });
    expect(enumValues('milvus.proto.streaming.BroadcastTaskState')).toEqual({
      BROADCAST_TASK_STATE_UNKNOWN: 0,
      BROADCAST_TASK_STATE_PENDING: 1,
      BROADCAST_TASK_STATE_DONE: 2,
      BROADCAST_TASK_STATE_WAIT_ACK: 3,
      BROADCAST_TASK_STATE_REPLICATED: 4,
      BROADCAST_TASK_STATE_TOMBSTONE: 5,
    });
    expect(enumValues('milvus.proto.common.WALName')).toEqual({
      Unknown: 0,
      RocksMQ: 1,
      Pulsar: 2,
      Kafka: 3,
      WoodPecker: 4,
      Test: 999,
    });
    expect(enumValues('milvus.proto.common.StateCode')).toEqual({
      Initializing: 0,
      Healthy: 1,
      Abnormal: 2,
      StandBy: 3,
      Stopping: 4,
    });
    expect(enumValues('milvus.proto.messages.TxnState')).toEqual({
      TxnUnknown: 0,
      TxnInFlight: 1,
      TxnOnCommit: 2,
      TxnCommitted: 3,
      TxnOnRollback: 4,
      TxnRollbacked: 5,
    });
    expect(enumValues('milvus.proto.messages.ResourceDomain')).toMatchObject({ ResourceDomainCluster: 127 });
    expect(enumValues('milvus.proto.common.MsgType')).toMatchObject({ Insert: 400, Delete: 401, TimeTick: 1200 });
  });
});

describe('field numbers', () => {
  it('pins the envelopes and handshake messages', () => {
    expect(fieldNumbers('milvus.proto.common.ImmutableMessage')).toEqual({ id: 1, payload: 2, properties: 3 });
    expect(fieldNumbers('milvus.proto.messages.TxnContext')).toEqual({ txn_id: 1, keepalive_milliseconds: 2 });
    expect(fieldNumbers('milvus.proto.messages.BroadcastHeader')).toEqual({
      broadcast_id: 1,
      vchannels: 2,
      Resource_keys: 3,
      ack_sync_up: 4,
    });
    expect(fieldNumbers('milvus.proto.streaming.PChannelMeta')).toEqual({
      channel: 1,
      node: 2,
      state: 3,
      histories: 4,
      last_assign_timestamp_seconds: 5,
    });
    expect(fieldNumbers('milvus.proto.streaming.ProduceMessageResponseResult')).toEqual({
      id: 1,
      timetick: 2,
      txnContext: 3,
      extra: 4,
      last_confirmed_id: 5,
    });
    expect(fieldNumbers('milvus.proto.streaming.FullStreamingNodeAssignmentWithVersion')).toEqual({
      version: 1,
      assignments: 2,
      cchannel: 3,
      replicate_configuration: 4,
      streaming_version: 5,
    });
    expect(fieldNumbers('milvus.proto.streaming.CreateVChannelConsumerRequest')).toMatchObject({
      vchannel: 1,
      deliver_policy: 2,
      deliver_filters: 3,
      ignore_pause_consumption: 4,
    });
    expect(fieldNumbers('google.rpc.Status')).toEqual({ code: 1, message: 2, details: 3 });
  });

  it('the only fields >= 1000 in Milvus packages are our batching extension', () => {
    const milvus = protoRoot().lookup('.milvus') as protobuf.Namespace;
    const extensions = allTypes(milvus)
      .flatMap((t) => Object.values(t.fields).filter((f) => f.id >= 1000).map((f) => `${t.fullName.slice(1)}.${f.name}=${f.id}`))
      .sort();
    expect(extensions).toEqual([
      'milvus.proto.streaming.ConsumeResponse.consume_batch=1000',
      'milvus.proto.streaming.CreateConsumerRequest.max_batch_messages=1000',
      'milvus.proto.streaming.CreateConsumerResponse.batch_enabled=1000',
      'milvus.proto.streaming.CreateProducerRequest.enable_batch=1000',
      'milvus.proto.streaming.CreateProducerResponse.batch_enabled=1000',
      'milvus.proto.streaming.CreateVChannelConsumerRequest.max_batch_messages=1000',
      'milvus.proto.streaming.ProduceRequest.produce_batch=1000',
      'milvus.proto.streaming.ProduceResponse.produce_batch=1000',
    ]);
  });

  it('batch frames sit in the existing oneofs, so one frame holds one form', () => {
    expect(protoType('milvus.proto.streaming.ProduceRequest').oneofs['request']?.oneof).toContain('produce_batch');
    expect(protoType('milvus.proto.streaming.ProduceResponse').oneofs['response']?.oneof).toContain('produce_batch');
    expect(protoType('milvus.proto.streaming.ConsumeResponse').oneofs['response']?.oneof).toContain('consume_batch');
    expect(fieldNumbers('milvus.proto.streaming.ConsumeMessageBatchResponse')).toEqual({ consumer_id: 1, messages: 2 });
  });
});
