/**
 * The raw message source of a WAL scanner (Milvus `newSwitchableScanner`): catch-up from the
 * backend, tailing from the write-ahead buffer, switching between the two as the reader catches
 * up or falls behind.
 */
import type { Logger } from '../../../shared/log/index.js';
import type { DeliverPolicy, ImmutableMessage } from '../../../shared/message/index.js';
import { abortReason, type BackoffOptions } from '../../../shared/util/index.js';
import { CatchupScanner } from './catchup-scanner.js';
import type { ModeScanner, ModeScannerContext, ScannerMode } from './mode-scanner.js';
import type { ScannerSource } from './scanner-source.js';
import { TailingScanner } from './tailing-scanner.js';

/** Options of {@link SwitchableScanner}. */
export interface SwitchableScannerOptions {
  readonly name: string;
  readonly source: ScannerSource;
  readonly deliverPolicy: DeliverPolicy;
  /** Ends the scanner: `next()` rejects with its reason and the backend scanner is released. */
  readonly signal: AbortSignal;
  readonly readAheadBufferSize: number;
  readonly backoff: Partial<BackoffOptions>;
  readonly logger: Logger;
  /** Called after every switch, with the new mode. */
  readonly onModeChange?: (mode: ScannerMode) => void;
}

/** How often each switch happened. */
export interface SwitchCounts {
  toTailing: number;
  toCatchup: number;
}

/**
 * Yields the WAL's raw messages in chunks: every message at or after the deliver policy's position
 * (in backend id order while catching up, in time tick order while tailing), time ticks included.
 *
 * It may yield a data message twice around a catch-up → tailing switch: a message with a tick
 * above the switching TimeTick T can sit before T in the WAL (its append raced T's) and is then
 * read from the backend and again from the buffer. The reorder buffer downstream drops the second
 * copy (same id; the first is still buffered because no TimeTick ≥ its tick has been seen: the
 * buffer puts it before any such tick). In the other direction nothing repeats (the exclusive
 * start tick cut, see {@link TailingScanner}).
 *
 * One caller at a time: {@link next} is not re-entrant.
 */
export class SwitchableScanner {
  readonly #options: SwitchableScannerOptions;
  readonly #ctx: ModeScannerContext;
  readonly #switches: SwitchCounts = { toTailing: 0, toCatchup: 0 };
  #current: ModeScanner;
  #closed = false;

  constructor(options: SwitchableScannerOptions) {
    this.#options = options;
    const { source } = options;
    this.#ctx = {
      name: options.name,
      backend: source.backend,
      writeAheadBuffer: source.writeAheadBuffer,
      readAheadBufferSize: options.readAheadBufferSize,
      backoff: options.backoff,
      signal: options.signal,
      logger: options.logger,
      toTailing: (reader, lastConsumed) => new TailingScanner(this.#ctx, reader, lastConsumed),
      toCatchup: (policy, exclusiveStartTimeTick) => new CatchupScanner(this.#ctx, policy, exclusiveStartTimeTick),
    };
    // Every scanner starts by catching up: only a TimeTick read from the WAL tells where the
    // write-ahead buffer can take over.
    this.#current = new CatchupScanner(this.#ctx, options.deliverPolicy, 0n);
  }

  /** The current mode. */
  get mode(): ScannerMode {
    return this.#current.mode;
  }

  /** Switches so far. */
  get switches(): Readonly<SwitchCounts> {
    return { ...this.#switches };
  }

  /** Messages the backend scanner read ahead (0 while tailing). */
  get bufferedCount(): number {
    return this.#current.bufferedCount;
  }

  /**
   * The next raw messages, in order: all that is available now (at most the read-ahead size),
   * waiting only when there is none. Rejects with the StreamingError that ended the scanner, or
   * with the signal's reason after it aborted.
   */
  async next(): Promise<readonly ImmutableMessage[]> {
    for (;;) {
      const step = await this.#current.next();
      if (step.switchTo !== undefined) await this.#switchTo(step.switchTo);
      if (step.messages.length > 0) return step.messages;
    }
  }

  /** Releases the current mode's resources. Call after aborting the signal. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#current.close();
  }

  async #switchTo(next: ModeScanner): Promise<void> {
    const previous = this.#current;
    this.#current = next;
    if (next.mode === 'tailing') this.#switches.toTailing++;
    else this.#switches.toCatchup++;
    this.#options.logger.debug({ mode: next.mode, switches: this.#switches }, 'scanner switched mode');
    this.#options.onModeChange?.(next.mode);
    await previous.close();
    if (this.#closed) {
      // close() ran while the step was in flight and closed the previous scanner only.
      await next.close();
      throw abortReason(this.#options.signal);
    }
  }
}
