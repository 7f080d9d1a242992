/**
 * What both watch implementations share: the queue between producer and consumer, the
 * single-use async iteration, `ready()`, idempotent `close()`, the abort signal and the
 * store-shutdown path. Subclasses produce batches into {@link WatchBase.queue}.
 */
import { StreamingError } from '../errors/index.js';
import { BatchQueue } from './batch-queue.js';
import type { MetaWatch, WatchBatch } from './meta-kv.js';

/** Base of both watch implementations. */
export abstract class WatchBase implements MetaWatch {
  protected readonly queue = new BatchQueue<WatchBatch>();
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => void this.close();
  readonly #onClosed: () => void;
  readonly #ready: Promise<void>;
  #resolveReady: () => void = () => undefined;
  #rejectReady: (e: unknown) => void = () => undefined;
  #closing: Promise<void> | undefined;
  #iterating = false;

  constructor(signal: AbortSignal | undefined, onClosed: () => void) {
    this.#onClosed = onClosed;
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // Nobody has to call ready(): keep an early close from becoming an unhandled rejection.
    this.#ready.catch(() => undefined);
    this.#signal = signal;
    if (signal?.aborted) queueMicrotask(this.#onAbort);
    else signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** True once close() (or a store shutdown) started. */
  protected get isClosing(): boolean {
    return this.#closing !== undefined;
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  protected markReady(): void {
    this.#resolveReady();
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#signal?.removeEventListener('abort', this.#onAbort);
      this.queue.clear();
      this.queue.end();
      this.#rejectReady(StreamingError.onShutdown('watch closed before it was established'));
      try {
        await this.onClosing();
      } finally {
        this.#onClosed();
      }
    })();
    return this.#closing;
  }

  /** The store is going away: the consumer's iteration throws `error` (ON_SHUTDOWN). */
  shutdown(error: StreamingError): Promise<void> {
    this.queue.clear();
    this.queue.end(error);
    return this.close();
  }

  /** Stops the producer; called once by close(). */
  protected abstract onClosing(): Promise<void>;

  /** Called after the consumer took a batch (lets the producer lift backpressure). */
  protected onTaken(_queue: BatchQueue<WatchBatch>): void {}

  /**
   * Called when the queue is empty, before waiting for a push: a subclass may produce batches
   * itself (the embedded store replays history here). Returns true to look at the queue again.
   */
  protected fill(): Promise<boolean> {
    return Promise.resolve(false);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchBatch> {
    if (this.#iterating) throw new TypeError('a MetaWatch can be iterated only once');
    this.#iterating = true;
    try {
      for (;;) {
        let next = await this.queue.take(false);
        if (next === undefined) {
          if (await this.fill()) continue;
          next = await this.queue.take(true);
          if (next === undefined) continue;
        }
        if ('done' in next) return;
        this.onTaken(this.queue);
        yield next.item;
        if (next.item.kind === 'compacted') return;
      }
    } finally {
      await this.close();
    }
  }
}
