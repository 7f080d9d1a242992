/**
 * The balancer loop (Milvus `balancerImpl`, reference `milvus-coord.md` §2.3–2.6, §3): one
 * long-lived loop that keeps every pchannel assigned to a healthy streaming node, one round at a
 * time.
 *
 * Triggers (coalesced): the node view changing (join / leave / stopping; also bumps the channel
 * manager's watch version so discovery re-sends), error reports, admin requests, policy updates,
 * and a timer (the trigger interval, or an exponential backoff after a failed round, reset by the
 * next success).
 *
 * A round repeats passes until a pass changes nothing (Milvus `balanceUntilNoChanged`). A pass:
 * collect node status (a node that fails is unhealthy for the pass) → build the policy layout →
 * run the policy → phase 1 `assignPChannels` (persist ASSIGNING, term+1, histories) → phase 2
 * per changed channel: Remove histories, Assign, persist ASSIGNED (see `apply-assignments.ts`).
 * Any failure leaves channels ASSIGNING and fails the round into backoff; the next round
 * re-assigns them at term+1, which is also how a coordinator restart mid-assignment is repaired.
 *
 * @example
 * ```ts
 * const balancer = new Balancer({ channels, registry, logger });
 * await balancer.start();
 * await balancer.updateBalancePolicy({ freezeNodeIds: [3n], updateMask: [] });
 * await balancer.triggerBalance(); // node 3 drained
 * await balancer.close();
 * ```
 */
import { setMaxListeners } from 'node:events';
import type { Subscription } from 'rxjs';
import { Lifecycle, StreamingError, asStreamingError } from '../../shared/index.js';
import type { Logger, PChannelInfo } from '../../shared/index.js';
import type { NodeView } from '../discovery/index.js';
import { applyAssignments } from './apply-assignments.js';
import { buildBalanceLayout, formatMove } from './balance-layout.js';
import { BalanceSettings } from './balance-settings.js';
import type { BalancePolicyState, BalancePolicyUpdate } from './balance-settings.js';
import { BalanceTimer, BalanceTriggers } from './balance-triggers.js';
import type { RoundOutcome, TriggerReason } from './balance-triggers.js';
import { resolveBalancerOptions } from './balancer-options.js';
import type { BalancerOptions, ResolvedBalancerOptions } from './balancer-options.js';
import { collectNodeStatus } from './node-status.js';

/** The coordinator's balancer; see the module comment. */
export class Balancer {
  readonly #o: ResolvedBalancerOptions;
  readonly #life: Lifecycle;
  readonly #settings: BalanceSettings;
  readonly #triggers = new BalanceTriggers();
  readonly #timer: BalanceTimer;
  #subscription: Subscription | undefined;
  #lastRevision: number | undefined;
  #loop: Promise<void> | undefined;

  /** @throws StreamingError INVAILD_ARGUMENT for bad options or an unknown policy name. */
  constructor(options: BalancerOptions) {
    this.#o = resolveBalancerOptions(options);
    this.#settings = new BalanceSettings(this.#o.policyConfig.allowRebalance, this.#o.logger);
    this.#timer = new BalanceTimer(this.#o.triggerIntervalMs, this.#o.backoff);
    this.#life = new Lifecycle({ name: 'balancer', onClose: () => this.#teardown() });
  }

  /** Name of the policy in use. */
  get policyName(): string {
    return this.#o.policy.name;
  }

  /** Subscribes to node views and starts the loop; the first round runs right away. */
  async start(): Promise<void> {
    await this.#life.start(() => {
      // Every in-flight node call and catalog write of a pass listens on the loop's signal (up to
      // the apply concurrency plus a few); that is expected, not a leak.
      setMaxListeners(2 * this.#o.applyConcurrency + 16, this.#life.signal);
      this.#subscription = this.#o.registry.views$.subscribe({ next: (view) => this.#onView(view) });
      this.#triggers.notify('start');
      this.#loop = this.#run();
      this.#o.logger.info({ triggerIntervalMs: this.#o.triggerIntervalMs }, 'balancer started');
    });
  }

  /**
   * Stops the loop: aborts the round in flight (its node RPCs get the abort signal; their channels
   * stay ASSIGNING for the next coordinator to repair) and fails pending `triggerBalance` waiters
   * with ON_SHUTDOWN. Idempotent. The channel manager and the registry are not closed: not ours.
   */
  close(reason?: Error): Promise<void> {
    return this.#life.close(reason);
  }

  /** Resolves (never rejects) once closed, with the close reason if any. */
  closed(): Promise<void | Error> {
    return this.#life.closed();
  }

  /**
   * A client reports `pchannel` broken at its term (`AssignmentDiscover.report_error`): marks it
   * UNAVAILABLE if it is still ASSIGNED at that term (a stale term changes nothing), then asks for
   * a round, which re-assigns it at term+1. Resolves once the mark is persisted, not after the round.
   *
   * @throws StreamingError ON_SHUTDOWN when not running; CHANNEL_NOT_EXIST for an unknown pchannel.
   */
  async reportError(pchannel: PChannelInfo | readonly PChannelInfo[], options: { signal?: AbortSignal } = {}): Promise<void> {
    this.#life.assertRunning('report error');
    await this.#o.channels.markAsUnavailable(pchannel, options);
    this.#triggers.notify('report');
  }

  /**
   * Asks for a round and waits until a round that started after this call has finished (a round
   * already running does not count). Resolves with that round's outcome, failed or not.
   *
   * @throws StreamingError ON_SHUTDOWN when not running or closed while waiting; the abort reason of `signal`.
   */
  triggerBalance(options: { signal?: AbortSignal } = {}): Promise<RoundOutcome> {
    try {
      this.#life.assertRunning('trigger balance');
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#triggers.waitForFreshRound(options.signal);
  }

  /** Asks for a round without waiting (e.g. vchannel counts changed). No-op unless running. */
  notify(reason: Extract<TriggerReason, 'vchannels' | 'admin'> = 'admin'): void {
    if (this.#life.isRunning) this.#triggers.notify(reason);
  }

  /**
   * `UpdateWALBalancePolicy`: applies `update` with Milvus field-mask semantics (see
   * {@link BalancePolicyUpdate}), asks for a round, and returns the resulting settings at once
   * (call {@link triggerBalance} to wait for their effect). Unknown node ids in `freezeNodeIds`
   * are ignored (logged).
   *
   * @throws StreamingError ON_SHUTDOWN when not running; INVAILD_ARGUMENT for an unknown mask path.
   */
  async updateBalancePolicy(update: BalancePolicyUpdate): Promise<BalancePolicyState> {
    this.#life.assertRunning('update balance policy');
    const live = this.#o.registry.current().nodes;
    this.#settings.prune((id) => live.has(id));
    const state = this.#settings.apply(update, (id) => live.has(id));
    this.#triggers.notify('policy');
    return state;
  }

  /** The current runtime settings. */
  balancePolicy(): BalancePolicyState {
    return this.#settings.state();
  }

  #onView(view: NodeView): void {
    const status = this.#life.status;
    if (view.revision === this.#lastRevision || status === 'closing' || status === 'closed') return;
    this.#lastRevision = view.revision;
    this.#settings.prune((id) => view.nodes.has(id));
    // Watchers (discovery) learn about joined / left nodes even when no channel moves.
    this.#o.channels.triggerWatchUpdate();
    this.#triggers.notify('nodes');
  }

  async #run(): Promise<void> {
    const signal = this.#life.signal;
    for (;;) {
      try {
        await this.#triggers.wait(this.#timer.nextDelayMs(), signal);
      } catch {
        return; // closing
      }
      const { round, reasons } = this.#triggers.beginRound();
      const outcome = await this.#round(round, reasons, signal);
      if (signal.aborted) return;
      if (outcome.ok) this.#timer.disableBackoff();
      else this.#timer.enableBackoff();
      this.#triggers.endRound(outcome);
    }
  }

  /** Passes until nothing changes; never rejects. */
  async #round(round: number, reasons: TriggerReason[], signal: AbortSignal): Promise<RoundOutcome> {
    const logger = this.#o.logger.child({ round });
    logger.info({ reasons }, 'balance round start');
    let changed = 0;
    try {
      for (let pass = 1; ; pass++) {
        const n = await this.#pass(logger, signal);
        changed += n;
        if (n === 0) break;
        if (pass >= this.#o.maxPassesPerRound) {
          // Left to the timer, not re-triggered: a policy that never converges must not spin.
          logger.warn({ passes: pass }, 'balance round did not converge within the pass limit');
          break;
        }
      }
      logger.info({ changed }, 'balance round done');
      return { round, ok: true, changed };
    } catch (err) {
      const error = asStreamingError(err);
      if (!signal.aborted) logger.warn({ err: error, changed }, 'balance round failed, backing off');
      return { round, ok: false, changed, error };
    }
  }

  /** One pass; returns the number of channels phase 1 changed; throws if any step failed. */
  async #pass(logger: Logger, signal: AbortSignal): Promise<number> {
    const { channels, registry } = this.#o;
    this.#settings.prune((id) => registry.current().nodes.has(id));
    const collected = await collectNodeStatus({
      registry,
      frozen: this.#settings.frozen(),
      timeoutMs: this.#o.collectStatusTimeoutMs,
      signal,
      logger,
    });
    const layout = buildBalanceLayout({
      view: channels.currentLayout(),
      collected,
      config: { ...this.#o.policyConfig, allowRebalance: this.#settings.allowRebalance },
      vchannelStats: this.#o.vchannelStats,
      nowMs: this.#o.nowMs(),
    });
    const result = this.#o.policy.balance(layout);
    if (result.kind === 'noNode') {
      // Not a crash: the round fails into backoff and the next node view change triggers a retry.
      throw StreamingError.unknown('no streaming node available to assign pchannels');
    }
    const modified = await channels.assignPChannels(result.assignments, { signal });
    if (modified.size === 0) return 0;
    logger.info({ moves: [...modified.values()].map(formatMove) }, 'balance moves persisted (phase 1)');
    const applied = await applyAssignments(modified, {
      channels,
      registry,
      operationTimeoutMs: this.#o.operationTimeoutMs,
      concurrency: this.#o.applyConcurrency,
      signal,
      logger,
    });
    signal.throwIfAborted();
    const [first] = applied.failed.values();
    if (first !== undefined) {
      const names = [...applied.failed.keys()];
      throw new StreamingError(first.code, `${names.length} channel(s) left ASSIGNING (${names.join(', ')}): ${first.message}`, { cause: first });
    }
    logger.info({ done: applied.done.length }, 'balance moves applied (phase 2)');
    return modified.size;
  }

  /** Runs after the lifecycle aborted its signal: stop listening, wait for the loop, fail waiters. */
  async #teardown(): Promise<void> {
    this.#subscription?.unsubscribe();
    this.#subscription = undefined;
    await this.#loop;
    this.#triggers.rejectAll(StreamingError.onShutdown('balancer is closed'));
    this.#o.logger.info({}, 'balancer closed');
  }
}
