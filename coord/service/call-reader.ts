/**
 * Pull-based reading of a grpc-js server stream, one request at a time, for the recv arm of a
 * bidi handler.
 *
 * Why not `for await (const req of call)`: Node's readable async iterator destroys the stream
 * when it ends with an error, and a handler fails a call by emitting `'error'` on it
 * (`failServerStream`); a destroyed grpc-js server stream never sends its status, so the client
 * would hang. It also cannot be interrupted by an AbortSignal without `return()`, which destroys
 * the stream too. This reader only listens, pauses the call between requests (so the client's
 * requests are flow-controlled, never buffered here beyond one), and can be abandoned at any time.
 */
import type { Readable } from 'node:stream';
import { abortReason } from '../../shared/index.js';

/** The part of a grpc-js `ServerDuplexStream` the reader uses (any object-mode Readable). */
export type ReadableCall = Pick<Readable, 'on' | 'off' | 'pause' | 'resume'>;

type Waiter<Req> = { resolve: (r: Req | undefined) => void; reject: (e: Error) => void };

/** See the module comment. `next()` resolves `undefined` at end of stream (client half-close). */
export class CallReader<Req> {
  readonly #call: ReadableCall;
  readonly #buffered: Req[] = [];
  #ended = false;
  #error: Error | undefined;
  #waiter: Waiter<Req> | undefined;
  readonly #onData = (req: Req): void => {
    this.#call.pause();
    this.#buffered.push(req);
    this.#wake();
  };
  readonly #onEnd = (): void => {
    this.#ended = true;
    this.#wake();
  };
  readonly #onError = (err: Error): void => {
    this.#error ??= err;
    this.#wake();
  };

  constructor(call: ReadableCall) {
    this.#call = call;
    call.pause();
    call.on('data', this.#onData);
    call.on('end', this.#onEnd);
    // A call the client cancels may close without 'end'; it then reads as end of stream.
    call.on('close', this.#onEnd);
    call.on('error', this.#onError);
  }

  /**
   * The next request, `undefined` once the client half-closed.
   *
   * @throws the stream's error; the abort reason of `signal`.
   */
  next(signal: AbortSignal): Promise<Req | undefined> {
    if (signal.aborted) return Promise.reject(abortReason(signal));
    const ready = this.#take();
    if (ready !== 'wait') return ready;
    return new Promise<Req | undefined>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiter = undefined;
        reject(abortReason(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiter = {
        resolve: (r) => {
          signal.removeEventListener('abort', onAbort);
          resolve(r);
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      this.#call.resume();
    });
  }

  /** Stops listening (idempotent). The call stays as it is. */
  dispose(): void {
    this.#call.off('data', this.#onData);
    this.#call.off('end', this.#onEnd);
    this.#call.off('close', this.#onEnd);
    this.#call.off('error', this.#onError);
  }

  #take(): Promise<Req | undefined> | 'wait' {
    const req = this.#buffered.shift();
    if (req !== undefined) return Promise.resolve(req);
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve(undefined);
    return 'wait';
  }

  #wake(): void {
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    const ready = this.#take();
    if (ready === 'wait') return;
    this.#waiter = undefined;
    ready.then(waiter.resolve, waiter.reject);
  }
}
