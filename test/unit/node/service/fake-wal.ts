/**
 * A fake node-side WAL and opener for node service/server tests: opens instantly (or when
 * released), can be told to fail, records opens and closes, and reports scripted metrics. Only
 * what the manager service and the server touch is real; append/read throw.
 */
import type { WalOpener, WalOpenOptions } from '../../../../node/wal-manager/index.js';
import type { Wal, WalMetrics, WalScanner } from '../../../../node/wal/index.js';
import { type PChannelInfo, StreamingError, abortReason } from '../../../../shared/index.js';

/** A WAL that only opens, reports metrics and closes. */
export class FakeWal implements Wal {
  readonly channel: PChannelInfo;
  readonly #available = new AbortController();
  #closed = false;
  ticks: { mvcc?: bigint; recovery?: bigint } = {};

  constructor(channel: PChannelInfo) {
    this.channel = channel;
  }

  get availability(): AbortSignal {
    return this.#available.signal;
  }
  get isClosed(): boolean {
    return this.#closed;
  }
  isAvailable(): boolean {
    return !this.#available.signal.aborted;
  }
  append(): never {
    throw StreamingError.inner('FakeWal.append is not implemented');
  }
  read(): WalScanner {
    throw StreamingError.inner('FakeWal.read is not implemented');
  }
  metrics(): WalMetrics {
    if (this.channel.accessMode === 'ro') return { channel: this.channel };
    return {
      channel: this.channel,
      ...(this.ticks.mvcc !== undefined ? { mvccTimeTick: this.ticks.mvcc } : {}),
      ...(this.ticks.recovery !== undefined ? { recoveryTimeTick: this.ticks.recovery } : {}),
    };
  }
  close(): Promise<void> {
    this.#closed = true;
    this.#available.abort(StreamingError.onShutdown(`wal ${this.channel.name} closed`));
    return Promise.resolve();
  }
}

/** Opens {@link FakeWal}s; `hold()` parks opens until `release()`; `failNext(e)` fails the next open. */
export class FakeWalOpener implements WalOpener<Wal> {
  readonly wals: FakeWal[] = [];
  #held: Array<() => void> | undefined;
  #failures: StreamingError[] = [];

  /** Every WAL opened and not closed yet. */
  openWals(): FakeWal[] {
    return this.wals.filter((w) => !w.isClosed);
  }

  /** Opens parked by {@link hold} right now. */
  get parked(): number {
    return this.#held?.length ?? 0;
  }

  hold(): void {
    this.#held ??= [];
  }

  release(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const go of held) go();
  }

  failNext(error: StreamingError): void {
    this.#failures.push(error);
  }

  async open(channel: PChannelInfo, options: WalOpenOptions): Promise<FakeWal> {
    if (this.#held) {
      const held = this.#held;
      await new Promise<void>((resolve, reject) => {
        held.push(resolve);
        options.signal.addEventListener('abort', () => reject(abortReason(options.signal)), { once: true });
      });
    }
    const failure = this.#failures.shift();
    if (failure) throw failure;
    const wal = new FakeWal(channel);
    this.wals.push(wal);
    return wal;
  }
}
