/**
 * Writing to a grpc-js server stream with backpressure, one message in flight at a time, for the
 * send arm of a bidi handler (STYLE §4, rule 8).
 *
 * grpc-js calls a write's callback only once the HTTP/2 stream took the frame, and HTTP/2 holds
 * frames back while the client's flow-control window is exhausted (a client that does not read).
 * Waiting for that callback before producing the next message is therefore the strictest form of
 * the `write() === false` / `'drain'` contract: at most one message is queued in the call, never
 * the 16 objects an object-mode Writable would accept before `write()` returns false.
 */
import { abortReason } from '../../shared/index.js';

/** The part of a grpc-js server stream the writer uses. */
export interface WritableCall<Res> {
  write(message: Res, callback: (error?: Error | null) => void): boolean;
  /** Messages queued in the call and not yet taken by HTTP/2 (Node `Writable.writableLength`). */
  readonly writableLength: number;
}

/** Counters of one writer, for diagnostics and tests. */
export interface WriterStats {
  /** Writes whose callback has not fired yet (0 or 1). */
  readonly inFlight: number;
  /** The largest `inFlight` ever seen. */
  readonly maxInFlight: number;
  /** The largest `writableLength` seen right after a write was queued. */
  readonly maxQueued: number;
  /** Writes completed. */
  readonly written: number;
}

/** Writes one message at a time; see the module comment. */
export class CallWriter<Res> {
  readonly #call: WritableCall<Res>;
  #inFlight = 0;
  #maxInFlight = 0;
  #maxQueued = 0;
  #written = 0;

  constructor(call: WritableCall<Res>) {
    this.#call = call;
  }

  stats(): WriterStats {
    return { inFlight: this.#inFlight, maxInFlight: this.#maxInFlight, maxQueued: this.#maxQueued, written: this.#written };
  }

  /**
   * Queues `message` and resolves once the call has handed it to HTTP/2.
   *
   * @throws the write error; the abort reason of `signal` (the message may still be sent: it is
   *   queued already, and later writes stay behind it).
   */
  write(message: Res, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(abortReason(signal));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(abortReason(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      this.#inFlight++;
      this.#maxInFlight = Math.max(this.#maxInFlight, this.#inFlight);
      // grpc-js drops the callback of a write on a cancelled call; the abort above covers that.
      this.#call.write(message, (error) => {
        this.#inFlight--;
        signal.removeEventListener('abort', onAbort);
        if (error) {
          reject(error);
          return;
        }
        this.#written++;
        resolve();
      });
      this.#maxQueued = Math.max(this.#maxQueued, this.#call.writableLength);
    });
  }
}
