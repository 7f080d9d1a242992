/**
 * The synchronous stages of a WAL scanner (Milvus `scannerAdaptorImpl.handleUpstream`,
 * reference/milvus-node.md §4.2): deliver filter → (TimeTick) reorder pop + txn assembly, or
 * (data) vchannel filter + reorder push.
 */
import type { Logger } from '../../../shared/log/index.js';
import { type DeliverFilter, type ImmutableMessage, MessageType } from '../../../shared/message/index.js';
import { ReorderByTimeTickBuffer, type ScannedMessage, TxnBuffer } from '../utility/index.js';
import { compileDeliverFilters, type MessagePredicate } from './deliver-filter.js';

/** Options of {@link ScanPipeline}. */
export interface ScanPipelineOptions {
  /** Keep only this vchannel (plus messages without one); undefined or empty = every vchannel. */
  readonly vchannel?: string;
  readonly filters?: readonly DeliverFilter[];
  readonly logger: Logger;
}

/** What the pipeline holds and dropped, for metrics and tests. */
export interface ScanPipelineStats {
  /** Messages waiting in the reorder buffer for a TimeTick. */
  readonly reorderBuffered: number;
  readonly reorderBytes: number;
  /** Transactions begun and not yet committed, rolled back or expired. */
  readonly openTxns: number;
  readonly txnBytes: number;
  /** Second copies dropped by the reorder buffer (expected around catch-up → tailing switches). */
  readonly duplicatesDropped: number;
  /** Messages dropped for a time tick below the watermark (a fenced-late writer, Milvus #53368). */
  readonly violationsDropped: number;
}

const NONE: readonly ScannedMessage[] = Object.freeze([]);

/**
 * Turns raw WAL messages into what a consumer sees: per vchannel, data in strictly increasing time
 * tick order (a transaction once, at its commit tick), each message once, and TimeTick messages
 * (non-decreasing) in between.
 *
 * `handle(message, pending)` returns what may be delivered after `message`; `pending` is how many
 * messages are still queued for the consumer:
 * 1. messages the deliver filters reject are dropped;
 * 2. a TimeTick T is the watermark: every message with a tick ≤ T.tt is already in the WAL before
 *    it, so the reorder buffer releases those (ascending) and the txn buffer assembles them; the
 *    TimeTick itself follows when it is persisted, or when nothing else would be delivered (an
 *    idle consumer still sees time advance, a busy one is not flooded with trivial ticks);
 * 3. any other message is dropped when it names another vchannel, else buffered until its
 *    watermark. The reorder buffer refuses duplicates (by id) and messages below the watermark;
 *    both are dropped here, which is what makes the mode switches of the upstream safe.
 */
export class ScanPipeline {
  readonly #keep: MessagePredicate;
  readonly #vchannel: string | undefined;
  readonly #logger: Logger;
  readonly #reorder = new ReorderByTimeTickBuffer();
  readonly #txns: TxnBuffer;
  #duplicates = 0;
  #violations = 0;

  /** @throws StreamingError INVAILD_ARGUMENT for invalid filters. */
  constructor(options: ScanPipelineOptions) {
    this.#keep = compileDeliverFilters(options.filters);
    this.#vchannel = options.vchannel === '' ? undefined : options.vchannel;
    this.#logger = options.logger;
    this.#txns = new TxnBuffer({ logger: options.logger });
  }

  get stats(): ScanPipelineStats {
    return {
      reorderBuffered: this.#reorder.length,
      reorderBytes: this.#reorder.bytes,
      openTxns: this.#txns.openTxnCount,
      txnBytes: this.#txns.bytes,
      duplicatesDropped: this.#duplicates,
      violationsDropped: this.#violations,
    };
  }

  /** Handles one raw message; see the class comment. */
  handle(message: ImmutableMessage, pending: number): readonly ScannedMessage[] {
    if (!message.hasTimeTick) {
      this.#logger.warn({ messageId: message.messageId.toString() }, 'message without time tick dropped');
      return NONE;
    }
    if (!this.#keep(message)) return NONE;
    if (message.messageType === MessageType.TimeTick) return this.#onTimeTick(message, pending);
    const vchannel = message.vchannel;
    if (vchannel !== undefined && vchannel !== '' && this.#vchannel !== undefined && vchannel !== this.#vchannel) return NONE;
    const pushed = this.#reorder.push(message);
    if (!pushed.accepted) {
      if (pushed.reason === 'duplicate') {
        this.#duplicates++;
        this.#logger.debug({ messageId: message.messageId.toString() }, 'duplicate message dropped');
      } else {
        this.#violations++;
        this.#logger.warn({ err: pushed.error, messageId: message.messageId.toString() }, 'message below the time tick watermark dropped');
      }
    }
    return NONE;
  }

  #onTimeTick(tick: ImmutableMessage, pending: number): readonly ScannedMessage[] {
    const timeTick = tick.timeTick;
    const out = this.#txns.handle(this.#reorder.popUntilTimeTick(timeTick), timeTick);
    if (tick.isPersisted || (out.length === 0 && pending === 0)) out.push(tick);
    return out;
  }
}
