/**
 * One vchannel consumer of a Consume stream: the send arm. It moves messages from its WAL scanner
 * to the call, flattened (transactions) and batched as asked, one frame at a time, waiting for
 * `'drain'` whenever the call's buffer is full. So a client that does not read holds at most the
 * call's buffer, the scanner's bounded queue and its read-ahead on the server: the scanner stops
 * pulling from the WAL and nothing else piles up.
 */
import { type Logger, StreamingError } from '../../../shared/index.js';
import type { WalScanner, WalScannerStats } from '../../wal/index.js';
import type { CallWriter } from '../produce/index.js';
import { consumeFrame, type ConsumeResponseFrame, type VChannelConsumerSpec } from './consume-frames.js';
import { FlatMessageSource } from './flat-message-source.js';

/** Options of {@link VChannelConsumer}. */
export interface VChannelConsumerOptions {
  /** `consumer_id` of the frames (int64 as a decimal string). */
  readonly consumerId: string;
  readonly spec: VChannelConsumerSpec;
  /** Opened for `spec`; the consumer owns it from now on. */
  readonly scanner: WalScanner;
  readonly writer: CallWriter<ConsumeResponseFrame>;
  readonly logger: Logger;
}

/** A snapshot of one vchannel consumer. */
export interface VChannelConsumerStats {
  readonly consumerId: string;
  /** Undefined = every vchannel of the pchannel. */
  readonly vchannel: string | undefined;
  /** 0 = unbatched. */
  readonly maxBatchMessages: number;
  /** Frames and messages handed to the call. */
  readonly frames: number;
  readonly messages: number;
  /** The scanner's own counters, when it exposes them (the WAL's scanners do). */
  readonly scanner: WalScannerStats | undefined;
}

/** See the module comment. Starts sending at construction. */
export class VChannelConsumer {
  readonly id: string;
  /**
   * Resolves when the send arm stopped: `undefined` after {@link close}, otherwise the error that
   * ended it (the scanner's failure, or a failed write). Never rejects.
   */
  readonly done: Promise<unknown>;
  readonly #spec: VChannelConsumerSpec;
  readonly #scanner: WalScanner;
  readonly #source: FlatMessageSource;
  readonly #writer: CallWriter<ConsumeResponseFrame>;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  #frames = 0;
  #messages = 0;

  constructor(options: VChannelConsumerOptions) {
    this.id = options.consumerId;
    this.#spec = options.spec;
    this.#scanner = options.scanner;
    this.#source = new FlatMessageSource(options.scanner);
    this.#writer = options.writer;
    this.#log = options.logger;
    this.done = this.#run();
  }

  stats(): VChannelConsumerStats {
    const scanner = (this.#scanner as Partial<{ readonly stats: WalScannerStats }>).stats;
    return {
      consumerId: this.id,
      vchannel: this.#spec.vchannel,
      maxBatchMessages: this.#spec.maxBatchMessages,
      frames: this.#frames,
      messages: this.#messages,
      scanner,
    };
  }

  /** True once {@link close} was called. */
  get closing(): boolean {
    return this.#stop.signal.aborted;
  }

  /**
   * Stops sending: a write waiting for `'drain'` is dropped, the scanner closes, and this resolves
   * once the send arm wrote its last frame. Idempotent.
   */
  async close(): Promise<void> {
    if (!this.#stop.signal.aborted) this.#stop.abort(StreamingError.onShutdown(`vchannel consumer ${this.id} closed`));
    await this.#scanner.close();
    await this.done;
  }

  async #run(): Promise<unknown> {
    const batched = this.#spec.maxBatchMessages > 0;
    const max = batched ? this.#spec.maxBatchMessages : 1;
    try {
      for (;;) {
        const messages = await this.#source.take(max);
        if (this.#stop.signal.aborted) return undefined;
        // Our scanners end quietly only when closed; anything else is a failure to report.
        if (messages.length === 0) return (await this.#scanner.closed()) ?? StreamingError.inner(`scanner of consumer ${this.id} ended`);
        await this.#writer.write(consumeFrame(this.id, messages, batched), this.#stop.signal);
        this.#frames++;
        this.#messages += messages.length;
      }
    } catch (error) {
      if (this.#stop.signal.aborted) return undefined;
      this.#log.warn({ err: error, consumerId: this.id, messages: this.#messages }, 'vchannel consumer stopped by an error');
      return error;
    } finally {
      await this.#scanner.close().catch((e: unknown) => this.#log.warn({ err: e }, 'closing the scanner failed'));
    }
  }
}
