/**
 * The component lifecycle of STYLE §5 in one reusable piece, so every server, WAL and scanner
 * closes the same way: idempotent `close()`, a `closed()` that never rejects, children closed
 * first, and calls in the wrong state failing with ON_SHUTDOWN.
 */
import { StreamingCode, StreamingError } from '../errors/index.js';
import { Deferred } from './deferred.js';

/** Where a component is in its life. Moves only forward. */
export type LifecycleStatus = 'starting' | 'running' | 'closing' | 'closed';

/** Anything a parent can close: a child component. */
export interface Closable {
  close(reason?: Error): Promise<void>;
}

/** Options of {@link Lifecycle}. */
export interface LifecycleOptions {
  /** Names the component in error messages, e.g. `wal by-dev-rootcoord-dml_0`. */
  readonly name: string;
  /** The component's own teardown, run after every child has closed. */
  readonly onClose?: (reason: Error | undefined) => void | Promise<void>;
}

/**
 * Lifecycle state machine for one component, meant to be held in a private field.
 *
 * - `close(reason?)` is idempotent: every call returns the same promise. It marks the component
 *   `closing`, aborts {@link Lifecycle.signal}, closes all tracked children concurrently
 *   (`Promise.allSettled`), then runs `onClose`, and ends `closed`. If a child or `onClose`
 *   failed, the promise rejects with an `AggregateError` of those failures (the rest still ran).
 * - `closed()` resolves (never rejects) once closing finished: with the `reason` given to
 *   `close()`, else the `AggregateError` of a failed teardown, else `undefined`.
 *
 * @example
 * ```ts
 * class Scanner {
 *   readonly #life = new Lifecycle({ name: 'scanner', onClose: () => this.#iterator.close() });
 *   async next() { this.#life.assertRunning('next'); ... }
 *   close(reason?: Error) { return this.#life.close(reason); }
 *   closed() { return this.#life.closed(); }
 * }
 * ```
 */
export class Lifecycle {
  readonly name: string;
  readonly #onClose: LifecycleOptions['onClose'];
  readonly #children = new Set<Closable>();
  readonly #abort = new AbortController();
  readonly #closed = new Deferred<void | Error>();
  #status: LifecycleStatus = 'starting';
  #closing: Promise<void> | undefined;

  constructor(options: LifecycleOptions) {
    this.name = options.name;
    this.#onClose = options.onClose;
  }

  get status(): LifecycleStatus {
    return this.#status;
  }

  /** True in `running` only. */
  get isRunning(): boolean {
    return this.#status === 'running';
  }

  /** Aborted as closing begins; its reason is a StreamingError (ON_SHUTDOWN unless `close()` got a StreamingError). */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Number of children currently tracked. */
  get childCount(): number {
    return this.#children.size;
  }

  /**
   * Runs the start-up steps, then marks the component `running`. If `fn` throws, the component
   * is closed with that error (releasing whatever it had set up) and the error is rethrown. If
   * `close()` was called meanwhile, rejects with ON_SHUTDOWN.
   */
  async start(fn?: () => void | Promise<void>): Promise<void> {
    if (this.#status !== 'starting') throw this.#notRunning('start');
    try {
      await fn?.();
    } catch (error) {
      const cause = error instanceof Error ? error : new Error(String(error));
      // The start failure is what the caller needs; a teardown failure on top of it is secondary.
      await this.close(cause).catch(() => undefined);
      throw error;
    }
    this.markRunning();
  }

  /** `starting` → `running`. Throws ON_SHUTDOWN if closing already began. */
  markRunning(): void {
    if (this.#status === 'running') return;
    if (this.#status !== 'starting') throw this.#notRunning('start');
    this.#status = 'running';
  }

  /** Throws ON_SHUTDOWN unless `running`. `operation` goes into the message. */
  assertRunning(operation?: string): void {
    if (this.#status !== 'running') throw this.#notRunning(operation);
  }

  /**
   * Makes `child` close before this component's own teardown. Returns a function that stops
   * tracking it (for children that end on their own). Tracking while closing or closed closes the
   * child right away and throws ON_SHUTDOWN: the child was created too late to be owned.
   */
  track(child: Closable): () => void {
    if (this.#status === 'closing' || this.#status === 'closed') {
      const error = this.#notRunning('track a child');
      void Promise.resolve()
        .then(() => child.close(error))
        .catch(() => undefined);
      throw error;
    }
    this.#children.add(child);
    return () => {
      this.#children.delete(child);
    };
  }

  /** Closes children, then the component itself. Idempotent; see the class docs. */
  close(reason?: Error): Promise<void> {
    this.#closing ??= this.#doClose(reason);
    return this.#closing;
  }

  /** Resolves when closed, with the cause; never rejects. */
  closed(): Promise<void | Error> {
    return this.#closed.promise;
  }

  async #doClose(reason: Error | undefined): Promise<void> {
    this.#status = 'closing';
    this.#abort.abort(
      reason instanceof StreamingError
        ? reason
        : new StreamingError(StreamingCode.ON_SHUTDOWN, `${this.name} is closing`, reason ? { cause: reason } : undefined),
    );
    const children = [...this.#children];
    this.#children.clear();
    // A close() that throws synchronously must not skip the others, hence the wrapping arrow.
    const results = await Promise.allSettled(children.map(async (child) => child.close(reason)));
    const errors: unknown[] = [];
    for (const r of results) if (r.status === 'rejected') errors.push(r.reason);
    try {
      await this.#onClose?.(reason);
    } catch (error) {
      errors.push(error);
    }
    this.#status = 'closed';
    const failure = errors.length > 0 ? new AggregateError(errors, `${this.name}: ${errors.length} failure(s) while closing`) : undefined;
    this.#closed.resolve(reason ?? failure);
    if (failure) throw failure;
  }

  #notRunning(operation: string | undefined): StreamingError {
    const what = operation ? `cannot ${operation}: ` : '';
    return StreamingError.onShutdown(`${what}${this.name} is ${this.#status}`);
  }
}
