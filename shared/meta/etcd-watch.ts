/**
 * One etcd watch as a {@link MetaWatch}, on its own gRPC Watch stream opened through `etcd3`'s
 * low-level `WatchClient` (not etcd3's `Watcher`, which can stop delivering silently: etcd3
 * issues #72, #78).
 *
 * Stream protocol (per attempt): we send one `create_request` (prefix, `start_revision` = the
 * next revision we still owe the consumer, or 0 = "now" before anything was delivered); etcd
 * answers `created`, then event responses (one response may hold several revisions: we split
 * them into one batch per revision), progress responses (`watch_id` -1) to our
 * `progress_request` probes, and possibly `canceled` with `compact_revision` when the start
 * revision was compacted, which ends the watch with the terminal `compacted` notice.
 *
 * Resume: on any stream error, end, or silence (a probe unanswered for a whole interval) the
 * stream is dropped and re-created after a backoff from last delivered revision + 1; events at
 * older revisions are dropped, so a resumed stream never duplicates. `nextRevision` only moves on
 * delivered events, never on progress responses (etcd 3.4 can send progress ahead of events,
 * etcd #15220), so nothing is skipped either.
 */
import type { Etcd3, IDuplexStream, IWatchRequest, IWatchResponse } from 'etcd3';
import { StreamingError } from '../errors/index.js';
import { BatchQueue } from './batch-queue.js';
import { fromEtcdEvent, prefixRange } from './etcd-convert.js';
import type { MetaWatch, WatchBatch, WatchEvent, WatchOptions } from './meta-kv.js';
import { mapEtcdError } from './etcd-errors.js';
import { closeStream } from './etcd-lease-keepalive.js';
import { WatchBase } from './watch-base.js';

/** Timing of an etcd watch. */
export interface EtcdWatchTuning {
  /** Silence after which we probe the stream, and then give up on it (default 3000 ms). */
  readonly progressIntervalMs: number;
  /** First and longest pause between stream re-creations (defaults 100 ms, 2000 ms). */
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  /** Batches buffered for a slow consumer before the stream is paused (default 1000). */
  readonly queueLimit: number;
  /** Told why a stream was dropped before it is re-created (for logs); never affects delivery. */
  readonly onRetry?: (error: StreamingError) => void;
}

type WatchStream = IDuplexStream<IWatchRequest, IWatchResponse> & {
  // grpc-js streams are Node streams; etcd3's type leaves out flow control.
  pause?: () => void;
  resume?: () => void;
};

/** Why one stream attempt ended. */
type Outcome = { readonly kind: 'done' } | { readonly kind: 'retry'; readonly error: unknown };

/** One resumable etcd watch of a prefix (see the file comment for the stream protocol). */
export class EtcdWatch extends WatchBase implements MetaWatch {
  readonly #client: Etcd3;
  readonly #prefix: string;
  readonly #tuning: EtcdWatchTuning;
  #nextRevision: number | undefined;
  #stream: WatchStream | undefined;
  #paused = false;
  #wakeSleep: (() => void) | undefined;
  #endAttempt: ((outcome: Outcome) => void) | undefined;
  readonly #loop: Promise<void>;

  constructor(client: Etcd3, prefix: string, options: WatchOptions, tuning: EtcdWatchTuning, onClose: (w: EtcdWatch) => void) {
    super(options.signal, () => onClose(this));
    this.#client = client;
    this.#prefix = prefix;
    this.#tuning = tuning;
    this.#nextRevision = options.fromRevision;
    this.#loop = this.#run();
  }

  protected override async onClosing(): Promise<void> {
    this.#wakeSleep?.();
    this.#endAttempt?.({ kind: 'done' });
    await this.#loop;
  }

  protected override onTaken(queue: BatchQueue<WatchBatch>): void {
    if (this.#paused && queue.size <= this.#tuning.queueLimit / 2) {
      this.#paused = false;
      this.#stream?.resume?.();
    }
  }

  /** Re-creates the stream until the watch is closed or ends with a compacted notice. */
  async #run(): Promise<void> {
    let delay = this.#tuning.retryInitialMs;
    while (!this.isClosing) {
      let delivered = false;
      const outcome = await this.#attempt(() => (delivered = true)).catch((error: unknown): Outcome => ({ kind: 'retry', error }));
      if (outcome.kind === 'done' || this.isClosing) return;
      this.#tuning.onRetry?.(mapEtcdError(outcome.error, 'watch'));
      // A stream that got as far as `created` was healthy: start the backoff over.
      if (delivered) delay = this.#tuning.retryInitialMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.#wakeSleep = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wakeSleep = undefined;
      delay = Math.min(delay * 2, this.#tuning.retryMaxMs);
    }
  }

  /** One stream: resolves when it ended and why; never rejects. */
  async #attempt(onCreated: () => void): Promise<Outcome> {
    let stream: WatchStream;
    try {
      stream = await this.#client.watchClient.watch();
    } catch (error) {
      return { kind: 'retry', error };
    }
    if (this.isClosing) {
      closeStream(stream);
      return { kind: 'done' };
    }
    this.#stream = stream;
    this.#paused = false;
    return new Promise<Outcome>((resolve) => {
      const finish = (outcome: Outcome): void => {
        if (this.#endAttempt !== finish) return;
        this.#endAttempt = undefined;
        this.#stream = undefined;
        liveness.stop();
        closeStream(stream);
        resolve(outcome);
      };
      this.#endAttempt = finish;
      const liveness = watchLiveness(
        this.#tuning.progressIntervalMs,
        () => this.#paused,
        () => stream.write({ progress_request: {} }),
        () => finish({ kind: 'retry', error: StreamingError.inner('etcd watch stream went silent') }),
      );
      stream.on('data', (response) => {
        // A stream we gave up on may still flush buffered responses: ignore them.
        if (this.#endAttempt !== finish) return;
        liveness.heard();
        const outcome = this.#onResponse(response, onCreated);
        if (outcome !== undefined) finish(outcome);
      });
      stream.on('error', (error) => finish({ kind: 'retry', error }));
      stream.on('end', () => finish({ kind: 'retry', error: StreamingError.inner('etcd watch stream ended') }));
      stream.write({
        create_request: { ...prefixRange(this.#prefix), start_revision: this.#nextRevision ?? 0, progress_notify: true },
      });
    });
  }

  /** Handles one response; returns an outcome when it ends the stream. */
  #onResponse(response: IWatchResponse, onCreated: () => void): Outcome | undefined {
    if (response.created) {
      this.#nextRevision ??= Number(response.header.revision) + 1;
      onCreated();
      this.markReady();
    }
    if (response.canceled) {
      const compactRevision = Number(response.compact_revision);
      if (compactRevision > 0) {
        this.queue.push({ kind: 'compacted', compactRevision });
        this.queue.end();
        return { kind: 'done' };
      }
      return { kind: 'retry', error: StreamingError.inner(`etcd cancelled the watch: ${response.cancel_reason}`) };
    }
    this.#deliver(response);
    return undefined;
  }

  /** Splits a response into one batch per revision and drops revisions already delivered. */
  #deliver(response: IWatchResponse): void {
    let batch: WatchEvent[] = [];
    let batchRevision = 0;
    const flush = (): void => {
      if (batch.length === 0) return;
      this.queue.push({ kind: 'events', revision: batchRevision, events: batch });
      this.#nextRevision = batchRevision + 1;
      batch = [];
    };
    for (const event of response.events) {
      const revision = Number(event.kv.mod_revision);
      if (this.#nextRevision !== undefined && revision < this.#nextRevision) continue;
      if (revision !== batchRevision) flush();
      batchRevision = revision;
      batch.push(fromEtcdEvent(event));
    }
    flush();
    if (!this.#paused && this.queue.size >= this.#tuning.queueLimit && this.#stream?.pause) {
      this.#paused = true;
      this.#stream.pause();
    }
  }
}

/**
 * Silence detection for one stream: after `intervalMs` without a response, `probe()` (a
 * progress request, which etcd answers at once); after another interval still without one,
 * `dead()`. Time spent paused by our own backpressure does not count.
 */
function watchLiveness(
  intervalMs: number,
  isPaused: () => boolean,
  probe: () => void,
  dead: () => void,
): { heard(): void; stop(): void } {
  let lastHeard = Date.now();
  let probing = false;
  const timer = setInterval(() => {
    if (isPaused()) {
      lastHeard = Date.now();
      return;
    }
    if (Date.now() - lastHeard < intervalMs) return;
    if (probing) return dead();
    probing = true;
    lastHeard = Date.now();
    probe();
  }, Math.max(50, Math.floor(intervalMs / 2)));
  return {
    heard: () => {
      lastHeard = Date.now();
      probing = false;
    },
    stop: () => clearInterval(timer),
  };
}
