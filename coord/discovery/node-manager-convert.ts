/**
 * Proto ⇄ domain conversions of `StreamingNodeManagerService` (STYLE §2: generated types stop at
 * the transport edge). int64/uint64 fields travel as decimal strings both ways, so terms and time
 * ticks beyond 2^53 survive exactly (protobufjs would turn a bigint into 0 silently).
 */
import {
  type PChannelInfo,
  type ProtoInputOf,
  type ProtoOutput,
  StreamingError,
  pchannelInfoFromProto,
  pchannelInfoToProto,
} from '../../shared/index.js';
import type { WalStatus } from './node-registry.js';

type AssignRequestProto = ProtoInputOf<'milvus.proto.streaming.StreamingNodeManagerAssignRequest'>;
type RemoveRequestProto = ProtoInputOf<'milvus.proto.streaming.StreamingNodeManagerRemoveRequest'>;
type CollectStatusResponseProto = ProtoOutput<'milvus.proto.streaming.StreamingNodeManagerCollectStatusResponse'>;
type CollectStatusResponseInput = ProtoInputOf<'milvus.proto.streaming.StreamingNodeManagerCollectStatusResponse'>;
type WalMetricsProto = ProtoOutput<'milvus.proto.streaming.StreamingNodeWALMetrics'>;
type WalMetricsInput = ProtoInputOf<'milvus.proto.streaming.StreamingNodeWALMetrics'>;

/** `Assign` request for `channel`. */
export function assignRequestToProto(channel: PChannelInfo): AssignRequestProto {
  return { pchannel: pchannelInfoToProto(channel) };
}

/** `Remove` request for `channel` (its term is the one to close). */
export function removeRequestToProto(channel: PChannelInfo): RemoveRequestProto {
  return { pchannel: pchannelInfoToProto(channel) };
}

/** A uint64 as proto-loader decodes it (decimal string); `field` names it in errors. */
function uint64FromProto(value: unknown, field: string): bigint {
  const text = String(value ?? '0');
  if (!/^\d+$/.test(text)) throw StreamingError.invalidArgument(field, `not an unsigned integer: ${text}`);
  return BigInt(text);
}

/**
 * One WAL of a `CollectStatus` response. A read-write WAL carries its time ticks; a read-only
 * one (or one without metrics) carries none.
 * @throws StreamingError INVAILD_ARGUMENT naming the bad field.
 */
export function walStatusFromProto(proto: WalMetricsProto, field = 'wal'): WalStatus {
  const channel = pchannelInfoFromProto(proto.info, `${field}.info`);
  const rw = proto.rw;
  if (proto.metrics !== 'rw' || rw === null || rw === undefined) return Object.freeze({ channel });
  return Object.freeze({
    channel,
    mvccTimeTick: uint64FromProto(rw.mvcc_time_tick, `${field}.rw.mvcc_time_tick`),
    recoveryTimeTick: uint64FromProto(rw.recovery_time_tick, `${field}.rw.recovery_time_tick`),
  });
}

/**
 * Every WAL of a `CollectStatus` response (Milvus `StreamingNodeMetrics.wals`). A response
 * without metrics (a 2.5 node answers with empty attributes) means no WALs.
 * @throws StreamingError INVAILD_ARGUMENT naming the bad field.
 */
export function collectStatusFromProto(response: CollectStatusResponseProto | undefined): WalStatus[] {
  const wals = response?.metrics?.wals ?? [];
  return wals.map((wal, i) => walStatusFromProto(wal, `metrics.wals[${i}]`));
}

/**
 * Proto form of one WAL status: `rw` metrics when time ticks are given (a missing one is sent as
 * 0), `ro` otherwise. The inverse of {@link walStatusFromProto}; nodes and test fakes answer
 * `CollectStatus` with it.
 */
export function walStatusToProto(status: WalStatus): WalMetricsInput {
  const info = pchannelInfoToProto(status.channel);
  if (status.mvccTimeTick === undefined && status.recoveryTimeTick === undefined) {
    return { info, ro: {} };
  }
  return {
    info,
    rw: {
      mvcc_time_tick: (status.mvccTimeTick ?? 0n).toString(),
      recovery_time_tick: (status.recoveryTimeTick ?? 0n).toString(),
    },
  };
}

/** A whole `CollectStatus` response; see {@link walStatusToProto}. */
export function collectStatusToProto(wals: readonly WalStatus[]): CollectStatusResponseInput {
  return { metrics: { wals: wals.map(walStatusToProto) } };
}
