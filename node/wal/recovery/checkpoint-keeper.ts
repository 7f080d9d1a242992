/**
 * Persists the recovery checkpoint of a read-write WAL periodically and once more on close
 * (Milvus recovery storage `persistDirtySnapshot`, reference/milvus-node.md §7).
 */
import { asStreamingError, type Logger, Mutex, noopLogger, type StreamingError } from '../../../shared/index.js';
import type { WalBackend } from '../backend/index.js';
import {
  encodeWalCheckpoint,
  formatWalCheckpoint,
  laterCheckpoint,
  type WalCheckpoint,
} from './wal-checkpoint.js';

/** Milvus `streaming.walRecovery.persistInterval`. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 10_000;

/** Options of {@link CheckpointKeeper}. */
export interface CheckpointKeeperOptions {
  readonly backend: Pick<WalBackend, 'saveCheckpoint'>;
  /**
   * The checkpoint the WAL could recover from right now. The WAL passes the newest time tick's
   * (last confirmed id, time tick): the last confirmed id never passes the begin of an open
   * transaction (ack manager rule), so replaying from it rebuilds every open transaction, and it
   * only names messages that are already durable.
   */
  readonly current: () => WalCheckpoint;
  /** What the backend holds at open (undefined if nothing). */
  readonly persisted: WalCheckpoint | undefined;
  /** Period of {@link start}'s timer; default {@link DEFAULT_CHECKPOINT_INTERVAL_MS}. */
  readonly intervalMs?: number;
  /** A save failed with CHANNEL_FENCED: a newer term owns the pchannel. */
  readonly onFenced?: (error: StreamingError) => void;
  readonly logger?: Logger;
}

/**
 * Saves the checkpoint when it moved, at most one save at a time.
 *
 * The stored checkpoint never moves back: a candidate below the stored one (possible right after
 * recovery, when an old transaction's last confirmed id is below the replay start) is merged with
 * it field by field. That is still a valid replay start: every transaction open when the stored
 * position was taken begins at or after it, and every later one begins later still.
 *
 * Retention relies on {@link persisted}: it never truncates at or past the stored position.
 */
export class CheckpointKeeper {
  readonly #backend: Pick<WalBackend, 'saveCheckpoint'>;
  readonly #current: () => WalCheckpoint;
  readonly #intervalMs: number;
  readonly #onFenced: ((error: StreamingError) => void) | undefined;
  readonly #logger: Logger;
  readonly #lock = new Mutex();
  #persisted: WalCheckpoint | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #saves = 0;

  constructor(options: CheckpointKeeperOptions) {
    const intervalMs = options.intervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new RangeError(`checkpoint intervalMs must be > 0, got ${intervalMs}`);
    this.#backend = options.backend;
    this.#current = options.current;
    this.#persisted = options.persisted;
    this.#intervalMs = intervalMs;
    this.#onFenced = options.onFenced;
    this.#logger = options.logger ?? noopLogger;
  }

  /** The checkpoint last stored (or found at open). */
  get persisted(): WalCheckpoint | undefined {
    return this.#persisted;
  }

  /** Number of successful saves by this keeper. */
  get saveCount(): number {
    return this.#saves;
  }

  /** Starts the periodic save (the timer never keeps the process alive). Idempotent. */
  start(): void {
    if (this.#stopped || this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.#persistQuietly(), this.#intervalMs);
    this.#timer.unref();
  }

  /**
   * Saves the current checkpoint if it moved past the stored one. Resolves true when it saved.
   * A CHANNEL_FENCED failure is also reported to `onFenced`.
   *
   * @throws the backend's StreamingError (CHANNEL_FENCED, ON_SHUTDOWN, INNER).
   */
  persist(): Promise<boolean> {
    return this.#lock.runExclusive(async () => {
      const next = laterCheckpoint(this.#persisted, this.#current());
      if (next === this.#persisted) return false;
      try {
        await this.#backend.saveCheckpoint(encodeWalCheckpoint(next));
      } catch (error) {
        const e = asStreamingError(error);
        if (e.isFenced()) this.#onFenced?.(e);
        throw e;
      }
      this.#persisted = next;
      this.#saves++;
      this.#logger.debug({ checkpoint: formatWalCheckpoint(next) }, 'wal checkpoint saved');
      return true;
    });
  }

  /** Stops the timer (a save in progress finishes); later {@link persist} calls still work. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * The final save of a closing WAL: stops the timer and saves once more. Failures are logged,
   * not thrown (a missed final save only lengthens the next recovery).
   */
  async close(): Promise<void> {
    this.stop();
    await this.#persistQuietly();
  }

  async #persistQuietly(): Promise<void> {
    try {
      await this.persist();
    } catch (error) {
      const e = asStreamingError(error);
      if (e.isFenced()) {
        this.#logger.info({ err: e }, 'wal checkpoint not saved: the pchannel is fenced');
      } else if (e.isOnShutdown()) {
        this.#logger.debug({ err: e }, 'wal checkpoint not saved: backend is closed');
      } else {
        this.#logger.warn({ err: e, checkpoint: formatWalCheckpoint(this.#persisted) }, 'saving the wal checkpoint failed, retrying later');
      }
    }
  }
}
