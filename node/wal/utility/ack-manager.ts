/**
 * The time tick ack manager of one WAL (Milvus `ack.AckManager`, reference/milvus-node.md §3.4):
 * hands out time ticks to appends, learns when each append ended, and from that derives
 *
 * - `lastConfirmedTimeTick`: every time tick ≤ it has been acknowledged (appended or failed), so
 *   a TimeTick message with that tick may be written: it is a valid watermark for scanners;
 * - the last confirmed message id (`_lc`), see {@link LastConfirmedManager};
 * - the batch of acknowledged details the time tick sync operator turns into the next TimeTick.
 */
import { StreamingError } from '../../../shared/errors/index.js';
import type { MessageId } from '../../../shared/message/index.js';
import type { TsoAllocator } from '../../../shared/tso/index.js';
import { abortReason, Deferred, Mutex, RingBuffer, throwIfAborted } from '../../../shared/util/index.js';
import { AckDetails } from './ack-details.js';
import { type AckDetail, Acker, type AckOutcome } from './acker.js';
import { LastConfirmedManager } from './last-confirmed-manager.js';

/** Options of {@link AckManager}. */
export interface AckManagerOptions {
  /** Source of time ticks (the node's batched view of the coordinator's TSO). */
  readonly tso: TsoAllocator;
  /**
   * The time tick of the first TimeTick message appended at open (the recovery barrier): every
   * tick allocated later is greater, nothing before it is in flight.
   */
  readonly lastConfirmedTimeTick: bigint;
  /**
   * The last confirmed id at open: min(the first TimeTick's id, the last confirmed ids of the
   * transactions recovery found uncommitted), reference/milvus-node.md §2.2 step 6.
   */
  readonly lastConfirmedMessageId: MessageId;
}

/** Cancellation of a waiting call. */
export interface AckManagerCallOptions {
  readonly signal?: AbortSignal;
}

interface Entry {
  readonly timestamp: bigint;
  readonly lastConfirmedMessageId: MessageId;
  detail: AckDetail | undefined;
}

interface BarrierWaiter {
  readonly barrier: bigint;
  readonly done: Deferred<void>;
}

const SYNC: unique symbol = Symbol('sync');

/**
 * Invariants (checked by the property tests):
 * - allocated time ticks strictly increase; `lastConfirmedTimeTick` never decreases and stays
 *   below every allocated, unacknowledged time tick;
 * - the last confirmed id never decreases and keeps the safe-resume contract.
 *
 * Allocation is serialised (one TSO call at a time, then registration), like Milvus holding its
 * mutex across the TSO call: a later, larger tick registered and acknowledged before an earlier
 * one is even known would let `lastConfirmedTimeTick` jump over an append in flight. Acks are
 * synchronous and may run while an allocation waits for the TSO: that allocation's tick will
 * be greater than everything registered, so the watermark cannot pass it.
 *
 * Details accumulate until {@link syncAndGetAcknowledged} takes them, so something (the time tick
 * sync operator) must call it regularly.
 *
 * @example
 * ```ts
 * const acks = new AckManager({ tso, lastConfirmedTimeTick: firstTick.timeTick, lastConfirmedMessageId: firstTick.messageId });
 * const acker = await acks.allocate({ signal });
 * const stamped = msg.withTimeTick(acker.timestamp).withLastConfirmed(acker.lastConfirmedMessageId);
 * try {
 *   const id = await backend.append(stamped);
 *   acker.ack({ kind: 'success', message: stamped.intoImmutable(id) });
 * } catch (error) {
 *   acker.ack({ kind: 'error', error });
 *   throw error;
 * }
 * ```
 */
export class AckManager {
  readonly #tso: TsoAllocator;
  readonly #allocLock = new Mutex();
  /** Allocated, waiting for acks, ascending: a FIFO because ticks are registered in order. */
  readonly #notAcked = new RingBuffer<Entry>();
  readonly #lastConfirmed: LastConfirmedManager;
  readonly #barrierWaiters = new Set<BarrierWaiter>();
  #acknowledged: AckDetail[] = [];
  #lastAllocatedTimeTick: bigint;
  #lastConfirmedTimeTick: bigint;
  #closedReason: Error | undefined;

  constructor(options: AckManagerOptions) {
    this.#tso = options.tso;
    this.#lastAllocatedTimeTick = options.lastConfirmedTimeTick;
    this.#lastConfirmedTimeTick = options.lastConfirmedTimeTick;
    this.#lastConfirmed = new LastConfirmedManager(options.lastConfirmedMessageId);
  }

  /** Every time tick ≤ this one is acknowledged. */
  get lastConfirmedTimeTick(): bigint {
    return this.#lastConfirmedTimeTick;
  }

  /** The newest time tick handed out (the seed before any allocation). */
  get lastAllocatedTimeTick(): bigint {
    return this.#lastAllocatedTimeTick;
  }

  /** The id the next allocation will capture as `_lc`. */
  get lastConfirmedMessageId(): MessageId {
    return this.#lastConfirmed.lastConfirmedMessageId;
  }

  /** Number of allocated time ticks not yet popped as acknowledged. */
  get unacknowledgedCount(): number {
    return this.#notAcked.length;
  }

  /**
   * Allocates a time tick for one append; the returned acker must be acknowledged exactly once.
   *
   * @throws StreamingError ON_SHUTDOWN after {@link close}; the TSO's error if it fails; the abort
   *   reason if `signal` aborts first. Nothing is registered in those cases.
   */
  async allocate(options: AckManagerCallOptions = {}): Promise<Acker> {
    const entry = await this.#allocateEntry(options.signal);
    return new Acker(entry.timestamp, entry.lastConfirmedMessageId, (outcome) => this.#ack(entry, outcome));
  }

  /**
   * Like {@link allocate}, but first waits until `lastConfirmedTimeTick > barrierTimeTick`, so the
   * new time tick is greater than the barrier and every message up to the barrier is settled
   * (Milvus `AllocateWithBarrier`, for messages carrying `_btt`).
   */
  async allocateWithBarrier(barrierTimeTick: bigint, options: AckManagerCallOptions = {}): Promise<Acker> {
    await this.#waitConfirmedAbove(barrierTimeTick, options.signal);
    return this.allocate(options);
  }

  /**
   * Allocates and immediately acknowledges a `sync` time tick (so the watermark advances even
   * without traffic), then returns every detail acknowledged since the previous call and forgets
   * them. Empty when an older append is still in flight.
   */
  async syncAndGetAcknowledged(options: AckManagerCallOptions = {}): Promise<AckDetails> {
    const entry = await this.#allocateEntry(options.signal);
    this.#ack(entry, SYNC);
    const details = this.#acknowledged;
    this.#acknowledged = [];
    return new AckDetails(details);
  }

  /**
   * Stops allocation: pending and later allocations and barrier waits fail with `reason` (an
   * ON_SHUTDOWN error by default). Acks of ackers already handed out still count. Idempotent.
   */
  close(reason?: Error): void {
    if (this.#closedReason !== undefined) return;
    this.#closedReason = reason ?? StreamingError.onShutdown('time tick ack manager is closed');
    for (const waiter of this.#barrierWaiters) waiter.done.reject(this.#closedReason);
    this.#barrierWaiters.clear();
  }

  async #allocateEntry(signal: AbortSignal | undefined): Promise<Entry> {
    this.#throwIfClosed();
    const release = await this.#allocLock.acquire(signal === undefined ? {} : { signal });
    try {
      this.#throwIfClosed();
      throwIfAborted(signal);
      const timestamp = await this.#tso.allocate(1);
      // A tick taken but not registered is simply never used: gaps in time ticks are harmless.
      this.#throwIfClosed();
      throwIfAborted(signal);
      if (timestamp <= this.#lastAllocatedTimeTick) {
        throw StreamingError.inner(`TSO went backwards: got ${timestamp} after ${this.#lastAllocatedTimeTick}`);
      }
      this.#lastAllocatedTimeTick = timestamp;
      const entry: Entry = { timestamp, lastConfirmedMessageId: this.#lastConfirmed.lastConfirmedMessageId, detail: undefined };
      this.#notAcked.push(entry);
      return entry;
    } finally {
      release();
    }
  }

  #ack(entry: Entry, outcome: AckOutcome | typeof SYNC): void {
    // Every detail is built by the one literal below (no spreads): one object shape, one allocation.
    let kind: AckDetail['kind'] = 'sync';
    let message: AckDetail['message'];
    let txnSession: AckDetail['txnSession'];
    let error: unknown;
    if (outcome !== SYNC) {
      kind = outcome.kind;
      if (outcome.kind === 'success') {
        message = outcome.message;
        txnSession = outcome.txnSession;
      } else {
        error = outcome.error;
      }
    }
    entry.detail = {
      kind,
      beginTimestamp: entry.timestamp,
      endTimestamp: this.#lastAllocatedTimeTick,
      lastConfirmedMessageId: entry.lastConfirmedMessageId,
      message,
      txnSession,
      error,
    };
    this.#popAcknowledged();
  }

  /** Pops the acknowledged prefix of the allocated ticks and moves the watermarks. */
  #popAcknowledged(): void {
    let last: AckDetail | undefined;
    for (let head = this.#notAcked.peek(); head?.detail !== undefined; head = this.#notAcked.peek()) {
      this.#notAcked.shift();
      last = head.detail;
      this.#lastConfirmed.addConfirmedOne(last);
      this.#acknowledged.push(last);
    }
    if (last === undefined) return;
    this.#lastConfirmedTimeTick = last.beginTimestamp;
    this.#lastConfirmed.advance(this.#lastConfirmedTimeTick);
    if (this.#barrierWaiters.size > 0) this.#wakeBarrierWaiters();
  }

  async #waitConfirmedAbove(barrier: bigint, signal: AbortSignal | undefined): Promise<void> {
    this.#throwIfClosed();
    throwIfAborted(signal);
    if (this.#lastConfirmedTimeTick > barrier) return;
    const waiter: BarrierWaiter = { barrier, done: new Deferred<void>() };
    this.#barrierWaiters.add(waiter);
    const onAbort = (): void => {
      this.#barrierWaiters.delete(waiter);
      waiter.done.reject(abortReason(signal as AbortSignal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await waiter.done.promise;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  #wakeBarrierWaiters(): void {
    for (const waiter of this.#barrierWaiters) {
      if (this.#lastConfirmedTimeTick > waiter.barrier) {
        this.#barrierWaiters.delete(waiter);
        waiter.done.resolve();
      }
    }
  }

  #throwIfClosed(): void {
    if (this.#closedReason !== undefined) throw this.#closedReason;
  }
}
