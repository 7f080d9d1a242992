/**
 * The recv arm's view of a grpc-js server stream (the server side of a bidi call): one request at
 * a time, pulled, abortable. Used by coord's discovery server and node's produce/consume handlers.
 *
 * Why not `for await (const req of call)`: when a Readable's async iterator finishes (end of
 * stream, `break`, or an `'error'` event) Node destroys the stream, and a destroyed grpc-js
 * server call never sends its status, so the client would hang. Our handlers end a call by
 * emitting `'error'` (`failServerStream`) or by `end()` after the last frame, both of which need
 * the call alive; and a recv arm must also stop waiting when its owner goes away (a WAL, the
 * server), which an iterator can only do through `return()` (another destroy). So this reader
 * only listens, and can be abandoned at any time.
 *
 * Flow control: the call is paused whenever a request is handed over, and resumed only while the
 * recv arm waits for the next one. grpc-js then stops pulling frames off HTTP/2 once its own small
 * object buffer is full, so a recv arm that stops reading pushes back on the client through the
 * HTTP/2 window; nothing is buffered here beyond what the call already emitted.
 */
import type { Readable } from 'node:stream';
import { abortReason } from '../util/index.js';

/** The part of a grpc-js server stream the reader uses (any object-mode Readable fits). */
export type ReadableCall = Pick<Readable, 'on' | 'off' | 'pause' | 'resume'>;

interface Waiter<Req> {
  readonly resolve: (request: Req | undefined) => void;
  readonly reject: (error: Error) => void;
}

/** See the module comment. `next()` resolves `undefined` once the client half-closed. */
export class CallReader<Req> {
  readonly #call: ReadableCall;
  readonly #buffered: Req[] = [];
  #ended = false;
  #error: Error | undefined;
  #waiter: Waiter<Req> | undefined;

  readonly #onData = (request: Req): void => {
    this.#call.pause();
    this.#buffered.push(request);
    this.#wake();
  };
  readonly #onEnd = (): void => {
    this.#ended = true;
    this.#wake();
  };
  readonly #onError = (error: Error): void => {
    this.#error ??= error;
    this.#wake();
  };

  constructor(call: ReadableCall) {
    this.#call = call;
    call.pause();
    call.on('data', this.#onData);
    call.on('end', this.#onEnd);
    // A cancelled call may close without 'end'; the recv arm then simply sees the end.
    call.on('close', this.#onEnd);
    call.on('error', this.#onError);
  }

  /**
   * The next request; `undefined` at the end of the client's stream.
   *
   * @throws the call's error, or the abort reason of `signal` (the request, if one arrives later,
   *   stays buffered for a later `next()`).
   */
  next(signal: AbortSignal): Promise<Req | undefined> {
    if (signal.aborted) return Promise.reject(abortReason(signal));
    const ready = this.#take();
    if (ready !== undefined) return ready;
    return new Promise<Req | undefined>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiter = undefined;
        this.#call.pause();
        reject(abortReason(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiter = {
        resolve: (request) => {
          signal.removeEventListener('abort', onAbort);
          resolve(request);
        },
        reject: (error) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      this.#call.resume();
    });
  }

  /** Stops listening (idempotent); the call itself is left as it is. */
  dispose(): void {
    this.#call.off('data', this.#onData);
    this.#call.off('end', this.#onEnd);
    this.#call.off('close', this.#onEnd);
    this.#call.off('error', this.#onError);
  }

  /** A settled answer if one is ready, else undefined. */
  #take(): Promise<Req | undefined> | undefined {
    if (this.#buffered.length > 0) return Promise.resolve(this.#buffered.shift());
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve(undefined);
    return undefined;
  }

  #wake(): void {
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    const ready = this.#take();
    if (ready === undefined) return;
    this.#waiter = undefined;
    ready.then(waiter.resolve, waiter.reject);
  }
}
