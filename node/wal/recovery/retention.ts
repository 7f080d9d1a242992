/**
 * Retention of a read-write WAL (DESIGN.md §6 layer 4): removes the oldest records by age and by
 * size, periodically, never past the persisted recovery checkpoint.
 */
import {
  asStreamingError,
  deliverStartFrom,
  type Logger,
  MessageId,
  noopLogger,
  physicalMsOf,
  type StreamingError,
} from '../../../shared/index.js';
import type { WalBackend } from '../backend/index.js';

/** How often a WAL applies its retention when not configured: once a minute. */
export const DEFAULT_RETENTION_INTERVAL_MS = 60_000;
/** Records one retention pass reads at most (the next pass continues from the new floor). */
export const DEFAULT_RETENTION_MAX_SCAN = 100_000;
/** Records read from the floor to estimate the average record size for the size limit. */
const SIZE_SAMPLE = 1024;

/** The limits (0 disables one). */
export interface RetentionLimits {
  /** Records whose time tick's physical time is older than this (ms) may go. */
  readonly maxAgeMs: number;
  /** Approximate bytes kept per pchannel; the oldest records beyond it may go. */
  readonly maxBytes: number;
}

/** Options of {@link WalRetention}. */
export interface WalRetentionOptions extends RetentionLimits {
  readonly backend: Pick<WalBackend, 'channel' | 'read' | 'truncate' | 'earliestMessageId' | 'latestMessageId'>;
  /** The persisted checkpoint id: records at or after it are never removed (recovery replays from there). */
  readonly protectedFrom: () => MessageId | undefined;
  /** Period of the background pass; default {@link DEFAULT_RETENTION_INTERVAL_MS}. */
  readonly intervalMs?: number;
  /** Records one pass reads at most; default {@link DEFAULT_RETENTION_MAX_SCAN}. */
  readonly maxScanPerRun?: number;
  /** Wall clock in ms; `Date.now` by default. */
  readonly now?: () => number;
  /** A truncation failed with CHANNEL_FENCED. */
  readonly onFenced?: (error: StreamingError) => void;
  readonly logger?: Logger;
}

/** What one pass did. */
export interface RetentionResult {
  /** Records ≤ this id were removed; undefined when nothing was. */
  readonly truncatedUpTo: MessageId | undefined;
  /** The cut the age limit asked for (before the checkpoint clamp). */
  readonly ageCut: MessageId | undefined;
  /** The cut the size limit asked for (before the checkpoint clamp). */
  readonly sizeCut: MessageId | undefined;
  /** Records read by the pass. */
  readonly scanned: number;
}

const NOTHING: RetentionResult = Object.freeze({ truncatedUpTo: undefined, ageCut: undefined, sizeCut: undefined, scanned: 0 });

/**
 * One pass ({@link runOnce}):
 * - **bound**: only records before the persisted checkpoint may go (`< protectedFrom()`); without
 *   a persisted checkpoint nothing goes. Readers asking for a removed position get the backend's
 *   UNRECOVERABLE error naming the earliest id that is left.
 * - **age**: reads from the oldest record forward and removes the prefix whose `_tt` physical time
 *   is older than `now - maxAgeMs`, stopping at the first younger record (ids follow time ticks
 *   closely, concurrent appends aside, so this never removes a young record).
 * - **size**: the backend keeps no byte count, so the size is approximated as
 *   `record count × average record size`, the count from the id range (both backends hand out
 *   contiguous offsets) and the average from `estimateSize()` of up to 1024 records at the floor.
 *   The oldest records beyond `maxBytes / average` records go.
 * The larger of the two cuts is applied, clamped to the bound. A pass reads at most
 * `maxScanPerRun` records; a long backlog shrinks over several passes.
 */
export class WalRetention {
  readonly #options: WalRetentionOptions;
  readonly #intervalMs: number;
  readonly #maxScan: number;
  readonly #now: () => number;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<RetentionResult> | undefined;
  #closed = false;

  constructor(options: WalRetentionOptions) {
    for (const [name, value] of [
      ['maxAgeMs', options.maxAgeMs],
      ['maxBytes', options.maxBytes],
    ] as const) {
      if (!Number.isFinite(value) || value < 0) throw new RangeError(`retention ${name} must be >= 0, got ${value}`);
    }
    this.#options = options;
    this.#intervalMs = options.intervalMs ?? DEFAULT_RETENTION_INTERVAL_MS;
    if (!Number.isFinite(this.#intervalMs) || this.#intervalMs <= 0) throw new RangeError(`retention intervalMs must be > 0, got ${this.#intervalMs}`);
    this.#maxScan = options.maxScanPerRun ?? DEFAULT_RETENTION_MAX_SCAN;
    if (!Number.isSafeInteger(this.#maxScan) || this.#maxScan < 1) throw new RangeError(`retention maxScanPerRun must be >= 1, got ${this.#maxScan}`);
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger ?? noopLogger;
  }

  /** True when a limit is set. */
  get enabled(): boolean {
    return this.#options.maxAgeMs > 0 || this.#options.maxBytes > 0;
  }

  /** Starts the periodic pass (no-op when no limit is set; the timer is unref'd). Idempotent. */
  start(): void {
    if (!this.enabled || this.#closed || this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.#runQuietly(), this.#intervalMs);
    this.#timer.unref();
  }

  /**
   * Runs one pass now (or joins the one running). A CHANNEL_FENCED failure is also reported to
   * `onFenced`.
   *
   * @throws the backend's StreamingError.
   */
  runOnce(): Promise<RetentionResult> {
    if (this.#closed || !this.enabled) return Promise.resolve(NOTHING);
    this.#running ??= this.#pass()
      .catch((error: unknown) => {
        const e = asStreamingError(error);
        if (e.isFenced()) this.#options.onFenced?.(e);
        throw e;
      })
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }

  /** Stops the timer and waits for a running pass. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  async #runQuietly(): Promise<void> {
    try {
      const result = await this.runOnce();
      if (result.truncatedUpTo !== undefined) {
        this.#logger.info({ upTo: result.truncatedUpTo.toString(), scanned: result.scanned }, 'wal retention truncated old records');
      }
    } catch (error) {
      const e = asStreamingError(error);
      if (!e.isFenced() && !e.isOnShutdown()) this.#logger.warn({ err: e }, 'wal retention pass failed, retrying at the next interval');
    }
  }

  async #pass(): Promise<RetentionResult> {
    const { backend, maxAgeMs, maxBytes } = this.#options;
    const earliest = backend.earliestMessageId();
    const latest = backend.latestMessageId();
    const guard = this.#options.protectedFrom();
    if (earliest === undefined || latest === undefined || guard === undefined) return NOTHING;
    const bound = guard.offset - 1n < latest.offset ? guard.offset - 1n : latest.offset;
    if (bound < earliest.offset) return NOTHING;
    const scan = await this.#scan(earliest, bound, maxAgeMs > 0 ? this.#now() - maxAgeMs : undefined, maxBytes > 0);
    let sizeCut: bigint | undefined;
    if (maxBytes > 0 && scan.sampleCount > 0) {
      const average = Math.max(1, scan.sampleBytes / scan.sampleCount);
      const keep = BigInt(Math.floor(maxBytes / average));
      const cut = latest.offset - keep;
      if (cut >= earliest.offset) sizeCut = cut;
    }
    let cut = maxOf(scan.ageCut, sizeCut);
    if (cut !== undefined && cut > bound) cut = bound;
    const result: RetentionResult = {
      truncatedUpTo: cut === undefined ? undefined : MessageId.of(cut),
      ageCut: scan.ageCut === undefined ? undefined : MessageId.of(scan.ageCut),
      sizeCut: sizeCut === undefined ? undefined : MessageId.of(sizeCut),
      scanned: scan.scanned,
    };
    if (result.truncatedUpTo !== undefined) await backend.truncate(result.truncatedUpTo);
    return result;
  }

  /** Reads from `earliest` (ids ≤ `bound`): the age cut, and a size sample when asked. */
  async #scan(earliest: MessageId, bound: bigint, ageCutoffMs: number | undefined, sample: boolean): Promise<ScanResult> {
    const result: ScanResult = { ageCut: undefined, sampleBytes: 0, sampleCount: 0, scanned: 0 };
    if (ageCutoffMs === undefined && !sample) return result;
    const cutoff = ageCutoffMs === undefined ? undefined : BigInt(Math.floor(ageCutoffMs));
    let ageDone = cutoff === undefined;
    const scanner = this.#options.backend.read({
      name: `${this.#options.backend.channel.name}/retention`,
      deliverPolicy: deliverStartFrom(earliest),
      readAheadBufferSize: 256,
    });
    try {
      for await (const message of scanner) {
        const offset = message.messageId.offset;
        if (offset > bound) break;
        result.scanned++;
        if (result.sampleCount < SIZE_SAMPLE && sample) {
          result.sampleBytes += message.estimateSize();
          result.sampleCount++;
        }
        if (!ageDone) {
          if (message.hasTimeTick && cutoff !== undefined && physicalMsOf(message.timeTick) < cutoff) result.ageCut = offset;
          else ageDone = true;
        }
        const sampled = !sample || result.sampleCount >= SIZE_SAMPLE;
        if ((ageDone && sampled) || offset >= bound || result.scanned >= this.#maxScan) break;
      }
    } finally {
      await scanner.close();
    }
    return result;
  }
}

interface ScanResult {
  ageCut: bigint | undefined;
  sampleBytes: number;
  sampleCount: number;
  scanned: number;
}

function maxOf(a: bigint | undefined, b: bigint | undefined): bigint | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}
