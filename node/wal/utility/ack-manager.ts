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
import { type AckDetail, Acker, type AckerOwner } from './acker.js';
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

interface BarrierWaiter {
  readonly barrier: bigint;
  readonly done: Deferred<void>;
}

/**
 * Invariants (checked by the property tests):
 * - allocated time ticks strictly increase; `lastConfirmedTimeTick` never decreases and stays
 *   below every allocated, unacknowledged time tick;
 * - the last confirmed id never decreases and keeps the safe-resume contract.
 *
 * Allocation is serialised (one TSO call at a time, then registration), like Milvus holding its
 * mutex across the TSO call: a later, larger tick registered and acknowledged before an earlier
 * one is even known would let `lastConfirmedTimeTick` jump over an append in flight. When no
 * allocation waits and the TSO has a timestamp at hand, allocation and registration happen in
 * one synchronous step ({@link tryAllocate}), which is serialised by construction. Acks are
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
  readonly #notAcked = new RingBuffer<Acker>();
  /** Shared by every acker of this manager (no closure per allocation). */
  readonly #owner: AckerOwner = {
    lastAllocatedTimeTick: () => this.#lastAllocatedTimeTick,
    acknowledged: () => this.#popAcknowledged(),
  };
  readonly #lastConfirmed: LastConfirmedManager;
  readonly #barrierWaiters = new Set<BarrierWaiter>();
  /**
   * Acknowledged since the last sync: the first `#acknowledgedCount` slots. Allocated at the size
   * the previous sync took (a sync under load takes thousands): growing by push would copy it
   * over and over.
   */
  #acknowledged: AckDetail[] = [];
  #acknowledgedCount = 0;
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
  allocate(options: AckManagerCallOptions = {}): Promise<Acker> {
    try {
      const acker = options.signal?.aborted === true ? undefined : this.tryAllocate();
      if (acker !== undefined) return Promise.resolve(acker);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#allocateWaiting(options.signal);
  }

  /**
   * {@link allocate} without waiting, when nothing stands in the way: no allocation is in
   * progress (so the new tick is still registered after every earlier one) and the TSO has a
   * timestamp at hand (`TsoAllocator.tryAllocate`). Undefined = call {@link allocate}. This is
   * the hot path of every append: no lock, no promise.
   *
   * @throws StreamingError ON_SHUTDOWN after {@link close}; the TSO's error. Nothing is registered
   *   in those cases.
   */
  tryAllocate(): Acker | undefined {
    this.#throwIfClosed();
    if (this.#allocLock.isLocked || this.#tso.tryAllocate === undefined) return undefined;
    const timestamp = this.#tso.tryAllocate(1);
    return timestamp === undefined ? undefined : this.#register(timestamp);
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
    const acker = await this.allocate(options);
    acker.ackSync();
    const details = this.#acknowledged;
    const count = this.#acknowledgedCount;
    details.length = count;
    this.#acknowledged = new Array<AckDetail>(count);
    this.#acknowledgedCount = 0;
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

  /** The allocation that waits: for an allocation in progress (the lock), then for the TSO. */
  async #allocateWaiting(signal: AbortSignal | undefined): Promise<Acker> {
    this.#throwIfClosed();
    const release = await this.#allocLock.acquire(signal === undefined ? {} : { signal });
    try {
      this.#throwIfClosed();
      throwIfAborted(signal);
      const timestamp = await this.#tso.allocate(1);
      // A tick taken but not registered is simply never used: gaps in time ticks are harmless.
      this.#throwIfClosed();
      throwIfAborted(signal);
      return this.#register(timestamp);
    } finally {
      release();
    }
  }

  #register(timestamp: bigint): Acker {
    if (timestamp <= this.#lastAllocatedTimeTick) {
      throw StreamingError.inner(`TSO went backwards: got ${timestamp} after ${this.#lastAllocatedTimeTick}`);
    }
    this.#lastAllocatedTimeTick = timestamp;
    const acker = new Acker(timestamp, this.#lastConfirmed.lastConfirmedMessageId, this.#owner);
    this.#notAcked.push(acker);
    return acker;
  }

  /** Pops the acknowledged prefix of the allocated ticks and moves the watermarks. */
  #popAcknowledged(): void {
    let last: Acker | undefined;
    for (let head = this.#notAcked.peek(); head?.acknowledged === true; head = this.#notAcked.peek()) {
      this.#notAcked.shift();
      last = head;
      this.#lastConfirmed.addConfirmedOne(head);
      this.#acknowledged[this.#acknowledgedCount++] = head;
    }
    if (last === undefined) return;
    this.#lastConfirmedTimeTick = last.timestamp;
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
