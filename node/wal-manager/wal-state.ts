/**
 * The `(term, available)` states of one pchannel's WAL and their order (Milvus `wal_state.go`).
 *
 * Terms only grow, and within a term "available" comes before "unavailable":
 * `(-1,false) → (0,true) → (1,true) → (2,true) → (3,false) → (7,true) → …`.
 * So `(1,true) → (1,false)` (close) and `(1,false) → (2,true)` (reopen at a newer term) are
 * moves forward, while `(1,false) → (1,true)` is not: a term, once removed, never reopens.
 */
import { Deferred, raceAbort } from '../../shared/util/index.js';
import { INITIAL_TERM, type PChannelInfo } from '../../shared/message/index.js';
import type { ManagedWal } from './managed-wal.js';

/** A point in a pchannel's life: the term and whether a WAL serves it. */
export interface WalState {
  readonly term: bigint;
  readonly available: boolean;
}

/** What the coordinator asked for last: open `channel` (available) or remove `term`. */
export type ExpectedWalState =
  | { readonly term: bigint; readonly available: true; readonly channel: PChannelInfo }
  | { readonly term: bigint; readonly available: false };

/** What is actually there: an open WAL, or none (with the error of a failed open at that term). */
export type CurrentWalState<W extends ManagedWal> =
  | { readonly term: bigint; readonly available: true; readonly wal: W }
  | { readonly term: bigint; readonly available: false; readonly error?: unknown };

/** Nothing asked for yet. */
export const INITIAL_EXPECTED_STATE: ExpectedWalState = Object.freeze({ term: INITIAL_TERM, available: false });

/** Nothing open yet. */
export const INITIAL_CURRENT_STATE: CurrentWalState<never> = Object.freeze({ term: INITIAL_TERM, available: false });

/**
 * True when `a` comes strictly before `b`: a lower term, or the same term with `a` available and
 * `b` not. States neither before nor after each other are equal in this order.
 */
export function isStateBefore(a: WalState, b: WalState): boolean {
  return a.term < b.term || (a.term === b.term && a.available && !b.available);
}

/** Log form, as Milvus prints it: `(term,available)`. */
export function formatWalState(s: WalState): string {
  return `(${s.term},${s.available})`;
}

/**
 * A state that only moves forward, with a way to wait for the next move (Milvus
 * `walStateWithCond`). One deferred per generation: every move settles it and starts a new one,
 * so any number of waiters wake on the same move.
 */
export class WalStateCell<S extends WalState> {
  #state: S;
  #changed = new Deferred<void>();

  constructor(initial: S) {
    this.#state = initial;
  }

  /** The state now. */
  get(): S {
    return this.#state;
  }

  /** Moves to `next` if it comes after the state now; returns whether it moved. */
  advance(next: S): boolean {
    if (!isStateBefore(this.#state, next)) return false;
    this.#state = next;
    const changed = this.#changed;
    this.#changed = new Deferred<void>();
    changed.resolve();
    return true;
  }

  /**
   * Resolves once the state is no longer `from` (at once if it already moved). Rejects with the
   * abort reason if `signal` aborts first.
   */
  async waitChanged(from: S, signal: AbortSignal): Promise<void> {
    if (this.#state !== from) return;
    await raceAbort(this.#changed.promise, signal);
  }
}
