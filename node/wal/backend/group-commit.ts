/**
 * Group commit for one pchannel: every write (appends, and the meta values term, floor and
 * checkpoint) joins the batch being built, and one loop writes the batches one after the other,
 * each as a single atomic storage write. While a batch is being written (and fsynced), new requests
 * join the next one, so batches grow with load and a lone append is written at once.
 *
 * When a write completes, the callers it resolves usually append again straight away (a closed
 * loop of producers). So when only a small batch is left, the loop lingers for one macrotask
 * before taking it (without that, a time tick staged alone during the write would get a write and
 * an fsync of its own, and every caller would wait for it). And the writer never idles while a
 * large burst is being staged: when no write is in flight and the batch being built reaches
 * `earlyWriteBytes` (or is full), it is written at once and the rest of the burst joins the next one, so
 * staging overlaps the write.
 *
 * A request joins its batch at once: it gets its offset and the storage encodes it (a LevelDB batch
 * copies it into its block), so that work overlaps the fsync of the batch ahead instead of
 * following it. Offsets are contiguous and follow call order, assuming every batch ahead lands.
 * When one does not (a storage error), or a request must be refused after it joined (fencing,
 * below), the batches not yet written are rebuilt from their requests (the slow path), so offsets
 * stay contiguous and a refused request leaves no gap.
 *
 * Fencing is checked when a batch is taken for writing, against the pchannel's fence term at that
 * moment. A request of a lower-term owner that joined before a fence is refused with
 * CHANNEL_FENCED even though it was submitted earlier: nothing can slip in after the fence.
 *
 * Owners hear of settled requests synchronously and may append again from there; such a request
 * joins the batch being built, and only the loop starts writes while it takes or settles a batch.
 */
import { type ImmutableMessage, MessageId, type MutableMessage } from '../../../shared/message/index.js';
import { storageError } from './backend-errors.js';
import {
  type CommitOwner,
  type GroupCommitHost,
  type GroupCommitOptions,
  type MetaRequest,
  PendingBatch,
  type Request,
  type StartedWrite,
  settle,
} from './commit-batch.js';
import type { MetaKey } from './storage-engine.js';

export type { CommitOwner, GroupCommitHost, GroupCommitOptions } from './commit-batch.js';

/** The write path of one pchannel; see the file comment. */
export class GroupCommitWriter<R> {
  readonly #host: GroupCommitHost<R>;
  readonly #options: GroupCommitOptions;
  /** Not yet written, oldest first; only the last one takes new requests. */
  #batches: PendingBatch<R>[] = [];
  /** One past the last record written. */
  #durableEnd: bigint;
  /** The offset the next request joining a batch gets. */
  #stagedEnd: bigint;
  #running = false;
  #writing: StartedWrite<R> | undefined;
  /**
   * Set while the loop takes a batch or settles one. Settling tells owners synchronously
   * (requestSettled), and an owner that appends from there must not start a write in the middle
   * of that work: the loop takes the next batch itself right after.
   */
  #inLoopStep = false;
  /** Ends the loop's linger after a write (set only while it lingers; see #submit). */
  #endLinger: (() => void) | undefined;
  #idleWaiters: (() => void)[] = [];

  constructor(host: GroupCommitHost<R>, nextOffset: bigint, options: GroupCommitOptions) {
    this.#host = host;
    this.#durableEnd = nextOffset;
    this.#stagedEnd = nextOffset;
    this.#options = options;
  }

  /** One past the last record written: where the next durable record will be. */
  get nextOffset(): bigint {
    return this.#durableEnd;
  }

  /**
   * Adds one prepared message to the batch being built; resolves once that batch is durable with
   * the message as stored (its id, and the very object readers get from the tail cache).
   */
  append(owner: CommitOwner, record: R, message: MutableMessage, size: number): Promise<ImmutableMessage> {
    return new Promise<ImmutableMessage>((resolve, reject) => {
      this.#submit({ kind: 'append', owner, record, message, size, resolve, reject, stored: undefined });
    });
  }

  /** Queues a meta value (always written with sync); fenced like appends when `owner` is set. */
  writeMeta(owner: CommitOwner | undefined, key: MetaKey, value: () => Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#submit({ kind: 'meta', owner, key, value, resolve, reject });
    });
  }

  /** Resolves once nothing is queued and no batch is in flight. */
  idle(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  #submit(request: Request<R>): void {
    request.owner?.requestQueued();
    this.#stage(request);
    if (this.#running) {
      // The loop is between writes (lingering, or about to take the next batch): start this one now.
      if (!this.#inLoopStep && this.#writing === undefined && this.#readyEarly(this.#batches[0])) {
        this.#startWriteGuarded();
        this.#endLinger?.();
      }
      return;
    }
    this.#running = true;
    // A microtask, not a timer: appends issued in the same synchronous burst share the first batch.
    queueMicrotask(() => void this.#run());
  }

  /** Adds a request to the last batch, or to a new one when that is full. */
  #stage(request: Request<R>): void {
    let batch = this.#batches[this.#batches.length - 1];
    if (batch === undefined || batch.isFull(this.#options)) {
      batch = new PendingBatch(this.#host.engine.newBatch(this.#stagedEnd));
      this.#batches.push(batch);
    }
    if (request.kind === 'append') {
      const stored = request.message.intoImmutable(MessageId.of(this.#stagedEnd));
      try {
        batch.engine.add(request.record, stored);
      } catch (error) {
        // A record prepare() accepted and the engine cannot take: a bug. The engine batch may hold
        // part of it, so the batch is rebuilt without it before it is written.
        batch.broken = true;
        settle(request, error);
        return;
      }
      request.stored = stored;
      batch.messages.push(stored);
      batch.sizes.push(request.size);
      batch.bytes += request.size;
      this.#stagedEnd++;
    }
    batch.requests.push(request);
    const term = request.owner?.term;
    if (term !== undefined && (batch.lowestTerm === undefined || term < batch.lowestTerm)) batch.lowestTerm = term;
  }

  /**
   * The slow path: drops every batch not yet written and adds their requests again, from the
   * first offset not written, refusing those of owners below `term` (fenced).
   */
  #rebuild(term: bigint | undefined): void {
    const batches = this.#batches;
    this.#batches = [];
    this.#stagedEnd = this.#durableEnd;
    for (const batch of batches) {
      batch.engine.discard();
      for (const request of batch.requests) {
        if (request.owner !== undefined && term !== undefined && request.owner.term < term) {
          settle(request, this.#host.fencedError(request.owner, term));
        } else {
          this.#stage(request);
        }
      }
    }
  }

  async #run(): Promise<void> {
    try {
      let write: StartedWrite<R> | undefined;
      while ((write = this.#writing ?? this.#startWriteGuarded()) !== undefined) {
        const failure = await write.outcome;
        this.#inLoopStep = true;
        try {
          this.#finishWrite(write, failure);
        } finally {
          this.#inLoopStep = false;
        }
        if (this.#shouldLinger()) await this.#linger();
      }
    } finally {
      this.#running = false;
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** {@link #startWrite} with owners' re-entrant appends kept from starting a write of their own. */
  #startWriteGuarded(): StartedWrite<R> | undefined {
    this.#inLoopStep = true;
    try {
      return this.#startWrite();
    } finally {
      this.#inLoopStep = false;
    }
  }

  /**
   * Takes the oldest batch and starts its storage write (synchronously, so the storage can begin
   * while the caller goes on staging). Undefined when nothing is left to write.
   */
  #startWrite(): StartedWrite<R> | undefined {
    for (;;) {
      const batch = this.#takeBatch();
      if (batch === undefined) return undefined;
      // Meta values are read now, so they reflect the state at the moment the batch is written.
      const meta: [MetaKey, Buffer][] = [];
      const metas: MetaRequest[] = [];
      for (const request of batch.requests) {
        if (request.kind !== 'meta') continue;
        try {
          meta.push([request.key, request.value()]);
          metas.push(request);
        } catch (error) {
          settle(request, error);
        }
      }
      if (batch.messages.length === 0 && metas.length === 0) {
        batch.engine.discard();
        continue;
      }
      let written: Promise<void>;
      try {
        written = batch.engine.write(meta, this.#options.sync || metas.length > 0);
      } catch (error) {
        written = Promise.reject(error);
      }
      const outcome = written.then(() => undefined, (cause: unknown) => ({ cause }));
      this.#writing = { batch, metas, outcome };
      return this.#writing;
    }
  }

  /** Settles the requests of a write that has completed, and lands or fails. */
  #finishWrite(write: StartedWrite<R>, failure: { readonly cause: unknown } | undefined): void {
    const { batch, metas } = write;
    const { messages } = batch;
    if (failure !== undefined) {
      // Nothing of the batch landed: the batches behind it move down to its offsets before any
      // caller hears of the failure (and perhaps appends again).
      this.#rebuild(this.#host.currentTerm());
      this.#writing = undefined;
      const error = storageError(this.#host.name, messages.length > 0 ? 'append' : `write ${metas[0]?.key ?? 'meta'}`, failure.cause);
      for (const request of batch.requests) if (request.kind === 'append') settle(request, error);
      for (const request of metas) settle(request, error);
      return;
    }
    this.#writing = undefined;
    const first = batch.engine.firstOffset;
    this.#durableEnd = first + BigInt(messages.length);
    // Readers learn about the batch before any appender does: an append that resolved is readable.
    if (messages.length > 0) this.#host.committed(first, messages, batch.sizes);
    for (const request of batch.requests) {
      if (request.kind !== 'append') continue;
      request.resolve(request.stored as ImmutableMessage);
      request.owner.requestSettled();
    }
    for (const request of metas) settle(request, undefined);
  }

  /** After a write: only a small batch (or none) is left, which the callers just resumed may add to. */
  #shouldLinger(): boolean {
    return this.#writing === undefined && this.#batches.length <= 1 && !this.#readyEarly(this.#batches[0]);
  }

  /** Worth writing without waiting for more: full, or at least `earlyWriteBytes`. */
  #readyEarly(batch: PendingBatch<R> | undefined): boolean {
    return batch !== undefined && (batch.bytes >= this.#options.earlyWriteBytes || batch.isFull(this.#options));
  }

  /** One macrotask, cut short when a request makes the batch large enough to write (#submit). */
  #linger(): Promise<void> {
    return new Promise<void>((resolve) => {
      const end = (): void => {
        if (this.#endLinger !== end) return;
        this.#endLinger = undefined;
        resolve();
      };
      this.#endLinger = end;
      setImmediate(end);
    });
  }

  /** The oldest batch, rebuilt first if it holds fenced requests or could not be built. */
  #takeBatch(): PendingBatch<R> | undefined {
    const term = this.#host.currentTerm();
    // Each rebuild refuses every fenced request and drops the record that broke a batch, so this ends.
    while (this.#batches[0]?.needsRebuild(term) === true) this.#rebuild(term);
    return this.#batches.shift();
  }
}
