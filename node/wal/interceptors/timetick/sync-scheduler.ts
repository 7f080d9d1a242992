/**
 * When the time tick sync operator runs: coalesced soon after requests, and on an idle ticker.
 * Split from the operator so the timing rules read (and test) on their own.
 */

/** Options of {@link SyncScheduler}. */
export interface SyncSchedulerOptions {
  /** A request is also made every this many ms (the idle ticker). */
  readonly idleIntervalMs: number;
  /** A run starts this long after the first request it covers; 0 = next macrotask. */
  readonly delayMs: number;
  /** One run; `persist` when any covered request asked for a persisted tick. */
  readonly run: (persist: boolean) => Promise<void>;
  /** Receives a run's rejection (runs are fire-and-forget). */
  readonly onError: (error: unknown) => void;
}

/**
 * Coalesces requests into runs:
 * - a request while nothing is scheduled or running schedules one run `delayMs` later, which
 *   covers every request made until it starts;
 * - at most one run at a time: requests during a run schedule the next one when it ends;
 * - a persisted request makes the next run persisted (it is never lost to a run that had
 *   already started).
 * Timers are unref'd: they never keep the process alive on their own.
 */
export class SyncScheduler {
  readonly #options: SyncSchedulerOptions;
  #started = false;
  #stopped = false;
  #requested = false;
  #persistRequested = false;
  #running = false;
  /** Cancels the scheduled run; set while one is scheduled. */
  #cancelScheduled: (() => void) | undefined;
  #ticker: NodeJS.Timeout | undefined;

  constructor(options: SyncSchedulerOptions) {
    if (!Number.isFinite(options.idleIntervalMs) || options.idleIntervalMs <= 0) {
      throw new RangeError(`idleIntervalMs must be a positive number, got ${options.idleIntervalMs}`);
    }
    if (!Number.isFinite(options.delayMs) || options.delayMs < 0) {
      throw new RangeError(`delayMs must be a non-negative number, got ${options.delayMs}`);
    }
    this.#options = options;
  }

  /** True while a run is in progress. */
  get isRunning(): boolean {
    return this.#running;
  }

  /** Starts the idle ticker and schedules what was requested before. Idempotent. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#ticker = setInterval(() => this.request(false), this.#options.idleIntervalMs);
    this.#ticker.unref();
    if (this.#requested) this.#schedule();
  }

  /** Asks for a run soon. */
  request(persist: boolean): void {
    if (this.#stopped) return;
    this.#requested = true;
    if (persist) this.#persistRequested = true;
    this.#schedule();
  }

  /** No more runs are scheduled; a running one finishes on its own. Idempotent. */
  stop(): void {
    this.#stopped = true;
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    this.#ticker = undefined;
    this.#cancelScheduled?.();
    this.#cancelScheduled = undefined;
  }

  #schedule(): void {
    if (!this.#started || this.#stopped || this.#running || this.#cancelScheduled !== undefined) return;
    if (this.#options.delayMs === 0) {
      const immediate = setImmediate(() => this.#fire());
      immediate.unref();
      this.#cancelScheduled = () => clearImmediate(immediate);
    } else {
      const timeout = setTimeout(() => this.#fire(), this.#options.delayMs);
      timeout.unref();
      this.#cancelScheduled = () => clearTimeout(timeout);
    }
  }

  #fire(): void {
    this.#cancelScheduled = undefined;
    if (this.#stopped) return;
    this.#running = true;
    this.#requested = false;
    const persist = this.#persistRequested;
    this.#persistRequested = false;
    this.#options
      .run(persist)
      .catch((error: unknown) => this.#options.onError(error))
      .finally(() => {
        this.#running = false;
        if (this.#requested) this.#schedule();
      });
  }
}
