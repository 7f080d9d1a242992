/**
 * One pchannel's WAL over time: the `(term, available)` state machine of Milvus
 * `wal_lifetime.go` + `wal_state_pair.go`.
 *
 * Two states are kept. The *expected* state is what the coordinator asked for last (`open` sets
 * `(term, true)`, `remove` sets `(term, false)`); it only moves forward, so a request for an older
 * state is answered IGNORED_OPERATION at once. The *current* state is what is really there; one
 * background task per pchannel moves it towards the expected state, one step at a time:
 *
 * 1. current not before expected → nothing to do (e.g. remove after a failed open of that term);
 * 2. otherwise close the current WAL, if any, first — so two WALs of a pchannel are never open
 *    together, and a newer term always fences an older one on this node;
 * 3. expected unavailable → current = (term, false); else open the WAL at the expected term:
 *    failure → (term, false, error), success → (term, true).
 *
 * Callers wait until the current state is no longer before what they asked for. Work is never
 * cancelled by a caller: a caller whose signal aborts fails fast with the abort reason while the
 * background task still converges, so an interrupted open leaves a state that a later remove of
 * that term clears (Milvus issue #51078) and out-of-order RPCs cannot deadlock.
 */
import { StreamingCode, StreamingError } from '../../shared/errors/index.js';
import { type PChannelInfo, formatPChannelInfo } from '../../shared/message/index.js';
import { type Logger, noopLogger } from '../../shared/log/index.js';
import { anySignal, throwIfAborted } from '../../shared/util/index.js';
import type { ManagedWal, WalOpener } from './managed-wal.js';
import {
  type CurrentWalState,
  type ExpectedWalState,
  type WalState,
  INITIAL_CURRENT_STATE,
  INITIAL_EXPECTED_STATE,
  WalStateCell,
  formatWalState,
  isStateBefore,
} from './wal-state.js';

/** Options of {@link WalLifetime}. */
export interface WalLifetimeOptions<W extends ManagedWal> {
  /** The pchannel name this lifetime manages. */
  readonly channel: string;
  readonly opener: WalOpener<W>;
  readonly logger?: Logger;
}

/** Options of {@link WalLifetime.open} and {@link WalLifetime.remove}. */
export interface WalLifetimeCallOptions {
  /** Stops *waiting* (rejecting with the abort reason); the requested change still happens. */
  readonly signal?: AbortSignal;
}

/** The `(term, available)` state machine of one pchannel; see the file comment. */
export class WalLifetime<W extends ManagedWal> {
  readonly channel: string;
  readonly #opener: WalOpener<W>;
  readonly #log: Logger;
  readonly #expected = new WalStateCell<ExpectedWalState>(INITIAL_EXPECTED_STATE);
  readonly #current = new WalStateCell<CurrentWalState<W>>(INITIAL_CURRENT_STATE);
  /** Aborted by close(): ends the background task, interrupts an open, and fails every waiter. */
  readonly #stop = new AbortController();
  readonly #task: Promise<void>;
  #closing: Promise<void> | undefined;

  constructor(options: WalLifetimeOptions<W>) {
    this.channel = options.channel;
    this.#opener = options.opener;
    this.#log = (options.logger ?? noopLogger).child({ channel: options.channel });
    this.#task = this.#run();
  }

  /** The last state asked for. */
  get expectedState(): WalState {
    return toWalState(this.#expected.get());
  }

  /** The state reached. */
  get currentState(): WalState {
    return toWalState(this.#current.get());
  }

  /** The WAL open now (maybe fenced: check `isAvailable()`), or undefined. */
  getWal(): W | undefined {
    const current = this.#current.get();
    return current.available ? current.wal : undefined;
  }

  /**
   * Asks for the WAL of `channel` (at its term) and waits until it is open.
   *
   * @throws StreamingError IGNORED_OPERATION if this term (or a newer one) was already asked for;
   *   UNMATCHED_CHANNEL_TERM if a newer term became current meanwhile; ON_SHUTDOWN once closed.
   * @throws the opener's error if the WAL could not be opened at this term.
   * @throws the abort reason of `options.signal` (the open still happens in the background).
   */
  async open(channel: PChannelInfo, options: WalLifetimeCallOptions = {}): Promise<void> {
    this.#assertNotClosed();
    const expected: ExpectedWalState = { term: channel.term, available: true, channel };
    if (!this.#expected.advance(expected)) {
      throw StreamingError.ignoredOperation(
        `channel ${formatPChannelInfo(channel)} with expired term, cannot open: ` +
          `expected state is already ${formatWalState(this.#expected.get())}`,
      );
    }
    const current = await this.#waitReached(expected, options.signal);
    if (current.term > expected.term) {
      throw StreamingError.unmatchedChannelTerm(this.channel, expected.term, current.term);
    }
    // Same term: either open, or unavailable because the open failed (rethrow its error) or a
    // remove of this very term overtook it (nothing to report: the coordinator asked for both).
    if (!current.available && current.error !== undefined) throw current.error;
  }

  /**
   * Asks for no WAL at `term` and waits until none is open. Succeeds also when the open at `term`
   * had failed or a newer term came meanwhile: either way no WAL of `term` is left (as Milvus
   * after #51078, so the coordinator can always retire a term it assigned).
   *
   * @throws StreamingError IGNORED_OPERATION if a newer state was already asked for;
   *   ON_SHUTDOWN once closed.
   * @throws the abort reason of `options.signal` (the removal still happens in the background).
   */
  async remove(term: bigint, options: WalLifetimeCallOptions = {}): Promise<void> {
    this.#assertNotClosed();
    const expected: ExpectedWalState = { term, available: false };
    if (!this.#expected.advance(expected)) {
      throw StreamingError.ignoredOperation(
        `channel ${this.channel} with expired term ${term}, cannot remove: ` +
          `expected state is already ${formatWalState(this.#expected.get())}`,
      );
    }
    const current = await this.#waitReached(expected, options.signal);
    if (!current.available && current.error !== undefined) {
      this.#log.info({ term: term.toString(), err: current.error }, 'removed a term whose open had failed');
    }
  }

  /**
   * Stops the background task (interrupting an open in progress through its signal), waits for
   * its current step, then closes the WAL that is open, if any. Pending and later calls fail with
   * ON_SHUTDOWN (`reason` when it is a StreamingError). Idempotent: every call returns the same
   * promise, which rejects with the WAL's close error, if any.
   */
  close(reason?: Error): Promise<void> {
    this.#closing ??= this.#doClose(reason);
    return this.#closing;
  }

  async #doClose(reason: Error | undefined): Promise<void> {
    this.#stop.abort(
      reason instanceof StreamingError
        ? reason
        : new StreamingError(StreamingCode.ON_SHUTDOWN, `wal lifetime of ${this.channel} is closed`, reason ? { cause: reason } : undefined),
    );
    // The task never rejects, and it finishes the step in progress first: a WAL it is opening
    // right now is registered as current, so it is closed here rather than leaked.
    await this.#task;
    const current = this.#current.get();
    if (!current.available) return;
    try {
      await current.wal.close();
      this.#log.info({ current: formatWalState(current) }, 'closed the wal at lifetime close');
    } finally {
      this.#current.advance({ term: current.term, available: false });
    }
  }

  #assertNotClosed(): void {
    throwIfAborted(this.#stop.signal);
  }

  /** Waits until the current state is not before `expected`; returns that current state. */
  async #waitReached(expected: ExpectedWalState, signal: AbortSignal | undefined): Promise<CurrentWalState<W>> {
    const combined = anySignal([signal, this.#stop.signal]);
    try {
      // An already-aborted caller fails even if the state is reached, so the outcome doesn't hinge
      // on how far the background task got (the expected state is recorded either way).
      throwIfAborted(combined.signal);
      let current = this.#current.get();
      while (isStateBefore(current, expected)) {
        await this.#current.waitChanged(current, combined.signal);
        current = this.#current.get();
      }
      return current;
    } finally {
      combined.dispose();
    }
  }

  /** The background task: one step per change of the expected state, never two at once. */
  async #run(): Promise<void> {
    let seen = this.#expected.get();
    for (;;) {
      // Checked before waiting because a change may already be pending: after close() no new
      // step may start, only the one in progress finishes.
      if (this.#stop.signal.aborted) break;
      try {
        await this.#expected.waitChanged(seen, this.#stop.signal);
      } catch {
        break;
      }
      // Several requests may have arrived meanwhile; only the latest matters.
      seen = this.#expected.get();
      await this.#step(seen);
    }
    this.#log.debug({}, 'wal lifetime background task exited');
  }

  /** Moves the current state to `expected` (see the file comment). Never throws. */
  async #step(expected: ExpectedWalState): Promise<void> {
    const current = this.#current.get();
    const log = this.#log.child({ expected: formatWalState(expected), current: formatWalState(current) });
    if (!isStateBefore(current, expected)) {
      log.info({}, 'current state is not before expected state, nothing to do');
      return;
    }
    if (current.available) {
      await this.#closeWal(current.wal, log);
      // Only now: a remove must not return while the old WAL still holds the pchannel.
      this.#current.advance({ term: current.term, available: false });
    }
    if (!expected.available) {
      this.#current.advance({ term: expected.term, available: false });
      return;
    }
    try {
      const wal = await Promise.resolve().then(() => this.#opener.open(expected.channel, { signal: this.#stop.signal }));
      this.#current.advance({ term: expected.term, available: true, wal });
      log.info({}, 'opened the wal');
    } catch (error) {
      log.warn({ err: error }, 'failed to open the wal');
      // `error` marks the failure, so it must not be undefined even if the opener threw that.
      const failure: unknown = error ?? StreamingError.unknown('wal open failed without an error');
      this.#current.advance({ term: expected.term, available: false, error: failure });
    }
  }

  async #closeWal(wal: W, log: Logger): Promise<void> {
    try {
      await wal.close();
      log.info({}, 'closed the wal of the current term');
    } catch (error) {
      // The WAL is gone for the state machine either way; a failed close must not wedge the
      // pchannel, so it is logged and the next state is still reached.
      log.warn({ err: error }, 'closing the wal of the current term failed');
    }
  }
}

function toWalState(s: WalState): WalState {
  return { term: s.term, available: s.available };
}
