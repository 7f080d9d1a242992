/**
 * Computes the last confirmed message id (`_lc`) of the WAL (Milvus `lastConfirmedManager`,
 * reference/milvus-node.md §3.4 and §4.6).
 *
 * The contract `_lc` must keep (the safe-resume contract): for a message M stamped with L,
 * reading the WAL from L (inclusive) delivers every message whose time tick is greater than
 * M's, and every message of every transaction that commits after M.
 */
import type { ImmutableMessage, MessageId } from '../../../shared/message/index.js';
import { RingBuffer } from '../../../shared/util/index.js';
import type { AckDetail } from './acker.js';
import { MinHeap } from './min-heap.js';

/** A successful detail: kept as is (no copy per append), its id read from its message. */
type Pending = AckDetail & { readonly message: ImmutableMessage };

function idOf(p: Pending): MessageId {
  return p.message.messageId;
}

/**
 * Holds every successfully appended message whose time tick is confirmed (≤ the last confirmed
 * time tick), ordered by message id, and advances the last confirmed id over them from the
 * smallest id up. Entry P is passed (the id becomes at least P's) only when
 *
 * 1. `P.endTimestamp < lastConfirmedTimeTick`: every message with a smaller id was appended
 *    before P was acknowledged, so it was allocated a time tick ≤ P.endTimestamp, which is
 *    confirmed, so it has been handed to this manager already and sits below P in the heap
 *    (Milvus #45872: ids are only dense below such a point); and
 * 2. P is not part of a transaction, or its transaction is done or expired as of that tick.
 *
 * The heap stops at the first entry that fails either rule, so the id never passes the begin of
 * an open transaction nor an append still in flight.
 *
 * Deviation from Milvus, on purpose: Milvus hands a message over only once its own
 * endTimestamp < lastConfirmedTimeTick (a second heap ordered by end timestamp). Then a BeginTxn
 * acknowledged late (large endTimestamp) can still be outside the id heap when a later-id
 * message passes rule 1, and the id jumps past the open transaction's begin. Here every
 * acknowledged success enters the id heap as soon as its time tick is confirmed and rule 1 is
 * checked per entry, which closes that gap (see the regression test).
 *
 * Failed appends and the manager's own sync ticks carry no id and are ignored.
 *
 * Storage: confirmed messages nearly always arrive in id order (ticks are allocated in append
 * order and the backend assigns ids in the same order), so they go into a FIFO whose ids
 * strictly ascend; O(1) per message instead of the heap's O(log n) bigint comparisons. Only an
 * id smaller than the FIFO's tail goes into the heap. The smallest pending entry is the smaller
 * of the two heads, so the order the rules see is exactly the heap-only order.
 */
export class LastConfirmedManager {
  /** Ascending ids, in arrival order. */
  readonly #inOrder = new RingBuffer<Pending>();
  #inOrderTail: MessageId | undefined;
  /** Entries that arrived with an id below {@link #inOrderTail}. */
  readonly #outOfOrder = new MinHeap<Pending>((a, b) => idOf(a).lt(idOf(b)));
  #lastConfirmedMessageId: MessageId;

  /** Seeded with the last confirmed id at WAL open (see the ack manager). */
  constructor(lastConfirmedMessageId: MessageId) {
    this.#lastConfirmedMessageId = lastConfirmedMessageId;
  }

  /** The current last confirmed id; it never decreases. */
  get lastConfirmedMessageId(): MessageId {
    return this.#lastConfirmedMessageId;
  }

  /** Number of confirmed messages still held (waiting for rule 1, or for their transaction). */
  get pendingCount(): number {
    return this.#inOrder.length + this.#outOfOrder.size;
  }

  /**
   * Takes acknowledged details whose time ticks just became confirmed. Only successes with a
   * message are kept.
   */
  addConfirmed(details: readonly AckDetail[]): void {
    for (const d of details) this.addConfirmedOne(d);
  }

  /** {@link addConfirmed} for one detail (the ack manager's hot path: no array). */
  addConfirmedOne(d: AckDetail): void {
    if (d.kind !== 'success' || d.message === undefined) return;
    const pending = d as Pending;
    const messageId = d.message.messageId;
    if (this.#inOrderTail === undefined || this.#inOrderTail.lt(messageId)) {
      this.#inOrder.push(pending);
      this.#inOrderTail = messageId;
    } else {
      this.#outOfOrder.push(pending);
    }
  }

  /**
   * Advances the last confirmed id as far as the rules allow at `lastConfirmedTimeTick`. Call it
   * whenever the confirmed time tick moves (transactions finishing are noticed then).
   */
  advance(lastConfirmedTimeTick: bigint): void {
    for (let top = this.#peek(); top !== undefined; top = this.#peek()) {
      if (top.endTimestamp >= lastConfirmedTimeTick) break;
      if (top.txnSession !== undefined && !top.txnSession.isExpiredOrDone(lastConfirmedTimeTick)) break;
      if (top === this.#inOrder.peek()) this.#inOrder.shift();
      else this.#outOfOrder.pop();
      const id = idOf(top);
      if (this.#lastConfirmedMessageId.lt(id)) this.#lastConfirmedMessageId = id;
    }
    if (this.#inOrder.length === 0) this.#inOrderTail = undefined;
  }

  /** The pending entry with the smallest id. */
  #peek(): Pending | undefined {
    const a = this.#inOrder.peek();
    const b = this.#outOfOrder.peek();
    if (a === undefined) return b;
    return b !== undefined && idOf(b).lt(idOf(a)) ? b : a;
  }
}
