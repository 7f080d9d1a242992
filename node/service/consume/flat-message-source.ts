/**
 * The messages of a WAL scanner as the wire carries them: a transaction flattened into its
 * BeginTxn, body and CommitTxn messages (Milvus `ConsumeServer.sendLoop`, reference/milvus-node.md
 * §4.5), taken one frame's worth at a time.
 *
 * `take(max)` waits for the first message, then adds only what is ready already: messages of a
 * flattened transaction, and whatever the scanner can hand over before the event loop turns (its
 * bounded queue holds up to 16). It never waits to fill a batch, so batching adds no latency.
 */
import type { ImmutableMessage } from '../../../shared/index.js';
import { isImmutableTxnMessage, type ScannedMessage, type WalScanner } from '../../wal/index.js';

const TURN = Symbol('event loop turned');

/** Resolves after pending I/O callbacks and microtasks of this turn ran. */
function nextTurn(): Promise<typeof TURN> {
  return new Promise((resolve) => setImmediate(resolve, TURN));
}

/** See the module comment. */
export class FlatMessageSource {
  readonly #iterator: AsyncIterator<ScannedMessage, unknown>;
  /** Flattened messages not handed out yet. */
  #parts: ImmutableMessage[] = [];
  /** A `next()` of the scanner started and not consumed yet (it cannot be taken back). */
  #pending: Promise<IteratorResult<ScannedMessage, unknown>> | undefined;
  #ended = false;
  /** A scanner failure seen while filling a batch, thrown by the next `take`. */
  #error: unknown;
  #delivered = 0;

  constructor(scanner: WalScanner) {
    this.#iterator = scanner[Symbol.asyncIterator]();
  }

  /** Messages handed out so far. */
  get delivered(): number {
    return this.#delivered;
  }

  /**
   * Up to `max` (≥ 1) messages in delivery order; waits for the first. An empty array means the
   * scanner ended (closed).
   *
   * @throws the scanner's error (after the messages before it were handed out).
   */
  async take(max: number): Promise<ImmutableMessage[]> {
    const out: ImmutableMessage[] = [];
    while (this.#parts.length === 0) {
      if (this.#error !== undefined) throw this.#error;
      if (this.#ended) return out;
      this.#accept(await this.#pull());
    }
    this.#move(out, max);
    if (out.length < max) await this.#fill(out, max);
    this.#delivered += out.length;
    return out;
  }

  /** Adds to `out` what the scanner has ready now. */
  async #fill(out: ImmutableMessage[], max: number): Promise<void> {
    const turn = nextTurn();
    while (out.length < max && !this.#ended && this.#error === undefined) {
      let result: IteratorResult<ScannedMessage, unknown> | typeof TURN;
      try {
        result = await Promise.race([this.#pull(), turn]);
      } catch (error) {
        this.#pending = undefined;
        this.#error = error;
        return;
      }
      if (result === TURN) return;
      this.#accept(result);
      this.#move(out, max);
    }
  }

  #pull(): Promise<IteratorResult<ScannedMessage, unknown>> {
    if (this.#pending === undefined) {
      const next = this.#iterator.next();
      // A pull that lost the race to the event loop turn may fail while nobody awaits it; the
      // failure is still seen by whoever awaits it next.
      next.catch(() => undefined);
      this.#pending = next;
    }
    return this.#pending;
  }

  #accept(result: IteratorResult<ScannedMessage, unknown>): void {
    this.#pending = undefined;
    if (result.done === true) {
      this.#ended = true;
      return;
    }
    const message = result.value;
    if (isImmutableTxnMessage(message)) this.#parts.push(...message.flatten());
    else this.#parts.push(message);
  }

  #move(out: ImmutableMessage[], max: number): void {
    const count = Math.min(max - out.length, this.#parts.length);
    if (count <= 0) return;
    out.push(...this.#parts.slice(0, count));
    this.#parts = this.#parts.slice(count);
  }
}
