/**
 * The batch of acknowledged time ticks one time tick sync collects (Milvus `AckDetails`): what
 * the sync operator needs to build the next TimeTick message.
 */
import type { ImmutableMessage, MessageId } from '../../../shared/message/index.js';
import type { AckDetail } from './acker.js';

/**
 * Acknowledged details in ascending time tick order; every time tick ≤ the last one is
 * acknowledged (successfully or not), so the last one is a valid watermark.
 *
 * How the sync operator uses it:
 * - nothing to send when {@link isEmpty} (an append is still in flight; the tick cannot move);
 * - TimeTick `_tt` = {@link lastAllAcknowledgedTimestamp};
 * - TimeTick `_lc` = {@link earliestLastConfirmedMessageId} (the safe-resume id of the oldest
 *   message in the batch is safe for the whole batch);
 * - persist the TimeTick when {@link hasNonSyncMessage}, else send it not persisted (`_np`);
 * - push {@link successfulMessages} and the TimeTick into the write-ahead buffer.
 */
export class AckDetails {
  readonly details: readonly AckDetail[];

  /** `details` must be sorted by `beginTimestamp`, strictly ascending. */
  constructor(details: readonly AckDetail[]) {
    this.details = details;
  }

  /** True when nothing was acknowledged since the previous sync. */
  get isEmpty(): boolean {
    return this.details.length === 0;
  }

  /** Number of details. */
  get length(): number {
    return this.details.length;
  }

  /** The greatest time tick of the batch, undefined when empty. */
  get lastAllAcknowledgedTimestamp(): bigint | undefined {
    return this.details[this.details.length - 1]?.beginTimestamp;
  }

  /** The smallest last confirmed id of the batch, undefined when empty. */
  get earliestLastConfirmedMessageId(): MessageId | undefined {
    let earliest: MessageId | undefined;
    for (const d of this.details) {
      if (earliest === undefined || d.lastConfirmedMessageId.lt(earliest)) earliest = d.lastConfirmedMessageId;
    }
    return earliest;
  }

  /**
   * True when the batch holds any append (successful or failed), not only the manager's own sync
   * ticks: then the TimeTick is persisted, as Milvus does.
   */
  get hasNonSyncMessage(): boolean {
    return this.details.some((d) => d.kind !== 'sync');
  }

  /** The stored messages of the successful appends, ascending by time tick. */
  successfulMessages(): ImmutableMessage[] {
    // Counted first so the array is allocated once at its size (a batch holds thousands of
    // messages under load; growing by push copies it over and over).
    let count = 0;
    for (const d of this.details) if (d.kind === 'success' && d.message !== undefined) count++;
    const out = new Array<ImmutableMessage>(count);
    let i = 0;
    for (const d of this.details) if (d.kind === 'success' && d.message !== undefined) out[i++] = d.message;
    return out;
  }
}
