/**
 * Opens the node's WALs (Milvus `adaptor/opener.go`, reference/milvus-node.md §2.2): the opener
 * the WAL manager calls on Assign.
 */
import {
  formatPChannelInfo,
  type Logger,
  type MessageId,
  noopLogger,
  type PChannelInfo,
  type TsoAllocator,
} from '../../../shared/index.js';
import type { WalOpener as ManagedWalOpener, WalOpenOptions } from '../../wal-manager/index.js';
import type { WalBackend, WalBackendOpener } from '../backend/index.js';
import { appendFirstTimeTick } from '../interceptors/index.js';
import { formatWalCheckpoint, loadWalCheckpoint, replayRecovery, type WalCheckpoint } from '../recovery/index.js';
import type { Wal } from '../wal.js';
import { ReadOnlyWalAdaptor } from './ro-wal-adaptor.js';
import { WalAdaptor } from './wal-adaptor.js';
import { resolveWalAdaptorConfig, type WalAdaptorConfig, type WalAdaptorOptions } from './wal-config.js';

/** Options of {@link WalOpener}. */
export interface WalOpenerOptions {
  /** Where the pchannels live (LevelDB in production, memory in tests). Not closed by this opener. */
  readonly backendOpener: WalBackendOpener;
  /** Time ticks: the node's batched view of the coordinator's TSO (global, never goes back). */
  readonly tso: TsoAllocator;
  /** Written into time tick bodies (`sourceID`); default 0. */
  readonly nodeId?: bigint;
  readonly config?: WalAdaptorOptions;
  /** Clock of retention (ms); `Date.now` by default. */
  readonly now?: () => number;
  readonly logger?: Logger;
}

/**
 * `open(channel)`:
 * - **read-only** → the backend opened read-only, wrapped in a {@link ReadOnlyWalAdaptor}.
 * - **read-write** → (1) the backend opened at `channel.term` (CHANNEL_FENCED if a higher term
 *   holds the pchannel; this fences older terms); (2) the checkpoint loaded; (3) the recovery
 *   barrier: a persisted TimeTick appended straight to the backend, its `_lc` the replay start;
 *   (4) the replay from the checkpoint to the barrier rebuilds the open transactions; (5) the
 *   {@link WalAdaptor} is built around all that and started.
 *   Without a checkpoint the replay starts at the oldest retained record; a checkpoint below the
 *   oldest retained record (truncated by someone else) is clamped to it, with a warning.
 * Any failure (including `signal` aborting) closes what was opened and rejects.
 *
 * @example
 * ```ts
 * const opener = new WalOpener({ backendOpener: new LevelWalBackendOpener({ dataRoot }), tso, nodeId,
 *   config: walAdaptorOptionsFrom(config.wal), logger });
 * const manager = new WalManager({ opener, logger });
 * await manager.open(pchannelInfo('by-dev-rootcoord-dml_0', 3n));
 * ```
 */
export class WalOpener implements ManagedWalOpener<Wal> {
  readonly config: WalAdaptorConfig;
  readonly #backendOpener: WalBackendOpener;
  readonly #tso: TsoAllocator;
  readonly #nodeId: bigint;
  readonly #now: (() => number) | undefined;
  readonly #logger: Logger;

  /** @throws RangeError for invalid tuning. */
  constructor(options: WalOpenerOptions) {
    this.config = resolveWalAdaptorConfig(options.config);
    this.#backendOpener = options.backendOpener;
    this.#tso = options.tso;
    this.#nodeId = options.nodeId ?? 0n;
    this.#now = options.now;
    this.#logger = options.logger ?? noopLogger;
  }

  async open(channel: PChannelInfo, options: Partial<WalOpenOptions> = {}): Promise<Wal> {
    const logger = this.#logger.child({ component: 'wal', channel: channel.name, term: channel.term.toString() });
    const signal = options.signal;
    const backend = await this.#backendOpener.open(channel, signal === undefined ? {} : { signal });
    try {
      if (channel.accessMode === 'ro') return new ReadOnlyWalAdaptor({ channel, backend, config: this.config, logger });
      return await this.#openReadWrite(channel, backend, signal, logger);
    } catch (error) {
      await backend.close().catch((e: unknown) => logger.warn({ err: e }, 'closing the backend after a failed open failed'));
      throw error;
    }
  }

  async #openReadWrite(channel: PChannelInfo, backend: WalBackend, signal: AbortSignal | undefined, logger: Logger): Promise<WalAdaptor> {
    const started = performance.now();
    const checkpoint = await loadWalCheckpoint(backend, logger);
    const replayFrom = replayStart(backend, checkpoint, logger);
    const firstTimeTick = await appendFirstTimeTick(backend, this.#tso, {
      checkpointId: replayFrom,
      sourceId: this.#nodeId,
      signal,
      backoff: this.config.firstTimeTickBackoff,
      logger,
    });
    const recovered = await replayRecovery(backend, {
      from: replayFrom,
      barrier: firstTimeTick,
      signal,
      readAheadBufferSize: this.config.recoveryReadAheadBufferSize,
      logger,
    });
    const wal = new WalAdaptor({
      channel,
      backend,
      tso: this.#tso,
      firstTimeTick,
      uncommitted: recovered.uncommitted,
      persistedCheckpoint: checkpoint,
      config: this.config,
      sourceId: this.#nodeId,
      logger,
      ...(this.#now !== undefined ? { now: this.#now } : {}),
    });
    try {
      await wal.start();
    } catch (error) {
      await wal.close().catch(() => undefined);
      throw error;
    }
    logger.info(
      {
        channel: formatPChannelInfo(channel),
        checkpoint: formatWalCheckpoint(checkpoint),
        recoveryTimeTick: firstTimeTick.timeTick.toString(),
        replayedMessages: recovered.replayedMessages,
        uncommittedTxns: recovered.uncommitted.length,
        elapsedMs: Math.round(performance.now() - started),
      },
      'wal opened',
    );
    return wal;
  }
}

/** Where recovery replays from: the checkpoint, else the oldest retained record. */
function replayStart(backend: WalBackend, checkpoint: WalCheckpoint | undefined, logger: Logger): MessageId | undefined {
  const earliest = backend.earliestMessageId();
  if (checkpoint === undefined) return earliest;
  if (earliest !== undefined && checkpoint.messageId.lt(earliest)) {
    logger.warn(
      { checkpoint: formatWalCheckpoint(checkpoint), earliest: earliest.toString() },
      'checkpoint is below the oldest retained record, replaying from the oldest record',
    );
    return earliest;
  }
  return checkpoint.messageId;
}
