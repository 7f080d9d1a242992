/**
 * The scripted misbehaviour of {@link FakeStreamingNode} (fake-streaming-node.ts): fail the next
 * calls with a given StreamingError, or park calls until released.
 */
import { Deferred, type StreamingError } from '../../shared/index.js';

export type FakeNodeMethod = 'Assign' | 'Remove' | 'CollectStatus';

/** Restricts a scripted behaviour to one method; default: every manager method. */
export interface FakeNodeMethodFilter {
  readonly method?: FakeNodeMethod;
}

interface Failure {
  remaining: number;
  readonly error: StreamingError;
  readonly method: FakeNodeMethod | undefined;
}

function matches(filter: FakeNodeMethod | undefined, method: FakeNodeMethod): boolean {
  return filter === undefined || filter === method;
}

/** Failure budget and hold gate of one fake node. */
export class FakeNodeScript {
  readonly #failures: Failure[] = [];
  #hold: { readonly gate: Deferred<void>; readonly method: FakeNodeMethod | undefined } | undefined;
  #parked = 0;

  /** Calls parked right now. */
  get parked(): number {
    return this.#parked;
  }

  failNext(n: number, error: StreamingError, filter: FakeNodeMethodFilter = {}): void {
    this.#failures.push({ remaining: n, error, method: filter.method });
  }

  /** The scripted error for a call of `method` arriving now (consumes one), if any. */
  takeFailure(method: FakeNodeMethod): StreamingError | undefined {
    const failure = this.#failures.find((f) => f.remaining > 0 && matches(f.method, method));
    if (failure === undefined) return undefined;
    failure.remaining--;
    if (failure.remaining === 0) this.#failures.splice(this.#failures.indexOf(failure), 1);
    return failure.error;
  }

  hold(filter: FakeNodeMethodFilter = {}): void {
    this.#hold ??= { gate: new Deferred<void>(), method: filter.method };
  }

  /** Resumes parked calls; they continue in arrival order (they await one promise, FIFO). */
  release(): void {
    const hold = this.#hold;
    this.#hold = undefined;
    hold?.gate.resolve();
  }

  /** Waits while a hold covers `method` (resolves at once otherwise). */
  async park(method: FakeNodeMethod): Promise<void> {
    const hold = this.#hold;
    if (hold === undefined || !matches(hold.method, method)) return;
    this.#parked++;
    try {
      await hold.gate.promise;
    } finally {
      this.#parked--;
    }
  }
}
