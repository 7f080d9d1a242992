/**
 * `milvus.proto.streaming.StreamingNodeManagerService` (Milvus `service/manager.go`): the
 * coordinator's handle on this node's WALs. Proto ⇄ domain conversion happens here and nowhere
 * deeper (STYLE rule 4); every failure reaches the caller as a StreamingError in the status
 * details trailer.
 *
 * - `Assign({pchannel})` opens the WAL of `pchannel` at its term and answers only once it is open,
 *   recovery included (the coordinator's call deadline bounds the wait, not the open itself).
 *   IGNORED_OPERATION for a stale term, UNMATCHED_CHANNEL_TERM when a newer term became current,
 *   the opener's error when the WAL cannot be opened, ON_SHUTDOWN while the node is not serving
 *   (starting, fenced, stopping).
 * - `Remove({pchannel})` closes it if open at that term (or older); removing a term never opened
 *   here succeeds; IGNORED_OPERATION for a stale term.
 * - `CollectStatus({})` lists every WAL open here: read-write ones with their MVCC and recovery
 *   time ticks, read-only ones without.
 *
 * A malformed request (no pchannel, empty name, non-integer term, unknown access mode) fails
 * INVAILD_ARGUMENT naming the field, e.g. `pchannel.name`.
 */
import type * as grpc from '@grpc/grpc-js';
import {
  type Logger,
  type PChannelInfo,
  type ProtoInputOf,
  type StreamingNodeManagerServiceHandlers,
  anySignal,
  noopLogger,
  pchannelInfoFromProto,
  pchannelInfoToProto,
  serviceDefinitions,
  StreamingError,
  toServiceError,
} from '../../shared/index.js';
import type { ServiceRegistration } from './service-registration.js';

type WalMetricsProto = ProtoInputOf<'milvus.proto.streaming.StreamingNodeWALMetrics'>;
type CollectStatusProto = ProtoInputOf<'milvus.proto.streaming.StreamingNodeManagerCollectStatusResponse'>;

/** What CollectStatus reports of one WAL (the node-side `Wal.metrics()` shape). */
export interface WalStatusMetrics {
  readonly channel: PChannelInfo;
  readonly mvccTimeTick?: bigint;
  readonly recoveryTimeTick?: bigint;
}

/** The part of the node's `WalManager` the manager service uses. */
export interface ManagerServiceWals {
  open(channel: PChannelInfo, options?: { signal?: AbortSignal }): Promise<void>;
  remove(channel: PChannelInfo, options?: { signal?: AbortSignal }): Promise<void>;
  list(): readonly { metrics(): WalStatusMetrics }[];
}

/** Options of {@link ManagerService}. */
export interface ManagerServiceOptions {
  /**
   * The WAL manager serving now. It should throw ON_SHUTDOWN while the node is not serving
   * (fenced and re-registering, or stopping): the manager is replaced after a self-fence, so it
   * is looked up on every call rather than captured once.
   */
  readonly wals: () => ManagerServiceWals;
  /**
   * Whether Assign is accepted now (default always). A node takes no new WALs while it is not
   * serving (starting, fenced, stopping) but still answers Remove and CollectStatus, so a
   * coordinator can drain it during a graceful stop.
   */
  readonly assignable?: () => boolean;
  /** Aborted when the node begins closing: pending Assign / Remove calls stop waiting (ON_SHUTDOWN). */
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
}

/** See the file comment. */
export class ManagerService implements ServiceRegistration {
  readonly definition = serviceDefinitions().streamingNodeManager;
  readonly handlers: StreamingNodeManagerServiceHandlers;
  readonly #opts: ManagerServiceOptions;
  readonly #log: Logger;

  constructor(options: ManagerServiceOptions) {
    this.#opts = options;
    this.#log = (options.logger ?? noopLogger).child({ component: 'manager-service' });
    this.handlers = {
      Assign: (call, callback) => void this.#change('assign', call, callback),
      Remove: (call, callback) => void this.#change('remove', call, callback),
      CollectStatus: (_call, callback) => {
        try {
          callback(null, this.collectStatus());
        } catch (error) {
          callback(toServiceError(error));
        }
      },
    };
  }

  /** The CollectStatus answer: every WAL of the current manager. */
  collectStatus(): CollectStatusProto {
    const wals = this.#opts.wals().list();
    return { metrics: { wals: wals.map((wal) => walMetricsToProto(wal.metrics())) } };
  }

  /** Assign or Remove: parse, then wait for the WAL manager, aborting the wait if the caller goes away. */
  async #change(
    op: 'assign' | 'remove',
    call: grpc.ServerUnaryCall<{ pchannel: unknown }, object>,
    callback: grpc.sendUnaryData<object>,
  ): Promise<void> {
    let channel: PChannelInfo;
    try {
      channel = pchannelInfoFromProto(call.request.pchannel as Parameters<typeof pchannelInfoFromProto>[0], 'pchannel');
    } catch (error) {
      callback(toServiceError(error));
      return;
    }
    const log = this.#log.child({ op, channel: channel.name, term: channel.term, accessMode: channel.accessMode });
    // The wait ends when the caller cancels (or its deadline passes) or the node closes; the
    // change itself still completes in the WAL manager (see WalManager.open/remove).
    const cancelled = new AbortController();
    const onCancel = (): void => cancelled.abort(StreamingError.onShutdown(`${op} call of ${channel.name} cancelled by the caller`));
    call.once('cancelled', onCancel);
    const combined = anySignal([cancelled.signal, this.#opts.signal]);
    try {
      if (op === 'assign' && this.#opts.assignable?.() === false) {
        throw StreamingError.onShutdown(`streaming node is not serving; cannot assign ${channel.name}`);
      }
      const wals = this.#opts.wals();
      log.debug({}, `${op} requested`);
      if (op === 'assign') await wals.open(channel, { signal: combined.signal });
      else await wals.remove(channel, { signal: combined.signal });
      log.debug({}, `${op} done`);
      callback(null, {});
    } catch (error) {
      log.debug({ err: error }, `${op} failed`);
      callback(toServiceError(error));
    } finally {
      combined.dispose();
      call.removeListener('cancelled', onCancel);
    }
  }
}

/**
 * Proto form of one WAL's status: `rw` with its time ticks (0 when unknown) for a read-write WAL,
 * `ro` for a read-only one. int64/uint64 travel as decimal strings so large ticks stay exact.
 */
export function walMetricsToProto(metrics: WalStatusMetrics): WalMetricsProto {
  const info = pchannelInfoToProto(metrics.channel);
  if (metrics.channel.accessMode === 'ro') return { info, ro: {} };
  return {
    info,
    rw: {
      mvcc_time_tick: (metrics.mvccTimeTick ?? 0n).toString(),
      recovery_time_tick: (metrics.recoveryTimeTick ?? 0n).toString(),
    },
  };
}
