/**
 * A scanner of one pchannel, shared by every backend: it reads by offset from a {@link ScanSource}
 * into a bounded read-ahead buffer.
 *
 * Catch-up and tailing are one loop: while the position is below the durable end, read a chunk
 * (from the tail cache when it still holds the position, else from storage); at the end, wait to
 * be woken by the next durable batch. The position is the only state, so switching between the two
 * can neither lose nor repeat a message.
 *
 * Backpressure: a read asks for at most the free room in the buffer, and the next read starts only
 * when the consumer has drained the buffer to half, so at most `readAhead` messages are ever held,
 * however far ahead the writer runs. A consumer takes either one message (`next()`) or the whole
 * buffer at once (`takeBuffered()`, which empties it and so starts the refill at once).
 *
 * A position below the retained range is an UNRECOVERABLE error naming the earliest available id,
 * checked before each read and again after it (a truncation may race the read): never a silent skip.
 */
import { StreamingError } from '../../../shared/errors/index.js';
import type { ImmutableMessage } from '../../../shared/message/index.js';
import { Deferred, RingBuffer } from '../../../shared/util/index.js';
import { abortedError, truncatedError } from './backend-errors.js';
import { FIRST_OFFSET } from './storage-engine.js';
import type { BackendScanner } from './wal-backend.js';

/** What a scanner reads from: the channel store. */
export interface ScanSource {
  readonly name: string;
  /** Records below are gone. */
  readonly floor: bigint;
  /** One past the last durable record. */
  readonly end: bigint;
  /** Up to `limit` messages from `from` on (below `end`); synchronous when served from memory. */
  read(from: bigint, limit: number): ImmutableMessage[] | Promise<ImmutableMessage[]>;
  /** Calls `wake` once, after the next durable batch. */
  addWaiter(wake: () => void): void;
  removeWaiter(wake: () => void): void;
}

/** How a scanner starts. */
export interface StoreScannerOptions {
  readonly name: string;
  /** First offset to deliver. */
  readonly position: bigint;
  readonly readAhead: number;
  readonly signal?: AbortSignal;
  /** Called once when the scanner ended, however it ended. */
  readonly onEnd?: (scanner: StoreScanner) => void;
}

const DONE: IteratorResult<ImmutableMessage, undefined> = Object.freeze({ value: undefined, done: true });

/** The scanner of every backend; see the file comment. */
export class StoreScanner implements BackendScanner {
  readonly name: string;
  readonly #source: ScanSource;
  readonly #readAhead: number;
  readonly #lowWater: number;
  readonly #buffer: RingBuffer<ImmutableMessage>;
  readonly #ended = new Deferred<StreamingError | undefined>();
  readonly #onEnd: ((scanner: StoreScanner) => void) | undefined;
  readonly #signal: AbortSignal | undefined;
  #position: bigint;
  #state: 'open' | 'closed' | 'failed' = 'open';
  #error: StreamingError | undefined;
  #fetching: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(source: ScanSource, options: StoreScannerOptions) {
    this.name = options.name;
    this.#source = source;
    this.#position = options.position;
    this.#readAhead = options.readAhead;
    this.#lowWater = Math.floor(options.readAhead / 2);
    this.#buffer = new RingBuffer<ImmutableMessage>(Math.min(options.readAhead, 1024));
    this.#onEnd = options.onEnd;
    this.#signal = options.signal;
    if (this.#signal !== undefined) {
      if (this.#signal.aborted) this.#end('failed', abortedError(this.#signal, `scanner ${this.name}`));
      else this.#signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  get bufferedCount(): number {
    return this.#buffer.length;
  }

  /** The offset of the next message this scanner will read from storage. */
  get position(): bigint {
    return this.#position;
  }

  [Symbol.asyncIterator](): AsyncIterator<ImmutableMessage, undefined> {
    return {
      next: () => this.next(),
      return: async () => {
        await this.close();
        return DONE;
      },
    };
  }

  /** The next message; see {@link BackendScanner} for how iteration ends. */
  next(): Promise<IteratorResult<ImmutableMessage, undefined>> {
    if (this.#state === 'open' && this.#buffer.length > 0) return Promise.resolve(this.#take());
    return this.#nextSlow();
  }

  /** Everything read ahead, or undefined; see {@link BackendScanner.takeBuffered}. */
  takeBuffered(): ImmutableMessage[] | undefined {
    if (this.#state !== 'open' || this.#buffer.length === 0) return undefined;
    const chunk = this.#buffer.drain();
    // The buffer is empty now (below the low-water mark): refill while the caller works on the
    // chunk. From memory this completes synchronously, before this call returns.
    this.#startFetch();
    return chunk;
  }

  close(): Promise<void> {
    this.#end('closed', undefined);
    return this.#settled();
  }

  /** Ends the scanner with `error` (its owner closed or was fenced) and waits for reads to stop. */
  fail(error: StreamingError): Promise<void> {
    this.#end('failed', error);
    return this.#settled();
  }

  closed(): Promise<StreamingError | undefined> {
    return this.#ended.promise;
  }

  #take(): IteratorResult<ImmutableMessage, undefined> {
    const value = this.#buffer.shift() as ImmutableMessage;
    if (this.#buffer.length <= this.#lowWater) this.#startFetch();
    return { value, done: false };
  }

  async #nextSlow(): Promise<IteratorResult<ImmutableMessage, undefined>> {
    for (;;) {
      if (this.#state === 'failed') throw this.#error;
      if (this.#state === 'closed') return DONE;
      if (this.#buffer.length > 0) return this.#take();
      this.#startFetch();
      await this.#fetching;
    }
  }

  #startFetch(): void {
    if (this.#fetching !== undefined || this.#state !== 'open') return;
    const fetching = this.#fetch();
    this.#fetching = fetching;
    void fetching.then(() => {
      if (this.#fetching === fetching) this.#fetching = undefined;
    });
  }

  /** Fills the buffer with what is available, waiting for new data at the end. Never rejects. */
  async #fetch(): Promise<void> {
    try {
      for (;;) {
        if (this.#state !== 'open') return;
        const room = this.#readAhead - this.#buffer.length;
        if (room <= 0) return;
        const from = this.#position;
        if (from < this.#source.floor && !this.#clampToFloor()) return;
        if (this.#position >= this.#source.end) {
          await this.#waitForData();
          continue;
        }
        const start = this.#position;
        const result = this.#source.read(start, room);
        const batch = Array.isArray(result) ? result : await result;
        if (this.#state !== 'open') return;
        const head = batch[0];
        if (head === undefined || head.messageId.offset !== start) {
          // Records at the position vanished under the read: a truncation raced it.
          if (start < this.#source.floor) this.#end('failed', truncatedError(this.#source.name, start, this.#source.floor));
          else this.#end('failed', StreamingError.inner(`pchannel ${this.#source.name}: record ${start} is missing from storage`));
          return;
        }
        for (const message of batch) this.#buffer.push(message);
        this.#position = (batch[batch.length - 1] as ImmutableMessage).messageId.offset + 1n;
        return;
      }
    } catch (error) {
      this.#end('failed', toStreamingError(error));
    }
  }

  /**
   * Below the floor: on a never-truncated log that is just before the first record (start there);
   * otherwise the position was truncated away. Returns false when the scanner failed.
   */
  #clampToFloor(): boolean {
    const floor = this.#source.floor;
    if (floor === FIRST_OFFSET) {
      this.#position = floor;
      return true;
    }
    this.#end('failed', truncatedError(this.#source.name, this.#position, floor));
    return false;
  }

  #waitForData(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
      this.#source.addWaiter(this.#onData);
    });
  }

  readonly #onData = (): void => {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  };

  readonly #onAbort = (): void => {
    if (this.#signal !== undefined) this.#end('failed', abortedError(this.#signal, `scanner ${this.name}`));
  };

  #end(state: 'closed' | 'failed', error: StreamingError | undefined): void {
    if (this.#state !== 'open') return;
    this.#state = state;
    this.#error = error;
    this.#buffer.drain();
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#source.removeWaiter(this.#onData);
    this.#onData();
    this.#ended.resolve(error);
    this.#onEnd?.(this);
  }

  /** Waits until no read is in flight, so storage is not touched after the owner closes. */
  async #settled(): Promise<void> {
    while (this.#fetching !== undefined) await this.#fetching;
  }
}

function toStreamingError(error: unknown): StreamingError {
  if (error instanceof StreamingError) return error;
  return StreamingError.inner(error instanceof Error ? error.message : String(error), error);
}
