/**
 * The scanner's reorder stage (Milvus `ReOrderByTimeTickBuffer`, reference/milvus-node.md §4.3).
 *
 * Messages are stored in the WAL in append (id) order, but time ticks are allocated before the
 * append, so concurrent appends land out of time tick order. The scanner holds every data
 * message here until a time tick message T arrives: T is the watermark (every message with a
 * tick ≤ T.tt is already in the WAL before T), so `popUntilTimeTick(T.tt)` releases exactly those,
 * sorted by time tick.
 */
import { StreamingError } from '../../../shared/errors/index.js';
import type { ImmutableMessage } from '../../../shared/message/index.js';
import { MinHeap } from './min-heap.js';

/** Why {@link ReorderByTimeTickBuffer.push} refused a message. */
export type ReorderRejectReason =
  /** The message's time tick is below the last popped watermark: it can no longer be ordered. */
  | 'time-tick-violation'
  /** A message with the same id is buffered (or was just released at the current watermark). */
  | 'duplicate';

/** Outcome of {@link ReorderByTimeTickBuffer.push}. A rejected message was dropped. */
export type ReorderPushResult =
  | { readonly accepted: true }
  | { readonly accepted: false; readonly reason: ReorderRejectReason; readonly error: StreamingError };

/** Options of {@link ReorderByTimeTickBuffer}. */
export interface ReorderBufferOptions {
  /** {@link ReorderByTimeTickBuffer.full} turns true at this many buffered messages. Unbounded if omitted. */
  readonly maxMessages?: number;
  /** {@link ReorderByTimeTickBuffer.full} turns true at this many buffered bytes (estimated). Unbounded if omitted. */
  readonly maxBytes?: number;
}

const ACCEPTED: ReorderPushResult = Object.freeze({ accepted: true });

/** Orders by time tick, then by message id, so the release order is total and deterministic. */
function before(a: ImmutableMessage, b: ImmutableMessage): boolean {
  const ta = a.timeTick;
  const tb = b.timeTick;
  return ta < tb || (ta === tb && a.messageId.lt(b.messageId));
}

/**
 * Min-heap of messages by time tick plus the set of buffered message ids.
 *
 * Contract:
 * - `push(m)` rejects (and drops) `m` when `m.timeTick < lastPopTimeTick` (reason
 *   `time-tick-violation`: the watermark already passed it, emitting it would break time tick
 *   order; Milvus #53368 shows how a fenced-late writer produces these), or when a message with
 *   the same id is buffered (reason `duplicate`: happens when the scanner switches between the
 *   WAL and the write-ahead buffer streams and sees a message twice).
 * - `popUntilTimeTick(t)` removes and returns every message with `timeTick ≤ t`, ascending by
 *   time tick (ties by id), and raises `lastPopTimeTick` to `t` (it never goes down).
 * - `full` is advisory and never makes `push` fail: a bounded reorder buffer that refused input
 *   could never see the time tick that drains it (Milvus PR #34122 stalled that way). A scanner
 *   may stop pulling *data* while `full`, but must keep accepting time ticks.
 *
 * @example
 * ```ts
 * if (msg.messageType === MessageType.TimeTick) emit(txnBuffer.handle(reorder.popUntilTimeTick(msg.timeTick), msg.timeTick));
 * else if (!reorder.push(msg).accepted) log.warn({ id: msg.messageId.toString() }, 'dropped');
 * ```
 */
export class ReorderByTimeTickBuffer {
  // Messages arrive almost in order: those not below the last one of the sorted run are appended
  // to it (O(1)), only the stragglers go to the heap; popping merges the two. `before` is a total
  // order (ids are unique among buffered messages), so the release order is the same as one heap's.
  readonly #heap = new MinHeap<ImmutableMessage>(before);
  #run: ImmutableMessage[] = [];
  #runHead = 0;
  // Keyed by offset: the same identity as `messageId.marshal()` (its base-36 form), without the string.
  readonly #ids = new Set<bigint>();
  /**
   * Ids released at exactly `lastPopTimeTick`. A copy of such a message still passes the
   * `< lastPopTimeTick` check, so it must be recognised as a duplicate here; ids released below
   * the watermark need no memory because the violation check already drops their copies.
   */
  readonly #releasedAtWatermark = new Set<bigint>();
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  #lastPopTimeTick = 0n;
  #bytes = 0;

  constructor(options: ReorderBufferOptions = {}) {
    this.#maxMessages = positiveLimit(options.maxMessages, 'maxMessages');
    this.#maxBytes = positiveLimit(options.maxBytes, 'maxBytes');
  }

  /** Number of buffered messages. */
  get length(): number {
    return this.#heap.size + this.#run.length - this.#runHead;
  }

  /** Estimated bytes of the buffered messages. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The highest watermark popped so far (0 before the first pop). */
  get lastPopTimeTick(): bigint {
    return this.#lastPopTimeTick;
  }

  /** True when a configured bound is reached; see the class contract for how to use it. */
  get full(): boolean {
    return this.length >= this.#maxMessages || this.#bytes >= this.#maxBytes;
  }

  /** Buffers `message` unless it violates the watermark or is a duplicate (then it is dropped). */
  push(message: ImmutableMessage): ReorderPushResult {
    const tt = message.timeTick;
    if (tt < this.#lastPopTimeTick) {
      return reject(
        'time-tick-violation',
        `message ${message.messageId} has time tick ${tt}, below the last popped time tick ${this.#lastPopTimeTick}`,
      );
    }
    const id = message.messageId.offset;
    if (this.#ids.has(id) || this.#releasedAtWatermark.has(id)) {
      return reject('duplicate', `message ${message.messageId} is duplicated`);
    }
    const run = this.#run;
    if (run.length === this.#runHead || !before(message, run[run.length - 1] as ImmutableMessage)) run.push(message);
    else this.#heap.push(message);
    this.#ids.add(id);
    this.#bytes += message.estimateSize();
    return ACCEPTED;
  }

  /** Releases every buffered message with time tick ≤ `timeTick`, ascending. */
  popUntilTimeTick(timeTick: bigint): ImmutableMessage[] {
    if (timeTick > this.#lastPopTimeTick) {
      this.#lastPopTimeTick = timeTick;
      this.#releasedAtWatermark.clear();
    }
    const out: ImmutableMessage[] = [];
    const heap = this.#heap;
    const run = this.#run;
    for (;;) {
      const fromRun = this.#runHead < run.length ? (run[this.#runHead] as ImmutableMessage) : undefined;
      const fromHeap = heap.peek();
      let top: ImmutableMessage;
      if (fromHeap !== undefined && (fromRun === undefined || before(fromHeap, fromRun))) {
        if (fromHeap.timeTick > timeTick) break;
        heap.pop();
        top = fromHeap;
      } else {
        if (fromRun === undefined || fromRun.timeTick > timeTick) break;
        this.#runHead++;
        top = fromRun;
      }
      const id = top.messageId.offset;
      this.#ids.delete(id);
      this.#bytes -= top.estimateSize();
      if (top.timeTick === this.#lastPopTimeTick) this.#releasedAtWatermark.add(id);
      out.push(top);
    }
    if (this.#runHead === run.length) {
      run.length = 0;
      this.#runHead = 0;
    } else if (this.#runHead >= 1024 && this.#runHead * 2 >= run.length) {
      this.#run = run.slice(this.#runHead);
      this.#runHead = 0;
    }
    return out;
  }
}

function reject(reason: ReorderRejectReason, text: string): ReorderPushResult {
  return { accepted: false, reason, error: StreamingError.inner(`reorder buffer: ${text}`) };
}

function positiveLimit(value: number | undefined, name: string): number {
  if (value === undefined) return Number.POSITIVE_INFINITY;
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}
