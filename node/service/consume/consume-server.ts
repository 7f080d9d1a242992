/**
 * One consumer stream on one WAL (Milvus `ConsumeServer`, reference/milvus-node.md §5.3).
 *
 * Expected message sequence:
 *
 *   client                                                server
 *   metadata create-consumer = base64(CreateConsumerRequest{pchannel, max_batch_messages})
 *                                                         ← create {consumer_server_id, batch_enabled}
 *   create_vchannel_consumer {vchannel, deliver_policy,  →  the first request, else INVALID_REQUEST_SEQ
 *     deliver_filters, max_batch_messages}
 *                                                         ← create_vchannel {consumer_id} | {error}
 *                                                         ← consume {consumer_id, message}              … unbatched
 *                                                         ← consume_batch {consumer_id, messages[]}     … max_batch_messages > 0
 *   close_vchannel {consumer_id}                         →  ← close_vchannel {consumer_id}   (no consume frame after it)
 *   close, or half-close                                 →  ← close; status OK
 *
 * A transaction goes out flattened: BeginTxn, bodies, CommitTxn. A bad vchannel, policy or
 * filter is answered in-band (`create_vchannel.error`) and the stream stays open for another try;
 * so does a second consumer while one is open (one vchannel per stream, as Milvus 2.6). Other
 * request types are skipped with a warning (Milvus: forward compatibility). Stream-fatal, as a
 * status: the scanner failing (INNER, so the client resumes; INVAILD_ARGUMENT / UNRECOVERABLE
 * pass through, resuming would not help), the WAL becoming unavailable (its reason:
 * CHANNEL_FENCED, ON_SHUTDOWN), the service stopping (ON_SHUTDOWN), an undecodable frame
 * (INVAILD_ARGUMENT).
 *
 * Two arms: this recv arm reads requests and opens / closes the vchannel consumer; the consumer
 * is the send arm (vchannel-consumer.ts). Both write through one serialising writer.
 */
import {
  abortReason,
  anySignal,
  asStreamingError,
  type Logger,
  StreamingCode,
  StreamingError,
  streamingErrorToProto,
} from '../../../shared/index.js';
import type { WalScanner } from '../../wal/index.js';
import { type BidiCall, type CallWriterStats, type HandlerWal, isUndecodableFrame } from '../produce/index.js';
import {
  type BatchSettings,
  type ConsumeRequestFrame,
  type ConsumeResponseFrame,
  type CreateVChannelConsumerRequest,
  vchannelConsumerSpec,
  type VChannelConsumerSpec,
} from './consume-frames.js';
import { VChannelConsumer, type VChannelConsumerStats } from './vchannel-consumer.js';

/** Options of {@link ConsumeServer}. */
export interface ConsumeServerOptions {
  /** The call, after the `create` frame was queued. */
  readonly call: BidiCall<ConsumeRequestFrame, ConsumeResponseFrame>;
  readonly wal: HandlerWal;
  readonly batch: BatchSettings;
  /** The service stopping. */
  readonly shutdown: AbortSignal;
  readonly logger: Logger;
}

/** A snapshot of one consumer stream. */
export interface ConsumerStats {
  readonly kind: 'consumer';
  readonly channel: string;
  readonly term: bigint;
  /** The open vchannel consumer, if any. */
  readonly consumer: VChannelConsumerStats | undefined;
  readonly writer: CallWriterStats;
}

const NO_REQUEST: CreateVChannelConsumerRequest = Object.freeze({
  vchannel: '',
  deliver_policy: null,
  deliver_filters: [],
  ignore_pause_consumption: false,
  max_batch_messages: 0,
});

/** See the module comment. */
export class ConsumeServer {
  readonly #call: BidiCall<ConsumeRequestFrame, ConsumeResponseFrame>;
  readonly #wal: HandlerWal;
  readonly #batch: BatchSettings;
  readonly #shutdown: AbortSignal;
  readonly #log: Logger;
  /** Aborted with the stream-fatal error when the open consumer failed. */
  readonly #failed = new AbortController();
  #consumer: VChannelConsumer | undefined;
  #lastId = 0;

  constructor(options: ConsumeServerOptions) {
    this.#call = options.call;
    this.#wal = options.wal;
    this.#batch = options.batch;
    this.#shutdown = options.shutdown;
    this.#log = options.logger;
  }

  stats(): ConsumerStats {
    return {
      kind: 'consumer',
      channel: this.#wal.channel.name,
      term: this.#wal.channel.term,
      consumer: this.#consumer?.stats(),
      writer: this.#call.writer.stats(),
    };
  }

  /** Serves the stream until it ended (see the module comment). Never rejects. */
  async run(): Promise<void> {
    const reason = await this.#recvLoop();
    // The send arm stops first, so nothing follows the `close` frame or the status.
    await this.#consumer?.close();
    if (this.#call.cancelled.aborted) {
      this.#log.info({}, 'consumer stream cancelled by the client');
      return;
    }
    if (reason === undefined) {
      this.#log.info({}, 'consumer stream closed');
      await this.#call.end({ close: {} }, this.#shutdown);
      return;
    }
    this.#log.warn({ err: reason }, 'consumer stream ended with an error');
    this.#call.fail(reason);
  }

  /** Reads requests until close / half-close (undefined) or a stream-fatal condition (its error). */
  async #recvLoop(): Promise<StreamingError | undefined> {
    const stop = anySignal([this.#call.cancelled, this.#shutdown, this.#wal.availability, this.#failed.signal]);
    try {
      const first = await this.#call.reader.next(stop.signal);
      if (isUndecodableFrame(first)) return first.toStreamingError();
      if (first?.request !== 'create_vchannel_consumer') {
        const got = first === undefined ? 'the end of the stream' : (first.request ?? 'an empty request');
        return StreamingError.invalidRequestSeq(`the first consume request must be create_vchannel_consumer, got ${got}`);
      }
      await this.#create(first.create_vchannel_consumer ?? NO_REQUEST, stop.signal);
      for (;;) {
        const frame = await this.#call.reader.next(stop.signal);
        if (frame === undefined) return undefined;
        if (isUndecodableFrame(frame)) return frame.toStreamingError();
        switch (frame.request) {
          case 'create_vchannel_consumer':
            await this.#create(frame.create_vchannel_consumer ?? NO_REQUEST, stop.signal);
            break;
          case 'close_vchannel':
            await this.#closeVChannel(frame.close_vchannel?.consumer_id ?? '0', stop.signal);
            break;
          case 'close':
            return undefined;
          default:
            this.#log.warn({ request: frame.request ?? 'none' }, 'empty or unknown consume request skipped');
        }
      }
    } catch (error) {
      return asStreamingError(error);
    } finally {
      stop.dispose();
    }
  }

  /** Opens the vchannel consumer, or answers why not in-band. */
  async #create(request: CreateVChannelConsumerRequest, signal: AbortSignal): Promise<void> {
    const open = this.#consumer;
    if (open !== undefined) {
      return this.#refuse(StreamingError.invalidRequestSeq(`vchannel consumer ${open.id} is open; one per stream, close_vchannel it first`), signal);
    }
    const consumerId = String(this.#lastId + 1);
    let spec: VChannelConsumerSpec;
    let scanner: WalScanner;
    try {
      spec = vchannelConsumerSpec(request, this.#wal.channel.name, this.#batch);
      scanner = this.#wal.read({ name: `consumer-${consumerId}`, vchannel: spec.vchannel, deliverPolicy: spec.deliverPolicy, filters: spec.filters });
    } catch (error) {
      const e = asStreamingError(error);
      // A bad request is the client's to fix; anything else (fenced, shutting down) ends the stream.
      if (e.code !== StreamingCode.INVAILD_ARGUMENT) throw e;
      return this.#refuse(e, signal);
    }
    try {
      await this.#call.writer.write({ create_vchannel: { consumer_id: consumerId } }, signal);
    } catch (error) {
      await scanner.close();
      throw error;
    }
    this.#lastId += 1;
    const consumer = new VChannelConsumer({ consumerId, spec, scanner, writer: this.#call.writer, logger: this.#log });
    this.#consumer = consumer;
    this.#log.info({ consumerId, vchannel: spec.vchannel ?? '*', policy: spec.deliverPolicy.kind, maxBatch: spec.maxBatchMessages }, 'vchannel consumer created');
    void consumer.done.then((error) => {
      if (error !== undefined && this.#consumer === consumer) this.#fail(error);
    });
  }

  /** Answers a `create_vchannel_consumer` with an in-band error; the stream stays open. */
  #refuse(error: StreamingError, signal: AbortSignal): Promise<void> {
    this.#log.warn({ err: error }, 'vchannel consumer refused');
    return this.#call.writer.write({ create_vchannel: { error: streamingErrorToProto(error) } }, signal);
  }

  async #closeVChannel(consumerId: string, signal: AbortSignal): Promise<void> {
    const consumer = this.#consumer;
    if (consumer !== undefined && consumer.id === consumerId) {
      this.#consumer = undefined;
      await consumer.close();
    }
    // Answered for an unknown id too: closing is idempotent.
    await this.#call.writer.write({ close_vchannel: { consumer_id: consumerId } }, signal);
  }

  /** The open consumer failed: end the stream with the right code (see the module comment). */
  #fail(error: unknown): void {
    if (this.#failed.signal.aborted) return;
    let reason: StreamingError;
    if (this.#wal.availability.aborted) {
      reason = asStreamingError(abortReason(this.#wal.availability));
    } else {
      const e = asStreamingError(error);
      const passThrough = e.code === StreamingCode.INVAILD_ARGUMENT || e.code === StreamingCode.UNRECOVERABLE;
      reason = passThrough || this.#call.cancelled.aborted ? e : StreamingError.inner(`scanner error: ${e.causeText}`, e);
    }
    this.#failed.abort(reason);
  }
}
