/**
 * The WAL scanner (Milvus `scannerAdaptorImpl`, reference/milvus-node.md §4.2): a
 * {@link SwitchableScanner} feeding a {@link ScanPipeline}, whose output waits in a small bounded
 * queue for the consumer.
 *
 * Flow and backpressure, end to end:
 *
 *   backend read-ahead (≤ readAheadBufferSize) ─┐
 *                                               ├─ switchable scanner ─ pump ─ pipeline ─ pending queue (≤ 16) ─ for await
 *   write-ahead buffer reader (a cursor only) ──┘
 *
 * The upstream hands over chunks (what is buffered now, at most the read-ahead size), so the pump
 * pays one `await` per chunk rather than per message. It pushes while the pending queue has room;
 * when the queue is full it waits for the consumer to take half of it, and reads nothing further
 * meanwhile (the rest of its chunk waits with it). So a slow consumer holds at most the queue, one
 * chunk, the backend read-ahead, and what the reorder and txn buffers keep between two time ticks
 * (they are never bounded themselves: Milvus PR #34122 showed that refusing input there can stall
 * the scanner forever).
 */
import { asStreamingError, StreamingError } from '../../../shared/errors/index.js';
import { type Logger, noopLogger } from '../../../shared/log/index.js';
import { type BackoffOptions, Deferred, Lifecycle } from '../../../shared/util/index.js';
import type { WalReadOptions, WalScanner } from '../wal.js';
import type { ScannedMessage } from '../utility/index.js';
import { DEFAULT_SCANNER_BACKOFF, type ScannerMode } from './mode-scanner.js';
import { PendingQueue } from './pending-queue.js';
import { ScanPipeline, type ScanPipelineStats } from './scan-pipeline.js';
import type { ScannerSource } from './scanner-source.js';
import { SwitchableScanner } from './switchable-scanner.js';

/** Read-ahead of the backend scanner while catching up (Milvus `streaming.walReadAheadBuffer.length`). */
export const DEFAULT_SCANNER_READ_AHEAD = 128;
/** Messages ordered and waiting for the consumer before the scanner stops reading (Milvus: 16). */
export const DEFAULT_PENDING_THRESHOLD = 16;

/** Tuning of {@link createWalScanner}; the defaults are Milvus's. */
export interface WalScannerTuning {
  readonly logger?: Logger;
  /** Default {@link DEFAULT_SCANNER_READ_AHEAD}. */
  readonly readAheadBufferSize?: number;
  /** Capacity of the pending queue; default {@link DEFAULT_PENDING_THRESHOLD}. */
  readonly pendingThreshold?: number;
  /** Retry delays of backend open/read failures; default 100 ms ×2 ≤ 5 s. */
  readonly backoff?: Partial<BackoffOptions>;
  /** Observes each catch-up ↔ tailing switch (for metrics). */
  readonly onModeChange?: (mode: ScannerMode) => void;
}

/** A snapshot of a scanner's state, for metrics and tests. */
export interface WalScannerStats extends ScanPipelineStats {
  readonly mode: ScannerMode;
  readonly switchesToTailing: number;
  readonly switchesToCatchup: number;
  /** Messages ordered and waiting for the consumer. */
  readonly pending: number;
  /** Messages the backend scanner read ahead (0 while tailing). */
  readonly backendBuffered: number;
}

const DONE: IteratorResult<ScannedMessage, undefined> = Object.freeze({ value: undefined, done: true });
let scannerSeq = 0;

/**
 * Opens a scanner over `source`; reading starts at once (for a read-write WAL it first asks for a
 * persisted time tick, so the scanner has one to catch up to).
 *
 * @throws StreamingError INVAILD_ARGUMENT for invalid filters; RangeError for invalid tuning.
 * @example
 * ```ts
 * const scanner = createWalScanner(source, { vchannel, deliverPolicy: deliverStartFrom(lc), filters: [{ kind: 'timeTickGt', timeTick: tt }] });
 * for await (const message of scanner) await send(message);
 * const error = await scanner.closed(); // undefined after close()
 * ```
 */
export function createWalScanner(source: ScannerSource, options: WalReadOptions, tuning: WalScannerTuning = {}): WalScannerAdaptor {
  return new WalScannerAdaptor(source, options, tuning);
}

/**
 * The {@link WalScanner} of every WAL; build it with {@link createWalScanner}.
 *
 * Ending: `close()` (or leaving a `for await`) ends iteration with `done`, also for a `next()`
 * already waiting, and `closed()` resolves undefined. An error (fenced, truncated position, WAL
 * shutdown, the `signal` of the options aborting) ends iteration with that StreamingError at the
 * next `next()`, dropping what was queued, and `closed()` resolves with it. Either way the
 * backend scanner is released before `close()` / `closed()` resolve.
 */
export class WalScannerAdaptor implements WalScanner {
  readonly name: string;
  readonly #source: ScannerSource;
  readonly #logger: Logger;
  readonly #life: Lifecycle;
  readonly #queue: PendingQueue<ScannedMessage>;
  readonly #pipeline: ScanPipeline;
  readonly #upstream: SwitchableScanner;
  readonly #ended = new Deferred<StreamingError | undefined>();
  readonly #signal: AbortSignal | undefined;
  #state: 'running' | 'closed' | 'failed' = 'running';
  #error: StreamingError | undefined;
  #shutdown: Promise<void> | undefined;

  constructor(source: ScannerSource, options: WalReadOptions, tuning: WalScannerTuning) {
    this.name = options.name !== undefined && options.name !== '' ? options.name : `scanner-${++scannerSeq}`;
    this.#source = source;
    this.#logger = (tuning.logger ?? noopLogger).child({ component: 'wal-scanner', scanner: this.name, channel: source.backend.channel.name });
    this.#pipeline = new ScanPipeline({ vchannel: options.vchannel, filters: options.filters, logger: this.#logger });
    const readAhead = tuning.readAheadBufferSize ?? DEFAULT_SCANNER_READ_AHEAD;
    if (!Number.isSafeInteger(readAhead) || readAhead < 1) throw new RangeError(`readAheadBufferSize must be an integer >= 1, got ${readAhead}`);
    // PendingQueue checks the capacity (RangeError).
    this.#queue = new PendingQueue<ScannedMessage>(tuning.pendingThreshold ?? DEFAULT_PENDING_THRESHOLD);
    this.#life = new Lifecycle({ name: `wal scanner ${this.name}`, onClose: () => this.#upstream.close() });
    this.#life.markRunning();
    this.#upstream = new SwitchableScanner({
      name: this.name,
      source,
      deliverPolicy: options.deliverPolicy,
      signal: this.#life.signal,
      readAheadBufferSize: readAhead,
      backoff: { ...DEFAULT_SCANNER_BACKOFF, ...tuning.backoff },
      logger: this.#logger,
      ...(tuning.onModeChange !== undefined ? { onModeChange: tuning.onModeChange } : {}),
    });
    this.#signal = options.signal;
    if (this.#signal?.aborted === true) this.#onAbort();
    else this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
    if (this.#state === 'running') void this.#pump();
  }

  /** The current mode of the upstream: `catchup` (backend) or `tailing` (write-ahead buffer). */
  get mode(): ScannerMode {
    return this.#upstream.mode;
  }

  get stats(): WalScannerStats {
    const switches = this.#upstream.switches;
    return {
      ...this.#pipeline.stats,
      mode: this.#upstream.mode,
      switchesToTailing: switches.toTailing,
      switchesToCatchup: switches.toCatchup,
      pending: this.#queue.size,
      backendBuffered: this.#upstream.bufferedCount,
    };
  }

  [Symbol.asyncIterator](): AsyncIterator<ScannedMessage, undefined> {
    return {
      next: () => this.#queue.next(),
      return: async () => {
        await this.close();
        return DONE;
      },
    };
  }

  /** The next message, waiting for one; see the class comment for how iteration ends. */
  next(): Promise<IteratorResult<ScannedMessage, undefined>> {
    return this.#queue.next();
  }

  close(): Promise<void> {
    if (this.#state === 'running') {
      this.#state = 'closed';
      // Ends iteration with done, also for a next() already waiting.
      this.#queue.close();
    }
    return this.#stop();
  }

  closed(): Promise<StreamingError | undefined> {
    return this.#ended.promise;
  }

  /** Pulls the upstream through the pipeline into the queue until the scanner ends. Never rejects. */
  async #pump(): Promise<void> {
    const queue = this.#queue;
    const pipeline = this.#pipeline;
    try {
      if (this.#source.writeAheadBuffer !== undefined) this.#requestPersistedTimeTick();
      for (;;) {
        const chunk = await this.#upstream.next();
        for (const message of chunk) {
          for (const out of pipeline.handle(message, queue.size)) {
            // Room in the queue (the common case) costs no promise. An ended queue (close() or
            // a failure) refuses everything: the pump just stops.
            while (!queue.offer(out)) {
              if (queue.ended) return;
              await queue.room();
            }
          }
        }
      }
    } catch (error) {
      // After close() or a failure the pump just stops; otherwise this error ends the scanner.
      if (!this.#life.signal.aborted) this.#fail(asStreamingError(error));
    }
  }

  #requestPersistedTimeTick(): void {
    try {
      this.#source.requestPersistedTimeTick();
    } catch (error) {
      // Only speeds up the first switch to tailing; the next persisted tick does it too.
      this.#logger.warn({ err: error }, 'requesting a persisted time tick failed');
    }
  }

  readonly #onAbort = (): void => {
    const reason: unknown = this.#signal?.reason;
    this.#fail(
      reason instanceof StreamingError ? reason : StreamingError.onShutdown(`wal scanner ${this.name} aborted: ${String(reason)}`),
    );
  };

  #fail(error: StreamingError): void {
    if (this.#state !== 'running') return;
    this.#state = 'failed';
    this.#error = error;
    this.#logger.info({ err: error }, 'scanner ended with an error');
    this.#queue.fail(error);
    void this.#stop();
  }

  /** Stops the pump and releases the upstream, once. */
  #stop(): Promise<void> {
    this.#shutdown ??= (async () => {
      this.#signal?.removeEventListener('abort', this.#onAbort);
      try {
        await this.#life.close(this.#error);
      } catch (error) {
        this.#logger.warn({ err: error }, 'releasing the scanner upstream failed');
      }
      this.#ended.resolve(this.#error);
    })();
    return this.#shutdown;
  }
}
