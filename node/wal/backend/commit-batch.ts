/**
 * The requests and batches of the group-commit writer (`group-commit.ts`): what a caller asked
 * for, and a batch being built from those requests.
 */
import type { StreamingError } from '../../../shared/errors/index.js';
import type { ImmutableMessage, MutableMessage } from '../../../shared/message/index.js';
import type { EngineBatch, MetaKey, StorageEngine } from './storage-engine.js';

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
  /** Between writes, a batch this large is written at once, even while the loop lingers (see `group-commit.ts`). */
  readonly earlyWriteBytes: number;
}

/** An append waiting for its batch to be durable. */
export interface AppendRequest<R> {
  readonly kind: 'append';
  readonly owner: CommitOwner;
  readonly record: R;
  readonly message: MutableMessage;
  readonly size: number;
  readonly resolve: (stored: ImmutableMessage) => void;
  readonly reject: (error: unknown) => void;
  /** The message as stored at its offset; set (again) whenever the request joins a batch. */
  stored: ImmutableMessage | undefined;
}

/** A meta value (term, floor, checkpoint) to write with the next batch. */
export interface MetaRequest {
  readonly kind: 'meta';
  readonly owner: CommitOwner | undefined;
  readonly key: MetaKey;
  /** Evaluated when the batch is written, so it can read state current at that moment. */
  readonly value: () => Buffer;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export type Request<R> = AppendRequest<R> | MetaRequest;

/** A batch whose storage write has started. */
export interface StartedWrite<R> {
  readonly batch: PendingBatch<R>;
  /** Its meta requests whose value could be read (the others are settled already). */
  readonly metas: MetaRequest[];
  /** Settles when the write does: undefined once it landed, else why it failed. Never rejects. */
  readonly outcome: Promise<{ readonly cause: unknown } | undefined>;
}

/** A batch being built, or waiting for the write ahead of it. */
export class PendingBatch<R> {
  readonly engine: EngineBatch<R>;
  /** In arrival order. */
  readonly requests: Request<R>[] = [];
  /** The appends' stored messages and sizes, index for index (what readers get on commit). */
  readonly messages: ImmutableMessage[] = [];
  readonly sizes: number[] = [];
  bytes = 0;
  /** Lowest term among the requests' owners (fencing check without a scan). */
  lowestTerm: bigint | undefined;
  /** The engine batch failed to add a record and must not be written. */
  broken = false;

  constructor(engine: EngineBatch<R>) {
    this.engine = engine;
  }

  isFull(options: GroupCommitOptions): boolean {
    return this.messages.length >= options.maxBatchMessages || this.bytes >= options.maxBatchBytes;
  }

  /** True if it holds a request of an owner below `term` (fenced), or cannot be written as built. */
  needsRebuild(term: bigint | undefined): boolean {
    return this.broken || (term !== undefined && this.lowestTerm !== undefined && this.lowestTerm < term);
  }
}

/** Rejects `request` with `error`, or resolves a meta request when `error` is undefined; tells its owner. */
export function settle<R>(request: Request<R>, error: unknown): void {
  if (error !== undefined) request.reject(error);
  else if (request.kind === 'meta') request.resolve();
  request.owner?.requestSettled();
}
