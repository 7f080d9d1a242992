/**
 * The per-append context handed down the interceptor chain (Go's `ctx` values of the append),
 * and the settle hooks through which interceptors learn how an append attempt ended.
 */
import type { ImmutableMessage, MessageId, MutableMessage, TxnContext } from '../../../shared/index.js';

/**
 * What interceptors learn while an append runs and the WAL returns with the id (Milvus
 * `ExtraAppendResult`): filled by the time tick interceptor, read by the adaptor once the chain
 * resolved.
 */
export interface ExtraAppendResult {
  /** The time tick stamped on the message (`_tt`). */
  timeTick?: bigint;
  /** The last confirmed id stamped on the message (`_lc`). */
  lastConfirmedMessageId?: MessageId;
  /** The transaction of the message (the new one for BeginTxn). */
  txnContext?: TxnContext;
}

/**
 * Marks an append that must not reach the backend (Milvus `NotPersistedHint`): the not-persisted
 * time ticks of an idle WAL. The innermost append returns {@link messageId} instead of writing.
 */
export interface NotPersistedHint {
  /** The id the append reports: the time tick's last confirmed id. */
  readonly messageId: MessageId;
}

/**
 * Told once when the append attempt it was registered on settles (see
 * {@link AppendContext.onSettled}). Long-lived (one per interceptor), so registering costs no
 * closure; what differs per append travels as `state`.
 */
export interface SettleHook<S> {
  /**
   * `stored` is the message as stored when the attempt succeeded, undefined when it failed with
   * `error`; `ctx` is the append's context (a hook may fill its result). Must not fail: a throw is
   * logged by the chain and the other hooks still run.
   */
  appendSettled(state: S, stored: ImmutableMessage | undefined, error: unknown, ctx: AppendContext): void;
}

/** Options of {@link newAppendContext}. */
export interface AppendContextOptions {
  readonly signal?: AbortSignal | undefined;
  readonly notPersisted?: NotPersistedHint | undefined;
}

/** Called by {@link AppendContext.settle} for a hook that threw. */
export type SettleHookFailure = (error: unknown, hook: SettleHook<unknown>) => void;

/**
 * One append's context. Besides the caller's signal, the not-persisted hint and the result, it
 * holds the settle hooks of the attempt running now: an interceptor that must act once the
 * append ends (release a lock, acknowledge a time tick) registers a hook instead of chaining a
 * reaction of its own, and the chain runs them all in the one reaction it has anyway (per
 * append: no promise, no closure per layer).
 *
 * The first two hooks live in fields (the WAL registers exactly two: lock, time tick); more go
 * to an array. The result's fields live here too (one object per append, not two); read and
 * write them through {@link result}.
 */
export class AppendContext implements ExtraAppendResult {
  /** The caller's cancellation; waits inside interceptors (locks, txn commit) honour it. */
  readonly signal: AbortSignal | undefined;
  /** Set for not-persisted time ticks only. */
  readonly notPersisted: NotPersistedHint | undefined;
  timeTick: bigint | undefined = undefined;
  lastConfirmedMessageId: MessageId | undefined = undefined;
  txnContext: TxnContext | undefined = undefined;
  #hook0: SettleHook<unknown> | undefined = undefined;
  #state0: unknown = undefined;
  #hook1: SettleHook<unknown> | undefined = undefined;
  #state1: unknown = undefined;
  /** Hooks after the second, as `[hook, state, hook, state, …]`. */
  #more: unknown[] | undefined = undefined;
  /** The message the current attempt handed to the backend, if it got that far. */
  #backendMessage: MutableMessage | undefined = undefined;

  constructor(signal: AbortSignal | undefined, notPersisted: NotPersistedHint | undefined) {
    this.signal = signal;
    this.notPersisted = notPersisted;
  }

  /** Filled by interceptors; emptied before every redo attempt. The context itself, seen as the result. */
  get result(): ExtraAppendResult {
    return this;
  }

  /** @internal The chain's part: forgets what an abandoned attempt wrote into the result. */
  clearResult(): void {
    // Typed so that a field added to ExtraAppendResult fails to compile until it is cleared here.
    const cleared: { [K in keyof Required<ExtraAppendResult>]: undefined } = {
      timeTick: undefined,
      lastConfirmedMessageId: undefined,
      txnContext: undefined,
    };
    Object.assign(this, cleared);
  }

  /**
   * Runs `hook.appendSettled(state, …)` once the current attempt settles, before the append
   * resolves or rejects to its caller and before a redo starts the next attempt. Hooks run
   * innermost first (the reverse of registration: an outer interceptor registers before it calls
   * `next`). Call only while the attempt runs, i.e. from `doAppend` before its promise settles.
   * Only an {@link InterceptorChain} runs hooks: call interceptors through one.
   */
  onSettled<S>(hook: SettleHook<S>, state: S): void {
    if (this.#hook0 === undefined) {
      this.#hook0 = hook;
      this.#state0 = state;
    } else if (this.#hook1 === undefined) {
      this.#hook1 = hook;
      this.#state1 = state;
    } else {
      (this.#more ??= []).push(hook, state);
    }
  }

  /** @internal The chain's innermost layer: the current attempt hands `message` to the backend now. */
  markBackendAttempt(message: MutableMessage): void {
    this.#backendMessage = message;
  }

  /**
   * @internal The chain's part: the message the current attempt handed to the backend (so a
   * rejection came from the backend write), at most once per attempt; undefined if the attempt
   * failed before reaching the backend.
   */
  takeBackendAttempt(): MutableMessage | undefined {
    const message = this.#backendMessage;
    this.#backendMessage = undefined;
    return message;
  }

  /**
   * @internal The chain's part: runs every registered hook once, innermost first, and forgets
   * them (the next attempt registers its own). A throwing hook is reported to `onFailure` and
   * does not stop the others.
   */
  settle(stored: ImmutableMessage | undefined, error: unknown, onFailure: SettleHookFailure): void {
    // Taken out before running, so a hook can neither run twice nor see the next attempt's hooks.
    const more = this.#more;
    const hook1 = this.#hook1;
    const state1 = this.#state1;
    const hook0 = this.#hook0;
    const state0 = this.#state0;
    this.#more = undefined;
    this.#backendMessage = undefined;
    this.#hook1 = undefined;
    this.#state1 = undefined;
    this.#hook0 = undefined;
    this.#state0 = undefined;
    if (more !== undefined) {
      for (let i = more.length - 2; i >= 0; i -= 2) runHook(this, more[i] as SettleHook<unknown>, more[i + 1], stored, error, onFailure);
    }
    if (hook1 !== undefined) runHook(this, hook1, state1, stored, error, onFailure);
    if (hook0 !== undefined) runHook(this, hook0, state0, stored, error, onFailure);
  }
}

// A function, not a private method: a class with private methods carries a brand field in every
// instance, and there is one context per append.
function runHook(
  ctx: AppendContext,
  hook: SettleHook<unknown>,
  state: unknown,
  stored: ImmutableMessage | undefined,
  error: unknown,
  onFailure: SettleHookFailure,
): void {
  try {
    hook.appendSettled(state, stored, error, ctx);
  } catch (bug) {
    onFailure(bug, hook);
  }
}

/** A context for one append, with an empty result and no hooks. */
export function newAppendContext(options: AppendContextOptions = {}): AppendContext {
  return new AppendContext(options.signal, options.notPersisted);
}
