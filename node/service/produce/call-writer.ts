/**
 * The send side of a grpc-js server stream, honouring `write() === false` (STYLE §4, rule 8).
 *
 * A grpc-js server call is an object-mode Writable: `write()` returns false once 16 frames are
 * queued that HTTP/2 has not taken yet (a client that does not read exhausts its flow-control
 * window, so HTTP/2 stops taking them). From then on nothing is written until `'drain'`. Writes
 * are serialised, so the recv and send arms of one handler may both write and frames go out in the
 * order `write()` was called; each write waits for the ones before it.
 */
import { abortReason, anySignal, StreamingError } from '../../../shared/index.js';

/** The part of a grpc-js server stream the writer uses. */
export interface WritableCall<Res> {
  write(message: Res): boolean;
  once(event: 'drain', listener: () => void): unknown;
  off(event: 'drain', listener: () => void): unknown;
  /** Frames queued in the call and not yet taken by HTTP/2. */
  readonly writableLength: number;
  /**
   * True from a `write()` that returned false until `'drain'` (Node's own flag, so a `'drain'`
   * that fired while nobody was writing is not waited for again).
   */
  readonly writableNeedDrain: boolean;
}

/** Counters of one writer, for stats and tests. */
export interface CallWriterStats {
  /** Frames handed to the call. */
  readonly written: number;
  /** True while a write waits for `'drain'` (the client is not keeping up). */
  readonly waitingForDrain: boolean;
  /** How often a write had to wait for `'drain'`. */
  readonly drainWaits: number;
  /** Frames queued in the call now, and the most ever seen. */
  readonly queued: number;
  readonly maxQueued: number;
}

/** See the module comment. */
export class CallWriter<Res> {
  readonly #call: WritableCall<Res>;
  /** Ends every wait of this writer (the call is gone). */
  readonly #signal: AbortSignal;
  /** Aborted by {@link close}: the call is ending, nothing more may be written. */
  readonly #closed = new AbortController();
  #tail: Promise<void> = Promise.resolve();
  #waitingForDrain = false;
  #written = 0;
  #drainWaits = 0;
  #maxQueued = 0;

  constructor(call: WritableCall<Res>, signal: AbortSignal) {
    this.#call = call;
    this.#signal = signal;
  }

  stats(): CallWriterStats {
    const queued = this.#call.writableLength;
    return {
      written: this.#written,
      waitingForDrain: this.#waitingForDrain,
      drainWaits: this.#drainWaits,
      queued,
      maxQueued: this.#maxQueued,
    };
  }

  /**
   * Queues `message` behind earlier writes and resolves once the call accepted it (not once the
   * client received it).
   *
   * @throws the abort reason of `signal` or of the writer's own signal (the message is then not
   *   written, and later writes go on); ON_SHUTDOWN after {@link close}.
   */
  write(message: Res, signal?: AbortSignal): Promise<void> {
    const run = this.#tail.then(() => this.#writeNow(message, signal));
    this.#tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Refuses every later write, and those still waiting here: the call is about to end. Idempotent. */
  close(reason: Error = StreamingError.onShutdown('the stream is ending')): void {
    if (!this.#closed.signal.aborted) this.#closed.abort(reason);
  }

  async #writeNow(message: Res, signal: AbortSignal | undefined): Promise<void> {
    if (this.#call.writableNeedDrain) await this.#drain(signal);
    if (this.#closed.signal.aborted) throw abortReason(this.#closed.signal);
    if (this.#signal.aborted) throw abortReason(this.#signal);
    if (signal?.aborted === true) throw abortReason(signal);
    this.#call.write(message);
    this.#written++;
    this.#maxQueued = Math.max(this.#maxQueued, this.#call.writableLength);
  }

  async #drain(signal: AbortSignal | undefined): Promise<void> {
    const stop = anySignal([this.#signal, this.#closed.signal, signal]);
    this.#drainWaits++;
    this.#waitingForDrain = true;
    try {
      await new Promise<void>((resolve, reject) => {
        if (stop.signal.aborted) {
          reject(abortReason(stop.signal));
          return;
        }
        const onDrain = (): void => {
          stop.signal.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = (): void => {
          this.#call.off('drain', onDrain);
          reject(abortReason(stop.signal));
        };
        this.#call.once('drain', onDrain);
        stop.signal.addEventListener('abort', onAbort, { once: true });
      });
    } finally {
      this.#waitingForDrain = false;
      stop.dispose();
    }
  }
}
