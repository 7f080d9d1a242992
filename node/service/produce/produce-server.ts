/**
 * One producer stream on one WAL (Milvus `ProduceServer`, reference/milvus-node.md §5.2).
 *
 * Expected message sequence:
 *
 *   client                                          server
 *   metadata create-producer = base64(CreateProducerRequest{pchannel, enable_batch})
 *                                                   ← create {producer_server_id, batch_enabled}
 *   produce {request_id, message}              →      appended concurrently (≤ maxInFlightAppends)
 *                                                   ← produce {request_id, result | error}   one per request, any order
 *   produce_batch {requests[]}                 →      only once batch_enabled
 *                                                   ← produce_batch {responses[]}            one per batch, in request order
 *   close, or half-close                       →      every accepted append is answered first
 *                                                   ← close; status OK
 *
 * A failed append (bad message, oversized, txn error, fenced append) is answered in-band and the
 * stream stays open (STYLE rule 7). The stream ends with a status only when it cannot go on: the
 * WAL became unavailable (its availability reason: CHANNEL_FENCED, ON_SHUTDOWN), the service
 * stops (ON_SHUTDOWN), a frame does not decode (INVAILD_ARGUMENT), or `produce_batch` arrives
 * without batching (INVALID_REQUEST_SEQ). In all of these the accepted appends are answered before
 * the status. An empty or unknown request is skipped with a warning, as Milvus does (a newer
 * client's request type decodes as an empty oneof here). A client cancel drops everything.
 *
 * Two arms: the recv arm reads requests and starts appends, taking one in-flight permit per
 * message; at the bound it stops reading (backpressure through HTTP/2). Each append queues its
 * answer; the send arm writes answers (waiting for `'drain'`) and gives the permits back.
 */
import {
  asStreamingError,
  AsyncQueue,
  anySignal,
  type Logger,
  StreamingError,
} from '../../../shared/index.js';
import { AppendPermits } from './append-permits.js';
import type { BidiCall } from './bidi-call.js';
import type { CallWriterStats } from './call-writer.js';
import type { HandlerLimits } from './handler-limits.js';
import {
  produceAnswer,
  producedMessage,
  type ProduceMessageRequest,
  type ProduceMessageResponse,
  type ProduceRequestFrame,
  type ProduceResponseFrame,
} from './produce-frames.js';
import { isUndecodableFrame } from './request-frames.js';
import type { HandlerWal } from './stream-context.js';

/** Options of {@link ProduceServer}. */
export interface ProduceServerOptions {
  /** The call, after the `create` frame was queued. */
  readonly call: BidiCall<ProduceRequestFrame, ProduceResponseFrame>;
  readonly wal: HandlerWal;
  readonly batchEnabled: boolean;
  readonly limits: HandlerLimits;
  /** The service stopping. */
  readonly shutdown: AbortSignal;
  readonly logger: Logger;
}

/** A snapshot of one producer stream. */
export interface ProducerStats {
  readonly kind: 'producer';
  readonly channel: string;
  readonly term: bigint;
  readonly batchEnabled: boolean;
  /** Messages accepted and not yet answered (in-flight permits taken). */
  readonly inFlight: number;
  readonly appended: number;
  /** Messages answered with an in-band error. */
  readonly failed: number;
  readonly writer: CallWriterStats;
}

/** An answer waiting for the send arm, with the permits it frees once written. */
interface Answer {
  readonly frame: ProduceResponseFrame;
  readonly permits: number;
}

const NO_MESSAGE: ProduceMessageRequest = Object.freeze({ request_id: '0', message: null });

/** See the module comment. */
export class ProduceServer {
  readonly #call: BidiCall<ProduceRequestFrame, ProduceResponseFrame>;
  readonly #wal: HandlerWal;
  readonly #batchEnabled: boolean;
  readonly #limits: HandlerLimits;
  readonly #shutdown: AbortSignal;
  readonly #log: Logger;
  readonly #permits: AppendPermits;
  readonly #answers: AsyncQueue<Answer>;
  /** Appends started and not yet answered (their answers not yet queued). */
  readonly #tasks = new Set<Promise<void>>();
  /** Aborted when the send arm can no longer write (the call broke). */
  readonly #broken = new AbortController();
  #appended = 0;
  #failed = 0;

  constructor(options: ProduceServerOptions) {
    this.#call = options.call;
    this.#wal = options.wal;
    this.#batchEnabled = options.batchEnabled;
    this.#limits = options.limits;
    this.#shutdown = options.shutdown;
    this.#log = options.logger;
    this.#permits = new AppendPermits(options.limits.maxInFlightAppends);
    // Every queued answer holds at least one permit, so the queue never holds more than that.
    this.#answers = new AsyncQueue<Answer>({ capacity: options.limits.maxInFlightAppends });
  }

  stats(): ProducerStats {
    return {
      kind: 'producer',
      channel: this.#wal.channel.name,
      term: this.#wal.channel.term,
      batchEnabled: this.#batchEnabled,
      inFlight: this.#permits.inUse,
      appended: this.#appended,
      failed: this.#failed,
      writer: this.#call.writer.stats(),
    };
  }

  /** Runs both arms until the stream ended (see the module comment). Never rejects. */
  async run(): Promise<void> {
    const sending = this.#sendLoop();
    const reason = await this.#recvLoop();
    // The recv arm is done, so no append starts any more; each running one queues its answer.
    await Promise.all([...this.#tasks]);
    this.#answers.close();
    const flushed = await sending;
    if (!flushed || this.#call.cancelled.aborted) {
      this.#log.info({}, 'producer stream cancelled by the client');
      return;
    }
    if (reason === undefined) {
      this.#log.info({ appended: this.#appended, failed: this.#failed }, 'producer stream closed');
      await this.#call.end({ close: {} }, this.#shutdown);
      return;
    }
    this.#log.warn({ err: reason, appended: this.#appended, failed: this.#failed }, 'producer stream ended with an error');
    this.#call.fail(reason);
  }

  /** Reads requests until close / half-close (undefined) or a stream-fatal condition (its error). */
  async #recvLoop(): Promise<StreamingError | undefined> {
    const stop = anySignal([this.#call.cancelled, this.#broken.signal, this.#shutdown, this.#wal.availability]);
    try {
      for (;;) {
        const frame = await this.#call.reader.next(stop.signal);
        // Half-close without `close`: Milvus treats it the same way.
        if (frame === undefined) return undefined;
        if (isUndecodableFrame(frame)) return frame.toStreamingError();
        switch (frame.request) {
          case 'produce':
            await this.#acceptOne(frame.produce ?? NO_MESSAGE, stop.signal);
            break;
          case 'produce_batch':
            if (!this.#batchEnabled) {
              return StreamingError.invalidRequestSeq('produce_batch needs enable_batch in the create-producer handshake');
            }
            await this.#acceptBatch(frame.produce_batch?.requests ?? [], stop.signal);
            break;
          case 'close':
            return undefined;
          default:
            this.#log.warn({ request: frame.request ?? 'none' }, 'empty or unknown produce request skipped');
        }
      }
    } catch (error) {
      // The abort reason of whichever signal stopped the arm: the WAL's, the service's, a cancel.
      return asStreamingError(error);
    } finally {
      stop.dispose();
    }
  }

  async #acceptOne(request: ProduceMessageRequest, signal: AbortSignal): Promise<void> {
    await this.#permits.acquire(1, signal);
    this.#spawn(async () => ({ frame: { produce: await this.#append(request) }, permits: 1 }));
  }

  async #acceptBatch(requests: readonly ProduceMessageRequest[], signal: AbortSignal): Promise<void> {
    const max = this.#limits.maxProduceBatchMessages;
    if (requests.length > max) {
      // Refused whole, in-band: one permit bounds the memory of the answer.
      await this.#permits.acquire(1, signal);
      const error = StreamingError.invalidArgument('produce_batch', `${requests.length} requests exceed the limit of ${max} per batch`);
      this.#failed += requests.length;
      const responses = requests.map((r) => produceAnswer(r.request_id, { error }));
      this.#spawn(() => Promise.resolve({ frame: { produce_batch: { responses } }, permits: 1 }));
      return;
    }
    const permits = Math.max(1, requests.length);
    await this.#permits.acquire(permits, signal);
    this.#spawn(async () => {
      const responses = await Promise.all(requests.map((r) => this.#append(r)));
      return { frame: { produce_batch: { responses } }, permits };
    });
  }

  /** Runs `task` (which never rejects) and queues its answer. */
  #spawn(task: () => Promise<Answer>): void {
    const running: Promise<void> = task()
      .then((answer) => this.#enqueue(answer))
      .finally(() => this.#tasks.delete(running));
    this.#tasks.add(running);
  }

  #enqueue(answer: Answer): void {
    try {
      if (this.#answers.tryPush(answer)) return;
      this.#log.error({ permits: this.#permits.inUse }, 'answer queue full although permits bound it; answer dropped');
    } catch {
      // The send arm is gone (the call broke): nobody can receive the answer.
    }
    this.#permits.release(answer.permits);
  }

  /** Appends one message; the answer carries the result or the error. Never rejects. */
  async #append(request: ProduceMessageRequest): Promise<ProduceMessageResponse> {
    try {
      const message = producedMessage(request, this.#limits.maxMessageBytes);
      // Only a client cancel aborts an append: on every other end the answer is still sent.
      const result = await this.#wal.append(message, { signal: this.#call.cancelled });
      this.#appended++;
      return produceAnswer(request.request_id, { result });
    } catch (error) {
      this.#failed++;
      this.#log.warn({ requestId: request.request_id, err: error }, 'append failed, answered in-band');
      return produceAnswer(request.request_id, { error });
    }
  }

  /** Writes answers until the queue is closed and empty (true) or the call broke (false). Never rejects. */
  async #sendLoop(): Promise<boolean> {
    try {
      for (;;) {
        const next = await this.#answers.next();
        if (next.done === true) return true;
        try {
          await this.#call.writer.write(next.value.frame);
        } finally {
          this.#permits.release(next.value.permits);
        }
      }
    } catch (error) {
      const reason = asStreamingError(error);
      if (!this.#broken.signal.aborted) this.#broken.abort(reason);
      this.#answers.fail(reason);
      return false;
    }
  }
}
