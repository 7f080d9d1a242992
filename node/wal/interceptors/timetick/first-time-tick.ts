/**
 * The first time tick of a read-write WAL (Milvus `sendFirstTimeTick`, renamed
 * `sendRecoveryBarrier`; reference/milvus-node.md §2.2 step 3): a persisted TimeTick written
 * straight to the backend when the WAL opens, before any interceptor runs.
 */
import {
  asStreamingError,
  type BackoffOptions,
  type ImmutableMessage,
  type Logger,
  type MessageId,
  newTimeTickMessage,
  noopLogger,
  retry,
  type TsoAllocator,
} from '../../../../shared/index.js';
import type { WalBackend } from '../../backend/index.js';
import type { TxnMessageBuilder } from '../../utility/index.js';

/** Milvus's retry of the first time tick: 20 ms, doubling, at most 5 s between attempts. */
export const FIRST_TIME_TICK_BACKOFF: Readonly<Partial<BackoffOptions>> = Object.freeze({
  initialMs: 20,
  multiplier: 2,
  maxMs: 5_000,
  jitter: 0.1,
});

/** Options of {@link appendFirstTimeTick}. */
export interface FirstTimeTickOptions {
  /**
   * The last confirmed id to stamp (`_lc`): the recovery checkpoint, so that a consumer resuming
   * from this tick also sees what recovery still has to replay (Milvus #45088). Without it the
   * tick confirms itself (`_lcs`).
   */
  readonly checkpointId?: MessageId | undefined;
  /** The node id, written into the time tick body. */
  readonly sourceId?: bigint;
  /** Stops retrying: rejects with the abort reason. */
  readonly signal?: AbortSignal | undefined;
  /** Overrides {@link FIRST_TIME_TICK_BACKOFF} (tests pass short delays). */
  readonly backoff?: Partial<BackoffOptions>;
  readonly logger?: Logger;
}

/**
 * Allocates a fresh TSO timestamp and appends a persisted TimeTick with it directly to the
 * backend, retrying with backoff until it lands or `signal` aborts. It returns the stored
 * message, which seeds the ack manager (its tick and id), the write-ahead buffer (first entry)
 * and the MVCC time tick.
 *
 * Why it matters: the tick is newer than anything the previous owner wrote (the TSO is global),
 * so time tick order survives the move; and landing it proves this incarnation may write.
 * CHANNEL_FENCED, ON_SHUTDOWN and INVAILD_ARGUMENT cannot heal by waiting, so they end the
 * retries at once; every other failure is retried (each attempt with a new timestamp).
 *
 * @example
 * ```ts
 * const first = await appendFirstTimeTick(backend, tso, { checkpointId, signal });
 * const acks = new AckManager({ tso, lastConfirmedTimeTick: first.timeTick,
 *   lastConfirmedMessageId: recoveryLastConfirmed(first, uncommitted) });
 * ```
 */
export function appendFirstTimeTick(
  backend: Pick<WalBackend, 'append'>,
  tso: TsoAllocator,
  options: FirstTimeTickOptions = {},
): Promise<ImmutableMessage> {
  const logger = options.logger ?? noopLogger;
  return retry(
    async () => {
      const timeTick = await tso.allocate(1);
      const message = newTimeTickMessage({
        timeTick,
        sourceId: options.sourceId ?? 0n,
        lastConfirmed: options.checkpointId ?? 'self',
      });
      const id = await backend.append(message);
      logger.info({ timeTick: timeTick.toString(), messageId: id.toString() }, 'first time tick appended');
      return message.intoImmutable(id);
    },
    {
      backoff: { ...FIRST_TIME_TICK_BACKOFF, ...options.backoff },
      signal: options.signal,
      retryIf: (error) => {
        const e = asStreamingError(error);
        return !(e.isFenced() || e.isOnShutdown() || e.isInvalidArgument());
      },
      onRetry: (error, attempt, delayMs) =>
        logger.warn({ err: error, attempt, delayMs }, 'first time tick failed, retrying'),
    },
  );
}

/**
 * The last confirmed id the ack manager starts from (reference/milvus-node.md §2.2 step 6): the
 * first time tick's id, or the last confirmed id of the oldest transaction recovery found
 * uncommitted if that is smaller, so a consumer resuming from an early `_lc` still sees the
 * whole transaction when it commits.
 */
export function recoveryLastConfirmed(firstTimeTick: ImmutableMessage, uncommitted: readonly TxnMessageBuilder[] = []): MessageId {
  let lc = firstTimeTick.messageId;
  for (const builder of uncommitted) {
    const begin = builder.begin.lastConfirmedMessageId;
    if (begin.lt(lc)) lc = begin;
  }
  return lc;
}
