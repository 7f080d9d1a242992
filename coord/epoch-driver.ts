/**
 * Follows the election and keeps the coordinator's role in line with it: winning starts an
 * {@link ActiveEpoch} and routes calls to it; losing routes calls back to the standby table and
 * stops the epoch (its discovery streams end first). Changes are applied one at a time, in order,
 * against the election's *current* state, so epochs never overlap and intermediate states
 * coalesce. A failed epoch start is retried with backoff while still elected, except during the
 * server's own start, whose caller gets the error instead.
 */
import type { Subscription } from 'rxjs';
import { Backoff, abortableSleep, anySignal } from '../shared/index.js';
import type { BackoffOptions, Config, Logger, MetaKV } from '../shared/index.js';
import { ActiveEpoch, type ActiveEpochTuning } from './active-epoch.js';
import type { CoordinatorElection, ElectionState } from './election/index.js';
import type { CoordinatorServiceRouter } from './server-router.js';

/** Pause between failed epoch starts while still elected (the store down, …). */
export const DEFAULT_EPOCH_RETRY_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ initialMs: 100, maxMs: 5_000, multiplier: 2, jitter: 0.2 });

/** What the driver works with; none of it is owned (closed) by the driver. */
export interface EpochDriverOptions {
  readonly kv: MetaKV;
  readonly config: Config;
  readonly election: CoordinatorElection;
  readonly router: CoordinatorServiceRouter;
  /** Aborts when the server closes: no epoch starts after that. */
  readonly serverSignal: AbortSignal;
  /** True while the server's own start() runs (a failed first epoch then fails it). */
  readonly starting: () => boolean;
  readonly tuning?: ActiveEpochTuning;
  readonly retryBackoff?: Partial<BackoffOptions>;
  /** Root logger (components add their own bindings). */
  readonly logger: Logger;
}

type ActiveState = Extract<ElectionState, { role: 'active' }>;

/** See the module comment. */
export class EpochDriver {
  readonly #o: EpochDriverOptions;
  readonly #log: Logger;
  #subscription: Subscription | undefined;
  #current: { readonly epoch: ActiveEpoch; readonly leadership: AbortSignal } | undefined;
  #transitions: Promise<void> = Promise.resolve();
  #startError: unknown;

  constructor(options: EpochDriverOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'coord-server' });
  }

  /** The serving epoch, if any. */
  get current(): ActiveEpoch | undefined {
    return this.#current?.epoch;
  }

  /** Why the epoch started during the server's start() failed, if it did. */
  get startError(): unknown {
    return this.#startError;
  }

  /** Starts following the election's states. */
  follow(): void {
    this.#subscription ??= this.#o.election.states$.subscribe(() => this.#schedule());
  }

  /** Resolves once every change scheduled so far is applied. */
  async settled(): Promise<void> {
    await this.#transitions;
  }

  /**
   * Stops following, waits for the change in flight, and hands the serving epoch (if any) to the
   * caller, calls already routed back to the standby table. The caller stops it (shutdown order).
   */
  async detach(): Promise<ActiveEpoch | undefined> {
    this.#subscription?.unsubscribe();
    await this.#transitions;
    const current = this.#current;
    this.#current = undefined;
    this.#o.router.unserve();
    return current?.epoch;
  }

  #schedule(): void {
    this.#transitions = this.#transitions
      .then(() => this.#reconcile())
      .catch((error: unknown) => this.#log.error({ err: String(error) }, 'coordinator role change failed'));
  }

  async #reconcile(): Promise<void> {
    if (this.#o.serverSignal.aborted) return;
    const state = this.#o.election.state;
    if (state.role === 'active' && !state.signal.aborted) {
      if (this.#current?.leadership === state.signal) return;
      await this.#stop();
      await this.#start(state);
    } else {
      await this.#stop();
    }
  }

  async #start(state: ActiveState): Promise<void> {
    const backoff = new Backoff({ ...DEFAULT_EPOCH_RETRY_BACKOFF, ...this.#o.retryBackoff });
    const combined = anySignal([state.signal, this.#o.serverSignal]);
    // A leadership lost while serving is acted on at once, not when the election publishes next.
    state.signal.addEventListener('abort', () => this.#schedule(), { once: true });
    try {
      while (!combined.signal.aborted) {
        try {
          await this.#startOnce(state, combined.signal);
          return;
        } catch (error) {
          if (combined.signal.aborted) return;
          if (this.#o.starting()) {
            this.#startError = error;
            return;
          }
          const delayMs = backoff.next();
          this.#log.error({ err: String(error), delayMs }, 'starting the active coordinator failed; retrying');
          await abortableSleep(delayMs, combined.signal).catch(() => undefined);
        }
      }
    } finally {
      combined.dispose();
    }
  }

  async #startOnce(state: ActiveState, signal: AbortSignal): Promise<void> {
    const { election, router } = this.#o;
    const epoch: ActiveEpoch = await ActiveEpoch.start({
      kv: this.#o.kv,
      config: this.#o.config,
      serverId: state.serverId,
      signal,
      // The epoch's own gate: a call that reached its handlers after it stopped serving is refused.
      // (Only read per call, and calls reach these handlers only after `epoch` is assigned.)
      role: () => ({ active: this.#current?.epoch === epoch, activeAddress: election.activeAddress }),
      activeCoordinator: () => election.leader,
      ...(this.#o.tuning === undefined ? {} : { tuning: this.#o.tuning }),
      logger: this.#o.logger,
    });
    if (signal.aborted) {
      await epoch.close().catch(() => undefined);
      return;
    }
    this.#current = { epoch, leadership: state.signal };
    router.serve(epoch.components.table);
    this.#log.info({ serverId: state.serverId }, 'serving as the active coordinator');
  }

  async #stop(): Promise<void> {
    const current = this.#current;
    if (current === undefined) return;
    this.#current = undefined;
    this.#o.router.unserve();
    const reason = current.leadership.reason instanceof Error ? current.leadership.reason : undefined;
    try {
      await current.epoch.close(reason);
    } catch (error) {
      this.#log.error({ err: String(error) }, 'stopping the active epoch failed');
    }
    this.#log.info({ serverId: current.epoch.components.serverId }, 'stepped down from active');
  }
}
