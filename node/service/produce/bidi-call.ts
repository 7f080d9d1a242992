/**
 * One bidi call of the handler service as its two arms use it: a {@link CallReader} for the recv
 * arm, a {@link CallWriter} for whoever writes, a signal for "the client went away", and exactly
 * one way out: {@link BidiCall.end} (status OK after a last frame) or {@link BidiCall.fail}
 * (a StreamingError status with the Milvus details trailer).
 */
import { setMaxListeners } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import { abortReason, CallReader, failServerStream, StreamingError } from '../../../shared/index.js';
import { CallWriter } from './call-writer.js';

/** See the module comment. */
export class BidiCall<Req, Res> {
  readonly reader: CallReader<Req>;
  readonly writer: CallWriter<Res>;
  readonly #call: grpc.ServerDuplexStream<Req, Res>;
  readonly #cancelled = new AbortController();
  #finished = false;

  constructor(call: grpc.ServerDuplexStream<Req, Res>, what: string) {
    this.#call = call;
    // Every append and every wait of the stream listens to it; a busy producer has hundreds.
    setMaxListeners(0, this.#cancelled.signal);
    const onCancelled = (): void => {
      if (!this.#cancelled.signal.aborted) this.#cancelled.abort(StreamingError.onShutdown(`${what} stream cancelled by the client`));
    };
    // grpc-js reports a client cancel, a deadline or a broken connection as 'cancelled'.
    call.once('cancelled', onCancelled);
    if (call.cancelled) onCancelled();
    this.reader = new CallReader<Req>(call);
    this.writer = new CallWriter<Res>(call, this.#cancelled.signal);
  }

  /** Aborted once the client cancelled the call or its connection broke: nothing can be sent any more. */
  get cancelled(): AbortSignal {
    return this.#cancelled.signal;
  }

  /** The request metadata (where the handshake lives). */
  get metadata(): grpc.Metadata {
    return this.#call.metadata;
  }

  /** True once {@link end} or {@link fail} ran. */
  get finished(): boolean {
    return this.#finished;
  }

  /**
   * Writes `last` behind every queued frame, then ends the call with status OK. If `last` cannot
   * be written (the call was cancelled, or `signal` aborted while the client does not read) the
   * call ends with that reason instead. Later calls of end/fail do nothing.
   */
  async end(last: Res, signal?: AbortSignal): Promise<void> {
    if (this.#finished) return;
    try {
      await this.writer.write(last, signal);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (this.#finish()) this.#call.end();
  }

  /**
   * Ends the call with `error` as its status. Frames already queued in the call go out first;
   * writes still waiting in the writer are dropped. Nothing is sent to a cancelled call.
   */
  fail(error: unknown): void {
    if (!this.#finish()) return;
    if (this.#cancelled.signal.aborted) return;
    failServerStream(this.#call, error);
  }

  #finish(): boolean {
    if (this.#finished) return false;
    this.#finished = true;
    this.writer.close(this.#cancelled.signal.aborted ? abortReason(this.#cancelled.signal) : undefined);
    this.reader.dispose();
    return true;
  }
}
