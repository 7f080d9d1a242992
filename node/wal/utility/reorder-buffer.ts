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
  /**
   * Duplicate detection without a set operation per message: a message whose id is above every
   * id ever accepted (`#maxId`) cannot be a copy, and that is every message while catching up
   * (the backend yields ids in increasing order). Only an id at or below `#maxId` needs the ids
   * of the buffered messages; that index is built on demand (O(buffered), once) and kept until the
   * buffer empties, so each message is indexed at most once.
   * Keyed by offset: the same identity as `messageId.marshal()` (its base-36 form), without the string.
   */
  #maxId = -1n;
  #ids: Set<bigint> | undefined;
  /**
   * Ids released at exactly `lastPopTimeTick`. A copy of such a message still passes the
   * `< lastPopTimeTick` check, so it must be recognised as a duplicate here; ids released below
   * the watermark need no memory because the violation check already drops their copies.
   */
  readonly #releasedAtWatermark = new Set<bigint>();
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  /**
   * Only a byte bound needs a running total; without one `bytes` is summed when asked (stats),
   * sparing every message an `estimateSize()` (a walk over its properties when read from storage).
   */
  readonly #trackBytes: boolean;
  #lastPopTimeTick = 0n;
  #bytes = 0;

  constructor(options: ReorderBufferOptions = {}) {
    this.#maxMessages = positiveLimit(options.maxMessages, 'maxMessages');
    this.#maxBytes = positiveLimit(options.maxBytes, 'maxBytes');
    this.#trackBytes = this.#maxBytes !== Number.POSITIVE_INFINITY;
  }

  /** Number of buffered messages. */
  get length(): number {
    return this.#heap.size + this.#run.length - this.#runHead;
  }

  /** Estimated bytes of the buffered messages (O(buffered) without a `maxBytes` bound). */
  get bytes(): number {
    if (this.#trackBytes) return this.#bytes;
    let bytes = 0;
    for (let i = this.#runHead; i < this.#run.length; i++) bytes += (this.#run[i] as ImmutableMessage).estimateSize();
    for (const message of this.#heap.values()) bytes += message.estimateSize();
    return bytes;
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
    if (id > this.#maxId) this.#maxId = id;
    else if (this.#releasedAtWatermark.has(id) || this.#indexedIds().has(id)) {
      return reject('duplicate', `message ${message.messageId} is duplicated`);
    }
    const run = this.#run;
    if (run.length === this.#runHead || !before(message, run[run.length - 1] as ImmutableMessage)) run.push(message);
    else this.#heap.push(message);
    this.#ids?.add(id);
    if (this.#trackBytes) this.#bytes += message.estimateSize();
    return ACCEPTED;
  }

  /** Releases every buffered message with time tick ≤ `timeTick`, ascending. */
  popUntilTimeTick(timeTick: bigint): ImmutableMessage[] {
    if (timeTick > this.#lastPopTimeTick) {
      this.#lastPopTimeTick = timeTick;
      this.#releasedAtWatermark.clear();
    }
    const out = this.#heap.size === 0 ? this.#takeRun(timeTick) : this.#takeMerged(timeTick);
    if (out.length === 0) return out;
    if (this.#ids !== undefined) {
      if (this.length === 0) this.#ids = undefined; // later pushes start without an index again
      else for (const m of out) this.#ids.delete(m.messageId.offset);
    }
    if (this.#trackBytes) for (const m of out) this.#bytes -= m.estimateSize();
    // Released exactly at the watermark: the tail of `out`, which is ascending by time tick.
    for (let i = out.length - 1; i >= 0 && (out[i] as ImmutableMessage).timeTick === this.#lastPopTimeTick; i--) {
      this.#releasedAtWatermark.add((out[i] as ImmutableMessage).messageId.offset);
    }
    return out;
  }

  /** No stragglers: what is released is a prefix of the sorted run, cut by binary search. */
  #takeRun(timeTick: bigint): ImmutableMessage[] {
    const run = this.#run;
    const head = this.#runHead;
    let cut = run.length;
    if (head === cut) return [];
    if ((run[cut - 1] as ImmutableMessage).timeTick > timeTick) {
      let lo = head;
      while (lo < cut) {
        const mid = (lo + cut) >>> 1;
        if ((run[mid] as ImmutableMessage).timeTick <= timeTick) lo = mid + 1;
        else cut = mid;
      }
    }
    if (head === 0 && cut === run.length) {
      // Everything goes (the usual case at a TimeTick): hand the run over instead of copying it.
      this.#run = [];
      return run;
    }
    const out = run.slice(head, cut);
    this.#runHead = cut;
    this.#compactRun();
    return out;
  }

  /** Merges the run and the heap of stragglers, one message at a time. */
  #takeMerged(timeTick: bigint): ImmutableMessage[] {
    const out: ImmutableMessage[] = [];
    const heap = this.#heap;
    const run = this.#run;
    for (;;) {
      const fromRun = this.#runHead < run.length ? (run[this.#runHead] as ImmutableMessage) : undefined;
      const fromHeap = heap.peek();
      if (fromHeap !== undefined && (fromRun === undefined || before(fromHeap, fromRun))) {
        if (fromHeap.timeTick > timeTick) break;
        heap.pop();
        out.push(fromHeap);
      } else {
        if (fromRun === undefined || fromRun.timeTick > timeTick) break;
        this.#runHead++;
        out.push(fromRun);
      }
    }
    this.#compactRun();
    return out;
  }

  /** Drops the released head of the run once it is empty or mostly released. */
  #compactRun(): void {
    const run = this.#run;
    if (this.#runHead === run.length) {
      run.length = 0;
      this.#runHead = 0;
    } else if (this.#runHead >= 1024 && this.#runHead * 2 >= run.length) {
      this.#run = run.slice(this.#runHead);
      this.#runHead = 0;
    }
  }

  /** The ids of the buffered messages, indexing them first if needed; see `#maxId`. */
  #indexedIds(): Set<bigint> {
    if (this.#ids === undefined) {
      const ids = new Set<bigint>();
      for (let i = this.#runHead; i < this.#run.length; i++) ids.add((this.#run[i] as ImmutableMessage).messageId.offset);
      for (const message of this.#heap.values()) ids.add(message.messageId.offset);
      this.#ids = ids;
    }
    return this.#ids;
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
