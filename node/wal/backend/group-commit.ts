/**
 * Group commit for one pchannel: every write (appends, and the meta values term, floor and
 * checkpoint) queues here, and one loop turns whatever queued into a single atomic storage batch.
 * No timers: while a batch is being written (and fsynced), new requests pile up and become the
 * next batch, so batches grow with load and a lone append is written at once.
 *
 * Fencing is checked here, when a request is taken into a batch, against the pchannel's fence
 * term at that moment. A request of a lower-term owner that was queued before a fence is refused
 * with CHANNEL_FENCED even though it was submitted earlier: nothing can slip in after the fence.
 * Offsets are assigned here too, so they are contiguous and follow call order.
 */
import type { StreamingError } from '../../../shared/errors/index.js';
import { type ImmutableMessage, MessageId, type MutableMessage } from '../../../shared/message/index.js';
import { RingBuffer } from '../../../shared/util/index.js';
import { storageError } from './backend-errors.js';
import type { MetaKey, StorageEngine } from './storage-engine.js';

/**
 * Who submitted a request: fenced when its term is below the pchannel's fence term. The writer
 * reports each of its requests as queued and later as settled, so the owner can wait for its
 * requests before it closes.
 */
export interface CommitOwner {
  readonly term: bigint;
  requestQueued(): void;
  /** Called once for each queued request after it resolved or rejected. */
  requestSettled(): void;
}

/** What the writer needs from the channel store around it. */
export interface GroupCommitHost<R> {
  readonly name: string;
  readonly engine: StorageEngine<R>;
  /** The fence term right now (undefined: never opened read-write). */
  currentTerm(): bigint | undefined;
  /** The error for a request of `owner` refused because `term` fenced it. */
  fencedError(owner: CommitOwner, term: bigint): StreamingError;
  /** A batch is durable: `messages` are at `firstOffset…`. Called before any request resolves. */
  committed(firstOffset: bigint, messages: readonly ImmutableMessage[], sizes: readonly number[]): void;
}

/** Limits of one batch, and durability. */
export interface GroupCommitOptions {
  /** fsync every batch; batches carrying meta values are always synced. */
  readonly sync: boolean;
  readonly maxBatchMessages: number;
  readonly maxBatchBytes: number;
}

interface AppendRequest<R> {
  readonly kind: 'append';
  readonly owner: CommitOwner;
  readonly record: R;
  readonly message: MutableMessage;
  readonly size: number;
  readonly resolve: (stored: ImmutableMessage) => void;
  readonly reject: (error: unknown) => void;
}

interface MetaRequest {
  readonly kind: 'meta';
  readonly owner: CommitOwner | undefined;
  readonly key: MetaKey;
  /** Evaluated when the batch is built, so it can read state current at that moment. */
  readonly value: () => Buffer;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

type Request<R> = AppendRequest<R> | MetaRequest;

/** The write path of one pchannel; see the file comment. */
export class GroupCommitWriter<R> {
  readonly #host: GroupCommitHost<R>;
  readonly #options: GroupCommitOptions;
  readonly #queue = new RingBuffer<Request<R>>(1024);
  #next: bigint;
  #running = false;
  #idleWaiters: (() => void)[] = [];

  constructor(host: GroupCommitHost<R>, nextOffset: bigint, options: GroupCommitOptions) {
    this.#host = host;
    this.#next = nextOffset;
    this.#options = options;
  }

  /** The offset the next appended message will get. */
  get nextOffset(): bigint {
    return this.#next;
  }

  /**
   * Queues one prepared message; resolves once its batch is durable with the message as stored
   * (its id, and the very object readers get from the tail cache).
   */
  append(owner: CommitOwner, record: R, message: MutableMessage, size: number): Promise<ImmutableMessage> {
    return new Promise<ImmutableMessage>((resolve, reject) => {
      this.#submit({ kind: 'append', owner, record, message, size, resolve, reject });
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
    this.#queue.push(request);
    if (this.#running) return;
    this.#running = true;
    // A microtask, not a timer: appends issued in the same synchronous burst share the first batch.
    queueMicrotask(() => void this.#run());
  }

  async #run(): Promise<void> {
    try {
      while (this.#queue.length > 0) await this.#commitNext();
    } finally {
      this.#running = false;
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Takes one batch off the queue, writes it, settles its requests. Never throws. */
  async #commitNext(): Promise<void> {
    const batch = this.#takeBatch();
    if (batch.appends.length === 0 && batch.metas.length === 0) return;
    const { first, records, messages, sizes, appends, metas, meta } = batch;
    try {
      await this.#host.engine.write({ firstOffset: first, records, messages, meta, sync: this.#options.sync || meta.length > 0 });
    } catch (cause) {
      // Nothing of the batch landed, so its offsets are free again (#next was not advanced).
      const error = storageError(this.#host.name, appends.length > 0 ? 'append' : `write ${meta[0]?.[0] ?? 'meta'}`, cause);
      for (const r of appends) settle(r, error);
      for (const r of metas) settle(r, error);
      return;
    }
    this.#next = first + BigInt(messages.length);
    // Readers learn about the batch before any appender does: an append that resolved is readable.
    if (messages.length > 0) this.#host.committed(first, messages, sizes);
    for (let i = 0; i < appends.length; i++) {
      const request = appends[i] as AppendRequest<R>;
      request.resolve(messages[i] as ImmutableMessage);
      request.owner.requestSettled();
    }
    for (const r of metas) settle(r, undefined);
  }

  /**
   * Takes requests off the queue up to the batch limits: refuses those of fenced owners, gives
   * appends their offsets (from #next, contiguous) and evaluates meta values.
   */
  #takeBatch(): Batch<R> {
    const { maxBatchMessages, maxBatchBytes } = this.#options;
    const term = this.#host.currentTerm();
    const batch: Batch<R> = { first: this.#next, records: [], messages: [], sizes: [], appends: [], metas: [], meta: [] };
    let bytes = 0;
    let offset = batch.first;
    while (this.#queue.length > 0 && batch.appends.length < maxBatchMessages && bytes < maxBatchBytes) {
      const request = this.#queue.shift() as Request<R>;
      if (request.owner !== undefined && term !== undefined && request.owner.term < term) {
        settle(request, this.#host.fencedError(request.owner, term));
      } else if (request.kind === 'append') {
        batch.records.push(request.record);
        batch.messages.push(request.message.intoImmutable(MessageId.of(offset)));
        batch.sizes.push(request.size);
        batch.appends.push(request);
        bytes += request.size;
        offset++;
      } else {
        try {
          batch.meta.push([request.key, request.value()]);
          batch.metas.push(request);
        } catch (error) {
          settle(request, error);
        }
      }
    }
    return batch;
  }
}

/** One batch being built. */
interface Batch<R> {
  readonly first: bigint;
  readonly records: R[];
  readonly messages: ImmutableMessage[];
  readonly sizes: number[];
  readonly appends: AppendRequest<R>[];
  readonly metas: MetaRequest[];
  readonly meta: [MetaKey, Buffer][];
}

/** Rejects `request` with `error`, or resolves a meta request when `error` is undefined; tells its owner. */
function settle<R>(request: Request<R>, error: unknown): void {
  if (error !== undefined) request.reject(error);
  else if (request.kind === 'meta') request.resolve();
  request.owner?.requestSettled();
}
