/**
 * What wakes the balancer loop, and who waits for it (Milvus `balancerImpl.execute`'s `select`,
 * reference `milvus-coord.md` §3.2): event triggers (node view changes, error reports, admin
 * requests, policy updates) coalesce into one pending flag; otherwise the loop sleeps until its
 * timer, the trigger interval or, after a failed round, an exponential backoff reset by the next
 * success. Admin callers of `triggerBalance` wait for a round that *starts* after their call.
 */
import { Backoff, Deferred, abortReason } from '../../shared/index.js';
import type { BackoffOptions, StreamingError } from '../../shared/index.js';

/** Why a round ran. `timer` is the periodic (or backoff) wake-up. */
export type TriggerReason = 'start' | 'nodes' | 'report' | 'admin' | 'policy' | 'vchannels' | 'timer';

/** How a round ended, as `triggerBalance` reports it. */
export interface RoundOutcome {
  /** 1 for the first round after start. */
  readonly round: number;
  readonly ok: boolean;
  /** pchannels (re)assigned by the round, summed over its passes. */
  readonly changed: number;
  /** Why the round failed (the next one follows after a backoff). */
  readonly error?: StreamingError;
}

interface RoundWaiter {
  /** The first round number that satisfies this waiter. */
  readonly target: number;
  readonly done: Deferred<RoundOutcome>;
}

/** Wake-ups, round numbering and round waiters of one balancer loop. */
export class BalanceTriggers {
  readonly #reasons = new Set<TriggerReason>();
  #wake: Deferred<void> | undefined;
  #waiters: RoundWaiter[] = [];
  #roundsStarted = 0;

  /** Rounds started so far. */
  get roundsStarted(): number {
    return this.#roundsStarted;
  }

  /** Asks for a round as soon as the loop is free (a hint; several coalesce into one). */
  notify(reason: TriggerReason): void {
    this.#reasons.add(reason);
    this.#wake?.resolve();
  }

  /**
   * Resolves when a trigger is pending (at once if one already is) or after `delayMs`; rejects
   * with the abort reason when `signal` aborts. The timer is cleared either way.
   */
  async wait(delayMs: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw abortReason(signal);
    if (this.#reasons.size > 0) return;
    const wake = new Deferred<void>();
    this.#wake = wake;
    const timer = setTimeout(() => this.notify('timer'), Math.max(0, delayMs));
    const onAbort = (): void => wake.reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await wake.promise;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      this.#wake = undefined;
    }
  }

  /** Starts a round: consumes the pending reasons and returns the round number with them. */
  beginRound(): { round: number; reasons: TriggerReason[] } {
    const reasons = [...this.#reasons];
    this.#reasons.clear();
    this.#roundsStarted++;
    return { round: this.#roundsStarted, reasons };
  }

  /** Resolves every waiter whose round has now finished. */
  endRound(outcome: RoundOutcome): void {
    const ready = this.#waiters.filter((w) => w.target <= outcome.round);
    this.#waiters = this.#waiters.filter((w) => w.target > outcome.round);
    for (const w of ready) w.done.resolve(outcome);
  }

  /**
   * Waits for the first round that starts after this call to finish (a round already running
   * does not count: it may have read the state before the caller's change). Triggers that round.
   */
  waitForFreshRound(signal?: AbortSignal): Promise<RoundOutcome> {
    const waiter: RoundWaiter = { target: this.#roundsStarted + 1, done: new Deferred<RoundOutcome>() };
    this.#waiters.push(waiter);
    this.notify('admin');
    if (signal === undefined) return waiter.done.promise;
    if (signal.aborted) {
      this.#drop(waiter);
      return Promise.reject(abortReason(signal));
    }
    const onAbort = (): void => {
      this.#drop(waiter);
      waiter.done.reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    return waiter.done.promise.finally(() => signal.removeEventListener('abort', onAbort));
  }

  /** Fails every waiter (the loop stopped). */
  rejectAll(error: Error): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.done.reject(error);
  }

  #drop(waiter: RoundWaiter): void {
    this.#waiters = this.#waiters.filter((w) => w !== waiter);
  }
}

/**
 * The loop's sleep length (Milvus `typeutil.BackoffTimer`): the trigger interval normally; after
 * a failure, exponential backoff that starts over each time it is newly enabled.
 */
export class BalanceTimer {
  readonly #intervalMs: number;
  readonly #backoff: Backoff;
  #backingOff = false;

  constructor(intervalMs: number, backoff: Partial<BackoffOptions>) {
    this.#intervalMs = intervalMs;
    this.#backoff = new Backoff(backoff);
  }

  get backingOff(): boolean {
    return this.#backingOff;
  }

  /** How long to sleep before the next timer-driven round. */
  nextDelayMs(): number {
    return this.#backingOff ? this.#backoff.next() : this.#intervalMs;
  }

  /** A round failed: retry soon, then less and less often. */
  enableBackoff(): void {
    if (this.#backingOff) return;
    this.#backingOff = true;
    this.#backoff.reset();
  }

  /** A round succeeded: back to the trigger interval. */
  disableBackoff(): void {
    this.#backingOff = false;
  }
}
