/**
 * The coordinator's timestamp oracle (Milvus `internal/tso`, after TiKV PD): hybrid timestamps
 * `physical_ms << 18 | logical` that never repeat or go back, across restarts, failover and a
 * wall clock that jumps backwards.
 *
 * How: every timestamp's physical part stays below a *window end* persisted in the meta store
 * beforehand ({@link TsoWindowStore}). A new allocator starts at `max(now, persisted end)`, so it
 * is above everything any earlier owner handed out, even one that crashed without a word. The
 * window is renewed ahead of use (when less than `renewBeforeMs` remains) by compare-and-swap on
 * the previous value; if another allocator has taken the window over, the CAS fails and this one
 * stops for good (UNRECOVERABLE). If the window is used up and cannot be renewed (store down),
 * allocation waits up to `waitTimeoutMs` and then fails (INNER); it never goes past the bound.
 *
 * Until its next renewal, an allocator that was taken over may still hand out timestamps below
 * its (old) window end, all smaller than the new owner's; the coordinator election is what keeps
 * clients off a deposed coordinator, exactly as in Milvus.
 */
import { randomUUID } from 'node:crypto';
import {
  Backoff,
  LOGICAL_COUNT,
  Lifecycle,
  StreamingCode,
  StreamingError,
  abortableSleep,
  anySignal,
  raceAbort,
  retry,
  type BackoffOptions,
  type Logger,
  type TsoAllocator,
} from '../../shared/index.js';
import { HybridCounter, maxBigint } from './hybrid-counter.js';
import { tsoWindowExhausted, tsoWindowLost } from './tso-errors.js';
import { resolveTsoOptions, type PersistedTsoAllocatorOptions } from './tso-options.js';
import { TsoWindowStore, type TsoWindow } from './tso-window.js';

/**
 * A {@link TsoAllocator} whose upper bound is persisted in the meta store.
 *
 * @example
 * ```ts
 * const tso = new PersistedTsoAllocator({ kv, rootPath: 'by-dev/meta', ownerName: `coord-${serverId}` });
 * await tso.start();
 * const first = await tso.allocate(100); // first .. first + 99 are ours
 * await tso.close();
 * ```
 */
export class PersistedTsoAllocator implements TsoAllocator {
  /** Unique id of this instance, written into every window it persists. */
  readonly ownerId: string;
  readonly #store: TsoWindowStore;
  readonly #windowMs: bigint;
  readonly #renewBeforeMs: bigint;
  readonly #waitTimeoutMs: number;
  readonly #backoff: Partial<BackoffOptions>;
  readonly #logger: Logger;
  readonly #life: Lifecycle;
  /** Confirmed persisted window; undefined before start. */
  #window: TsoWindow | undefined;
  readonly #counter: HybridCounter;
  #renewing: Promise<void> | undefined;
  /** Why the last renewal failed (cleared by a success), for the error of a failed wait. */
  #lastRenewError: unknown;
  /** Allocations waiting for a renewal; `close()` ends their waits. */
  readonly #waiters = new Set<AbortController>();
  /** Allocations waiting in call order; while any waits, new calls queue behind them. */
  #queued = 0;
  #tail: Promise<void> = Promise.resolve();
  /** Set once the window was taken over: every later call fails with it. */
  #lost: StreamingError | undefined;

  constructor(options: PersistedTsoAllocatorOptions) {
    const o = resolveTsoOptions(options);
    // The UUID makes the id unique per instance, which the ambiguous-write check relies on.
    this.ownerId = `${o.ownerName}/${randomUUID()}`;
    this.#store = new TsoWindowStore(o.kv, o.key, this.ownerId);
    this.#counter = new HybridCounter(o.now);
    this.#windowMs = o.windowMs;
    this.#renewBeforeMs = o.renewBeforeMs;
    this.#waitTimeoutMs = o.waitTimeoutMs;
    this.#backoff = o.retryBackoff;
    this.#logger = o.logger.child({ component: 'tso', key: o.key, owner: this.ownerId });
    this.#life = new Lifecycle({
      name: `tso ${o.key}`,
      onClose: async () => {
        for (const wait of this.#waiters) wait.abort('closed' satisfies WaitEnd);
        await this.#renewing?.catch(() => undefined);
      },
    });
  }

  /** The meta-store key of the window. */
  get key(): string {
    return this.#store.key;
  }

  /** Exclusive upper bound of the physical ms this allocator may hand out (persisted). */
  get windowEndMs(): bigint | undefined {
    return this.#window?.endMs;
  }

  /** The greatest timestamp handed out so far, undefined before the first. */
  lastAllocated(): bigint | undefined {
    return this.#counter.lastTaken();
  }

  /**
   * Takes the window over: reads the persisted end, starts at `max(now, end)` and persists a new
   * window by CAS. Store failures and races with another starting allocator are retried until
   * `signal` aborts or `close()` is called; a corrupt stored value fails at once (UNRECOVERABLE).
   */
  async start(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#life.start(async () => {
      const combined = anySignal([options.signal, this.#life.signal]);
      try {
        await retry(() => this.#takeOver(), {
          signal: combined.signal,
          backoff: this.#backoff,
          retryIf: (e) => !(e instanceof StreamingError && (e.isUnrecoverable() || e.isInvalidArgument() || e.isOnShutdown())),
          onRetry: (err, attempt, delayMs) => this.#logger.warn({ err, attempt, delayMs }, 'tso take-over failed, retrying'),
        });
      } catch (error) {
        // A bare abort() reason (DOMException) becomes ON_SHUTDOWN, as everywhere in this service.
        if (error instanceof StreamingError || !combined.signal.aborted) throw error;
        throw new StreamingError(StreamingCode.ON_SHUTDOWN, 'tso start aborted', { cause: error });
      } finally {
        combined.dispose();
      }
    });
  }

  /**
   * Reserves `count` consecutive timestamps (all in one millisecond) and resolves with the first.
   * Calls resolve in call order with increasing values. Rejects with INNER when the window is
   * used up and cannot be renewed in time, UNRECOVERABLE once another allocator took over,
   * ON_SHUTDOWN when closed, and the signal's reason when `signal` aborts.
   */
  allocate(count = 1, options: { signal?: AbortSignal } = {}): Promise<bigint> {
    try {
      if (!Number.isInteger(count) || count < 1 || count > LOGICAL_COUNT) {
        throw StreamingError.invalidArgument('count', `must be an integer in [1, ${LOGICAL_COUNT}], got ${count}`);
      }
      this.#assertUsable();
      if (options.signal?.aborted) throw this.#waitEnded('caller', options.signal);
      if (this.#queued === 0) {
        const ts = this.#tryAllocate(count);
        if (ts !== undefined) return Promise.resolve(ts);
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#enqueue(count, options.signal);
  }

  /** Stops allocating (idempotent); queued calls fail with ON_SHUTDOWN. The window stays persisted. */
  close(reason?: Error): Promise<void> {
    return this.#life.close(reason);
  }

  /** Resolves once closed, with the cause (the take-over error if the window was lost). */
  closed(): Promise<void | Error> {
    return this.#life.closed();
  }

  // ---- internals ----

  async #takeOver(): Promise<void> {
    const previous = await this.#store.load();
    const base = maxBigint(this.#counter.clockMs(), previous?.endMs ?? 0n);
    const claimed = await this.#store.claim(previous, base + this.#windowMs);
    if (claimed === undefined) throw StreamingError.inner(`tso: the window at ${this.key} changed while taking it over`);
    this.#window = claimed;
    // Everything handed out before had physical < previous end <= base.
    this.#counter.reset(base);
    this.#logger.info({ previousEndMs: previous?.endMs, previousOwner: previous?.owner, windowEndMs: claimed.endMs }, 'tso window taken over');
  }

  /** The fast path: a timestamp under the confirmed window, or undefined if it is used up. */
  #tryAllocate(count: number): bigint | undefined {
    const window = this.#window;
    if (window === undefined) return undefined;
    const ts = this.#counter.take(count, window.endMs);
    if (ts !== undefined && window.endMs - this.#counter.physicalMs <= this.#renewBeforeMs) this.#renewInBackground();
    return ts;
  }

  #enqueue(count: number, caller: AbortSignal | undefined): Promise<bigint> {
    this.#queued++;
    const wait = new AbortController();
    // The deadline runs from the call, not from the moment the queue reaches it.
    const timer = setTimeout(() => wait.abort('deadline' satisfies WaitEnd), this.#waitTimeoutMs);
    const onCallerAbort = (): void => wait.abort('caller' satisfies WaitEnd);
    caller?.addEventListener('abort', onCallerAbort, { once: true });
    this.#waiters.add(wait);
    const run = this.#tail.then(() => this.#allocateSlow(count, wait.signal, caller));
    this.#tail = run.then(() => undefined, () => undefined);
    // A waiter behind others still ends as soon as its own wait does; when the queue reaches
    // it later, it sees the aborted signal and takes nothing.
    const settled = new Promise<bigint>((resolve, reject) => {
      run.then(resolve, reject);
      wait.signal.addEventListener('abort', () => reject(this.#waitEnded(wait.signal.reason as WaitEnd, caller)), { once: true });
    });
    return settled.finally(() => {
      this.#queued--;
      clearTimeout(timer);
      caller?.removeEventListener('abort', onCallerAbort);
      this.#waiters.delete(wait);
    });
  }

  /** Renews the window until the allocation fits, or the wait ends (see {@link allocate}). */
  async #allocateSlow(count: number, wait: AbortSignal, caller: AbortSignal | undefined): Promise<bigint> {
    const backoff = new Backoff(this.#backoff);
    for (;;) {
      if (wait.aborted) throw this.#waitEnded(wait.reason as WaitEnd, caller);
      this.#assertUsable();
      const ts = this.#tryAllocate(count);
      if (ts !== undefined) return ts;
      try {
        await raceAbort(this.#renew(), wait);
      } catch {
        // The renewal's error is kept in #lastRenewError for the message of a failed wait.
        if (wait.aborted) continue;
        this.#assertUsable();
        await abortableSleep(backoff.next(), wait).catch(() => undefined);
      }
    }
  }

  /** The error of a wait that ended without a timestamp. */
  #waitEnded(why: WaitEnd, caller: AbortSignal | undefined): StreamingError {
    if (why === 'closed' || this.#lost !== undefined) {
      return this.#lost ?? StreamingError.onShutdown(`cannot allocate timestamps: ${this.#life.name} is ${this.#life.status}`);
    }
    if (why === 'caller') {
      const reason: unknown = caller?.reason;
      return reason instanceof StreamingError
        ? reason
        : new StreamingError(StreamingCode.ON_SHUTDOWN, 'tso allocation aborted', { cause: reason });
    }
    return tsoWindowExhausted(this.#window?.endMs, this.#waitTimeoutMs, this.#lastRenewError);
  }

  #renewInBackground(): void {
    if (this.#renewing !== undefined) return;
    this.#renew().catch((err: unknown) => {
      if (this.#lost === undefined) this.#logger.warn({ err }, 'tso window renewal failed; will retry on the next allocation');
    });
  }

  /** One renewal at a time; concurrent callers share it. */
  #renew(): Promise<void> {
    this.#renewing ??= this.#doRenew().then(
      () => {
        this.#lastRenewError = undefined;
        this.#renewing = undefined;
      },
      (error: unknown) => {
        this.#lastRenewError = error;
        this.#renewing = undefined;
        throw error;
      },
    );
    return this.#renewing;
  }

  async #doRenew(): Promise<void> {
    const current = this.#window;
    if (current === undefined || this.#lost !== undefined) return;
    // Far enough ahead of both the clock and the last allocation (the clock may be behind it).
    const base = maxBigint(this.#counter.clockMs(), this.#counter.physicalMs);
    const endMs = maxBigint(current.endMs + 1n, base + this.#windowMs);
    const result = await this.#store.extend(current, endMs);
    if (result.kind === 'extended') {
      this.#window = result.window;
      this.#logger.debug({ windowEndMs: result.window.endMs }, 'tso window renewed');
      return;
    }
    throw this.#markLost(result.current);
  }

  #markLost(current: TsoWindow | undefined): StreamingError {
    const error = tsoWindowLost(this.key, this.ownerId, current);
    this.#lost ??= error;
    this.#logger.error({ err: error }, 'tso window lost');
    void this.#life.close(error).catch(() => undefined);
    return this.#lost;
  }

  #assertUsable(): void {
    if (this.#lost !== undefined) throw this.#lost;
    this.#life.assertRunning('allocate timestamps');
  }
}

/** Why a waiting allocation stopped waiting. */
type WaitEnd = 'deadline' | 'caller' | 'closed';
