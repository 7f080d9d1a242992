/**
 * The interceptor onion of one WAL (Milvus `chain_interceptor.go`): the first interceptor is the
 * outermost, the innermost `next` writes to the backend.
 */
import {
  type ImmutableMessage,
  type Logger,
  type MutableMessage,
  noopLogger,
  raceAbort,
  StreamingError,
  throwIfAborted,
} from '../../../shared/index.js';
import type { AppendContext, SettleHookFailure } from './append-context.js';
import type { AppendFn, Interceptor } from './interceptor.js';
import { isRedoAppendError } from './redo.js';

/**
 * What the caller of {@link InterceptorChain.appendThen} makes of the outcome, run in the chain's
 * own reaction (long-lived: one per caller, not per append).
 */
export interface AppendOutcome<R> {
  /** The append succeeded; its value resolves the append (a throw rejects it). */
  appended(stored: ImmutableMessage, ctx: AppendContext): R;
  /** The append failed for good; it then rejects with `error`. Must not throw. */
  failed(error: unknown, ctx: AppendContext): void;
}

/** {@link InterceptorChain.append}'s outcome: the stored message as is. */
const STORED: AppendOutcome<ImmutableMessage> = {
  appended: (stored) => stored,
  failed: () => undefined,
};

/** Options of {@link InterceptorChain}. */
export interface InterceptorChainOptions {
  /** Outermost first, e.g. `[lock, timeTick]`. */
  readonly interceptors: readonly Interceptor[];
  /**
   * One backend write. Never called for an append that carries a not-persisted hint.
   */
  readonly append: AppendFn;
  /**
   * Recovers a failed backend write (the adaptor retries transient storage errors): called with
   * the message `append` was given and its rejection, before any settle hook of the attempt runs;
   * its outcome is the attempt's. Absent = a failed write fails the attempt.
   */
  readonly retryAppend?: BackendRetry;
  readonly logger?: Logger;
}

/** See {@link InterceptorChainOptions.retryAppend}. */
export type BackendRetry = (message: MutableMessage, ctx: AppendContext, error: unknown) => Promise<ImmutableMessage>;

/**
 * Runs appends through the interceptors.
 *
 * - `append` waits until every interceptor is ready (the first time only), then calls the onion.
 *   An inner interceptor may throw a {@link RedoAppendError}: the chain then runs the onion again
 *   from the top with an emptied {@link AppendContext.result}, as Milvus's redo interceptor does.
 * - The settle hooks interceptors register on the context (`ctx.onSettled`) run once per
 *   attempt, innermost first, when the attempt settles: before a redo and before the append
 *   settles to its caller.
 * - A failed backend write is handed to `retryAppend` first: the attempt settles with what the
 *   retries end with. This happens in the chain's reaction, so the hot path has one reaction in
 *   all (interceptors pass `next`'s promise on and act through settle hooks, see `Interceptor`).
 * - The innermost layer honours the not-persisted hint: it returns the hint's id and writes
 *   nothing. A message marked `_np` without a hint is refused rather than written.
 * - `gracefulClose` lets interceptors wind down (open transactions) while appends still work;
 *   `close` closes every interceptor (all of them, even if one fails) and fails later appends
 *   with ON_SHUTDOWN.
 *
 * @example
 * ```ts
 * const chain = new InterceptorChain({ interceptors: [lock, timeTick], append: (m) => backend.append(m) });
 * const ctx = newAppendContext({ signal });
 * const stored = await chain.append(message, ctx); // stored.messageId; ctx.result.timeTick, .lastConfirmedMessageId, .txnContext
 * ```
 */
export class InterceptorChain {
  readonly #interceptors: readonly Interceptor[];
  readonly #onion: AppendFn;
  readonly #retryAppend: BackendRetry | undefined;
  readonly #logger: Logger;
  readonly #closing = new AbortController();
  #ready: Promise<void> | undefined;
  #isReady = false;
  #closed: Promise<void> | undefined;

  constructor(options: InterceptorChainOptions) {
    this.#interceptors = [...options.interceptors];
    this.#logger = options.logger ?? noopLogger;
    this.#retryAppend = options.retryAppend;
    const backendAppend = options.append;
    const innermost: AppendFn = (message, ctx) => {
      if (ctx.notPersisted !== undefined) return Promise.resolve(message.intoImmutable(ctx.notPersisted.messageId));
      if (message.notPersisted) {
        return Promise.reject(StreamingError.inner('a not-persisted message reached the backend append without a hint'));
      }
      // From here on, a rejection of the attempt is the backend's (interceptors only pass it on).
      ctx.markBackendAttempt(message);
      return backendAppend(message, ctx);
    };
    // Fold from the inside out so interceptors[0] ends up outermost.
    this.#onion = this.#interceptors.reduceRight<AppendFn>(
      (next, interceptor) => (message, ctx) => interceptor.doAppend(message, ctx, next),
      innermost,
    );
  }

  /** The interceptors' names, outermost first. */
  get names(): string[] {
    return this.#interceptors.map((i) => i.name);
  }

  /** True once every interceptor is ready. */
  get isReady(): boolean {
    return this.#isReady;
  }

  /**
   * Resolves when every interceptor is ready; rejects with the abort reason, or ON_SHUTDOWN once
   * the chain closes.
   */
  ready(options: { signal?: AbortSignal | undefined } = {}): Promise<void> {
    if (this.#closing.signal.aborted) return Promise.reject(StreamingError.onShutdown('interceptor chain is closed'));
    if (this.#isReady) return Promise.resolve();
    this.#ready ??= Promise.all(this.#interceptors.map((i) => i.ready?.())).then(() => {
      this.#isReady = true;
    });
    const untilClosed = raceAbort(this.#ready, this.#closing.signal);
    return options.signal === undefined ? untilClosed : raceAbort(untilClosed, options.signal);
  }

  /**
   * Appends through every interceptor; resolves with the message as the backend stored it (or
   * paired with the not-persisted hint's id). `ctx.result` holds what the interceptors learned.
   */
  append(message: MutableMessage, ctx: AppendContext): Promise<ImmutableMessage> {
    return this.appendThen(message, ctx, STORED);
  }

  /**
   * {@link append}, with the caller's own handling of the outcome done in the chain's reaction
   * (one promise per append instead of two). Every settle hook of the last attempt has run when
   * `outcome` is called.
   */
  appendThen<R>(message: MutableMessage, ctx: AppendContext, outcome: AppendOutcome<R>): Promise<R> {
    if (this.#closing.signal.aborted || !this.#isReady) return this.#appendSlow(message, ctx, outcome, () => this.#firstAttempt(message, ctx));
    // The hot path's one reaction, and no frame: settle hooks and the caller's outcome run here,
    // before the caller resumes; a rejection continues on the slow path (backend retry, redo).
    let attempt: Promise<ImmutableMessage>;
    try {
      attempt = this.#onion(message, ctx);
    } catch (error) {
      attempt = Promise.reject(error);
    }
    return attempt.then(
      (stored) => {
        ctx.settle(stored, undefined, this.#onHookFailure);
        return outcome.appended(stored, ctx);
      },
      (error: unknown) => this.#appendSlow(message, ctx, outcome, () => this.#afterFailure(ctx, error)),
    );
  }

  /**
   * Everything off the hot path: `first` is the first attempt (or what is left of it once it
   * failed); a redo request starts the onion again; the caller's outcome is told at the end.
   */
  async #appendSlow<R>(message: MutableMessage, ctx: AppendContext, outcome: AppendOutcome<R>, first: () => Promise<ImmutableMessage>): Promise<R> {
    let stored: ImmutableMessage;
    try {
      try {
        stored = await first();
      } catch (error) {
        stored = await this.#redo(message, ctx, error);
      }
    } catch (error) {
      outcome.failed(error, ctx);
      throw error;
    }
    return outcome.appended(stored, ctx);
  }

  /** The first append (readiness) or one after close (ON_SHUTDOWN). */
  async #firstAttempt(message: MutableMessage, ctx: AppendContext): Promise<ImmutableMessage> {
    this.#throwIfClosed();
    if (!this.#isReady) await this.ready({ signal: ctx.signal });
    return this.#attempt(message, ctx);
  }

  /**
   * After a failed attempt (whose hooks ran): rethrows anything but a redo request, else runs the
   * onion again.
   */
  async #redo(message: MutableMessage, ctx: AppendContext, firstError: unknown): Promise<ImmutableMessage> {
    let error = firstError;
    for (let attempt = 1; ; attempt++) {
      if (!isRedoAppendError(error)) throw error;
      this.#logger.debug({ attempt, reason: error.message }, 'append redone');
      // Nothing of the abandoned attempt may leak into the result (interceptors and their hooks
      // write it only while the attempt runs, and its hooks have run by now).
      ctx.clearResult();
      throwIfAborted(ctx.signal);
      this.#throwIfClosed();
      try {
        return await this.#attempt(message, ctx);
      } catch (next) {
        error = next;
      }
    }
  }

  /** One run of the onion off the hot path; its settle hooks run before it settles. */
  async #attempt(message: MutableMessage, ctx: AppendContext): Promise<ImmutableMessage> {
    let stored: ImmutableMessage;
    try {
      stored = await this.#onion(message, ctx);
    } catch (error) {
      return this.#afterFailure(ctx, error);
    }
    ctx.settle(stored, undefined, this.#onHookFailure);
    return stored;
  }

  /**
   * A failed attempt: a failed backend write is retried first (`retryAppend`); then the
   * attempt's hooks run with what that ended with. Resolves with the retried write, or rejects
   * with the attempt's final error.
   */
  async #afterFailure(ctx: AppendContext, error: unknown): Promise<ImmutableMessage> {
    let stored: ImmutableMessage;
    try {
      const sent = ctx.takeBackendAttempt();
      if (sent === undefined || this.#retryAppend === undefined) throw error;
      stored = await this.#retryAppend(sent, ctx, error);
    } catch (final) {
      ctx.settle(undefined, final, this.#onHookFailure);
      throw final;
    }
    ctx.settle(stored, undefined, this.#onHookFailure);
    return stored;
  }

  /** A settle hook must not throw; if one does (a bug), the append goes on and the others still run. */
  readonly #onHookFailure: SettleHookFailure = (error) => {
    this.#logger.error({ err: error }, 'an append settle hook failed');
  };

  /** Lets each interceptor wind down, outermost first; failures are logged, not thrown. */
  async gracefulClose(): Promise<void> {
    for (const interceptor of this.#interceptors) {
      if (interceptor.gracefulClose === undefined) continue;
      try {
        await interceptor.gracefulClose();
      } catch (error) {
        this.#logger.warn({ interceptor: interceptor.name, err: error }, 'interceptor graceful close failed');
      }
    }
  }

  /**
   * Closes every interceptor (outermost first, each even if an earlier one failed). Rejects with
   * an AggregateError of the failures. Idempotent: later calls return the same promise.
   */
  close(): Promise<void> {
    this.#closed ??= this.#closeAll();
    return this.#closed;
  }

  async #closeAll(): Promise<void> {
    this.#closing.abort(StreamingError.onShutdown('interceptor chain is closed'));
    const failures: unknown[] = [];
    for (const interceptor of this.#interceptors) {
      try {
        await interceptor.close();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, 'closing the interceptor chain failed');
  }

  #throwIfClosed(): void {
    if (this.#closing.signal.aborted) throw StreamingError.onShutdown('interceptor chain is closed');
  }
}
