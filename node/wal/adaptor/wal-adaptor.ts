/**
 * The read-write WAL of one pchannel at one term (Milvus `walAdaptorImpl`,
 * reference/milvus-node.md §2.3–2.4): the backend wrapped with input checks, the interceptor
 * chain, append retry, fencing, availability, scanners, checkpoints and retention.
 */
import { setMaxListeners } from 'node:events';
import {
  abortReason,
  anySignal,
  encodeInt64Property,
  formatPChannelInfo,
  type ImmutableMessage,
  type Logger,
  type MessageId,
  type MutableMessage,
  type PChannelInfo,
  PropertyKey,
  StreamingError,
  type TsoAllocator,
} from '../../../shared/index.js';
import type { WalBackend } from '../backend/index.js';
import { AppendContext, type AppendOutcome, type ExtraAppendResult, newAppendContext, type TimeTickAppender } from '../interceptors/index.js';
import type { CheckpointKeeper, RetentionResult, WalCheckpoint, WalRetention } from '../recovery/index.js';
import type { WalScannerAdaptor } from '../scanner/index.js';
import type { TxnMessageBuilder } from '../utility/index.js';
import type { AppendResult, Wal, WalMetrics, WalReadOptions } from '../wal.js';
import { type AppendPipeline, buildAppendPipeline } from './append-pipeline.js';
import { BackendAppender } from './backend-appender.js';
import { InFlightCounter } from './in-flight-counter.js';
import { AppendValidator } from './message-validation.js';
import { ScannerRegistry } from './scanner-registry.js';
import { buildRecoveryServices } from './recovery-services.js';
import { scannerTuningOf, type WalAdaptorConfig } from './wal-config.js';

/** What the opener hands over once recovery is done. */
export interface WalAdaptorParams {
  readonly channel: PChannelInfo;
  /** Opened read-write at `channel.term`; the WAL owns it from now on. */
  readonly backend: WalBackend;
  readonly tso: TsoAllocator;
  /** The recovery barrier this incarnation appended at open. */
  readonly firstTimeTick: ImmutableMessage;
  readonly uncommitted: readonly TxnMessageBuilder[];
  /** The checkpoint found at open. */
  readonly persistedCheckpoint: WalCheckpoint | undefined;
  readonly config: WalAdaptorConfig;
  readonly sourceId: bigint;
  readonly logger: Logger;
  /** Clock of retention (ms); `Date.now` by default. */
  readonly now?: () => number;
}

/**
 * Lifecycle: running → (close) draining: interceptors wind down (open transactions get at most
 * `txnGracefulCloseTimeoutMs`), appends still work → closing: availability aborted (ON_SHUTDOWN),
 * new appends refused, in-flight appends settle, scanners close, the last checkpoint is saved,
 * the backend closes, then the chain (operator, write-ahead buffer, ack manager) → closed.
 * Nothing is written after the backend closed; the checkpoint is the last write.
 *
 * Fencing: once the backend reports CHANNEL_FENCED (an append, a time tick, a checkpoint save or
 * a truncation) the WAL is fenced for good: availability aborts with that error, scanners end
 * with it, appends fail with it at once. The WAL stays open until the manager removes it.
 */
export class WalAdaptor implements Wal {
  readonly channel: PChannelInfo;
  readonly #backend: WalBackend;
  readonly #logger: Logger;
  readonly #availability = new AbortController();
  readonly #inFlight = new InFlightCounter();
  readonly #appender: BackendAppender;
  readonly #pipeline: AppendPipeline;
  readonly #scanners: ScannerRegistry;
  readonly #checkpoints: CheckpointKeeper;
  readonly #retention: WalRetention;
  readonly #recoveryTimeTick: bigint;
  readonly #validator: AppendValidator;
  /** `_wt` of every message, encoded once. */
  readonly #termProperty: Readonly<Record<string, string>>;
  #state: 'running' | 'draining' | 'closing' | 'closed' = 'running';
  #fenced: StreamingError | undefined;
  #closing: Promise<void> | undefined;

  /** @throws RangeError for invalid tuning (the opener then closes the backend). */
  constructor(params: WalAdaptorParams) {
    const { channel, backend, config, logger } = params;
    this.channel = channel;
    this.#backend = backend;
    this.#logger = logger;
    this.#recoveryTimeTick = params.firstTimeTick.timeTick;
    this.#validator = new AppendValidator(channel.name, config.maxMessageBytes);
    this.#termProperty = Object.freeze({ [PropertyKey.WalTerm]: encodeInt64Property(PropertyKey.WalTerm, channel.term) });
    const availability = this.#availability.signal;
    // Every scanner listens to it (consumers of a busy pchannel easily number more than 10).
    setMaxListeners(0, availability);
    const onFenced = (error: StreamingError): void => this.#markFenced(error);
    this.#appender = new BackendAppender({ backend, availability, backoff: config.appendBackoff, onFenced, logger });
    this.#pipeline = buildAppendPipeline({
      tso: params.tso,
      firstTimeTick: params.firstTimeTick,
      uncommitted: params.uncommitted,
      config,
      sourceId: params.sourceId,
      walTerm: channel.term,
      backendAppend: (message) => this.#appender.attempt(message),
      retryBackendAppend: (message, ctx, error) => this.#appender.retry(message, ctx.signal, error),
      appendTimeTick: this.#appendTimeTick,
      logger,
    });
    const wab = this.#pipeline.writeAheadBuffer;
    this.#scanners = new ScannerRegistry({
      channel,
      availability,
      logger: logger.child({ component: 'wal-scanner' }),
      source: { backend, writeAheadBuffer: wab, requestPersistedTimeTick: () => this.#pipeline.operator.requestPersisted() },
      tuning: scannerTuningOf(config),
    });
    const background = buildRecoveryServices({
      backend,
      writeAheadBuffer: wab,
      persisted: params.persistedCheckpoint,
      config,
      onFenced,
      logger,
      now: params.now,
    });
    this.#checkpoints = background.checkpoints;
    this.#retention = background.retention;
  }

  /**
   * Starts the time tick operator, checkpoint saves and retention, and waits until the
   * interceptors are ready (so appends never queue on readiness). Called once by the opener.
   */
  async start(): Promise<void> {
    this.#pipeline.operator.start();
    this.#checkpoints.start();
    this.#retention.start();
    await this.#waitReady(undefined);
  }

  get availability(): AbortSignal {
    return this.#availability.signal;
  }

  isAvailable(): boolean {
    return this.#state === 'running' && !this.#availability.signal.aborted;
  }

  /** The checkpoint last stored. */
  get persistedCheckpoint(): WalCheckpoint | undefined {
    return this.#checkpoints.persisted;
  }

  /** Scanners open now. */
  get scannerCount(): number {
    return this.#scanners.size;
  }

  append(message: MutableMessage, options?: { signal?: AbortSignal }): Promise<AppendResult> {
    try {
      if (this.#state === 'closing' || this.#state === 'closed') throw this.#shutdownError('append');
      if (this.#fenced !== undefined) throw this.#fenced;
      this.#validator.validate(message);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#appendChecked(message, options?.signal);
  }

  read(options: WalReadOptions): WalScannerAdaptor {
    if (this.#state === 'closing' || this.#state === 'closed') throw this.#shutdownError('read');
    if (this.#fenced !== undefined) throw this.#fenced;
    return this.#scanners.open(options);
  }

  metrics(): WalMetrics {
    return { channel: this.channel, mvccTimeTick: this.#pipeline.operator.latestMvccTimeTick(), recoveryTimeTick: this.#recoveryTimeTick };
  }

  /** Saves the checkpoint now if it moved (also done periodically and on close). */
  persistCheckpoint(): Promise<boolean> {
    return this.#checkpoints.persist();
  }

  /** Runs one retention pass now (also done periodically when a limit is set). */
  runRetention(): Promise<RetentionResult> {
    return this.#retention.runOnce();
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  #appendChecked(message: MutableMessage, signal: AbortSignal | undefined): Promise<AppendResult> {
    this.#inFlight.enter();
    // Only the caller's signal goes down the chain: every wait in there (a lock, the tick allocation,
    // a commit waiting for its bodies) ends once the appends ahead of it settle, and those stop
    // retrying when the WAL becomes unavailable (BackendAppender). One shared availability signal
    // under thousands of waiting appends would cost a listener each. The time tick interceptor
    // stamps `_wt` with `_tt` and `_lc`.
    const ctx = new AppendContext(signal, undefined);
    if (this.#pipeline.chain.isReady) return this.#pipeline.chain.appendThen(message, ctx, this.#appendOutcome);
    return this.#appendWhenReady(message, ctx);
  }

  /** Interceptors not ready yet (rare: none of ours has a readiness wait). */
  async #appendWhenReady(message: MutableMessage, ctx: AppendContext): Promise<AppendResult> {
    try {
      await this.#waitReady(ctx.signal);
    } catch (error) {
      this.#inFlight.leave();
      throw error;
    }
    return this.#pipeline.chain.appendThen(message, ctx, this.#appendOutcome);
  }

  /** How an append entered by {@link #appendChecked} ends: in the chain's reaction (no promise of our own). */
  readonly #appendOutcome: AppendOutcome<AppendResult> = {
    appended: (stored, ctx) => {
      this.#inFlight.leave();
      return toAppendResult(stored.messageId, ctx.result);
    },
    failed: () => this.#inFlight.leave(),
  };

  /** The sync operator's appends: same path, no input checks (TimeTick is not producible). */
  readonly #appendTimeTick: TimeTickAppender = async (message, { notPersisted, signal }) => {
    if (this.#availability.signal.aborted) throw abortReason(this.#availability.signal);
    this.#inFlight.enter();
    try {
      return await this.#appendThroughChain(this.#stampTerm(message), newAppendContext({ notPersisted, signal }));
    } finally {
      this.#inFlight.leave();
    }
  };

  /**
   * Sets `_wt` on the sync operator's time ticks (what `withWalTerm` does, minus the per-message
   * base-36 encoding: those ticks never carry one). Other messages get it from the time tick
   * interceptor.
   */
  #stampTerm(message: MutableMessage): MutableMessage {
    return message.withProperties(this.#termProperty);
  }

  async #appendThroughChain(message: MutableMessage, ctx: AppendContext): Promise<ImmutableMessage> {
    const chain = this.#pipeline.chain;
    if (!chain.isReady) await this.#waitReady(ctx.signal);
    return chain.append(message, ctx);
  }

  /** Interceptors not ready yet (rare: none of ours has a readiness wait): wait, or give up when unavailable. */
  async #waitReady(signal: AbortSignal | undefined): Promise<void> {
    const stop = anySignal([signal, this.#availability.signal]);
    try {
      await this.#pipeline.chain.ready({ signal: stop.signal });
    } finally {
      stop.dispose();
    }
  }

  #markFenced(error: StreamingError): void {
    if (this.#fenced !== undefined) return;
    this.#fenced = error;
    this.#logger.warn({ err: error }, 'wal fenced: a newer term owns the pchannel, it is unavailable from now on');
    if (!this.#availability.signal.aborted) this.#availability.abort(error);
    // Nothing this incarnation does can land any more: stop the background work now.
    this.#checkpoints.stop();
    void this.#retention.close();
    void this.#pipeline.operator.close().catch((e: unknown) => this.#logger.warn({ err: e }, 'stopping the time tick operator failed'));
  }

  async #close(): Promise<void> {
    const failures: unknown[] = [];
    const step = async (name: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (error) {
        this.#logger.warn({ err: error, step: name }, 'wal close step failed');
        failures.push(error);
      }
    };
    this.#state = 'draining';
    await step('retention', () => this.#retention.close());
    // A fenced WAL emits no more time ticks, so its transactions could only time out: skip.
    if (this.#fenced === undefined) await step('graceful close', () => this.#pipeline.chain.gracefulClose());
    this.#state = 'closing';
    if (!this.#availability.signal.aborted) this.#availability.abort(this.#shutdownError('append'));
    await step('in-flight appends', () => this.#inFlight.drained());
    await step('scanners', () => this.#scanners.closeAll());
    // The last write of this incarnation: everything it names is durable by now.
    if (this.#fenced === undefined) await step('checkpoint', () => this.#checkpoints.close());
    else this.#checkpoints.stop();
    await step('backend', () => this.#backend.close());
    await step('chain', () => this.#pipeline.chain.close());
    this.#state = 'closed';
    this.#logger.info({ checkpoint: this.#checkpoints.persisted?.messageId.toString() }, 'wal closed');
    if (failures.length > 0) throw new AggregateError(failures, `wal ${formatPChannelInfo(this.channel)}: ${failures.length} failure(s) while closing`);
  }

  #shutdownError(operation: string): StreamingError {
    return StreamingError.onShutdown(`cannot ${operation}: wal ${formatPChannelInfo(this.channel)} is ${this.#state}`);
  }
}

function toAppendResult(messageId: MessageId, extra: ExtraAppendResult): AppendResult {
  const { timeTick, lastConfirmedMessageId, txnContext } = extra;
  if (timeTick === undefined || lastConfirmedMessageId === undefined) {
    throw StreamingError.inner(`append of ${messageId.toString()} returned without time tick or last confirmed id`);
  }
  return txnContext === undefined ? { messageId, lastConfirmedMessageId, timeTick } : { messageId, lastConfirmedMessageId, timeTick, txnContext };
}
