/**
 * The WAL backend contract (Milvus `walimpls`, milvus-node.md §1): what an underlying log must do
 * for one pchannel. Layering, outermost first: a {@link WalBackendOpener} (lifetime = the storage
 * client, e.g. a data root) opens a {@link WalBackend} (one pchannel at one term, read-write or
 * read-only), which hands out {@link BackendScanner}s (one reader each, always inside its backend).
 *
 * Guarantees every implementation gives (the conformance suite `test/conformance/wal-backend.suite.ts`
 * checks them):
 * - **Ids**: `append` returns a {@link MessageId} strictly greater than every id the pchannel ever
 *   returned, across terms, reopen, restart and truncation; ids are never reused.
 * - **Durability**: `append` resolves only once the message is durable (as configured) and visible
 *   to readers.
 * - **Fencing**: a pchannel remembers the highest term that opened it read-write. Opening at a
 *   lower term fails with CHANNEL_FENCED. Once a higher term opened it, every append, truncate and
 *   checkpoint of a lower-term instance fails with CHANNEL_FENCED and never lands; its scanners end
 *   with CHANNEL_FENCED.
 * - **Errors** are always {@link StreamingError}s: ON_SHUTDOWN after close, INVAILD_ARGUMENT for bad
 *   input (including writes on a read-only backend), UNRECOVERABLE for a truncated read position,
 *   RESOURCE_ACQUIRED when another process holds the pchannel, INNER for storage failures.
 */
import type { StreamingError } from '../../../shared/errors/index.js';
import type { DeliverPolicy, ImmutableMessage, MessageId, MutableMessage, PChannelInfo } from '../../../shared/message/index.js';

/** Name of the only backend kind: ids are RocksMQ-compatible (`WAL_name` = RocksMQ). */
export const ROCKSMQ_WAL_NAME = 'rocksmq';
/** Backend kind names (Milvus `WALName`). */
export type WalBackendName = typeof ROCKSMQ_WAL_NAME;

/** Read-ahead of a scanner when the caller gives none (Milvus rmq default). */
export const DEFAULT_READ_AHEAD_BUFFER_SIZE = 1024;

/** Options of {@link WalBackendOpener.open}. */
export interface OpenBackendOptions {
  /** Gives up waiting for the storage to open; the open rejects with the abort reason. */
  readonly signal?: AbortSignal;
}

/** Opens backends of pchannels; one per storage location (Milvus `OpenerImpls`). */
export interface WalBackendOpener {
  /**
   * Opens `channel` at its term. Read-write opens raise the pchannel's fence term to
   * `channel.term` (durably) and fence older read-write instances; read-only opens never fence
   * and never write.
   *
   * @throws StreamingError CHANNEL_FENCED if a higher term already opened the pchannel,
   *   RESOURCE_ACQUIRED if another process holds it, INVAILD_ARGUMENT for a bad channel,
   *   ON_SHUTDOWN after `close()`.
   */
  open(channel: PChannelInfo, options?: OpenBackendOptions): Promise<WalBackend>;
  /** Closes every backend opened through this opener (children first), then the opener. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link WalBackend.read}. */
export interface ReadBackendOptions {
  /** Names the scanner in logs and errors. */
  readonly name: string;
  /**
   * Where to start: `all` (the oldest retained message), `latest` (only messages that become
   * durable after `read` returns), `startFrom` (inclusive) / `startAfter` (exclusive) an id. A
   * position past the end waits for it; a position below a truncation fails (UNRECOVERABLE).
   */
  readonly deliverPolicy: DeliverPolicy;
  /** Messages read ahead of the consumer at most; default {@link DEFAULT_READ_AHEAD_BUFFER_SIZE}. */
  readonly readAheadBufferSize?: number;
  /** Ends the scanner: iteration rejects with the abort reason. */
  readonly signal?: AbortSignal;
}

/**
 * One pchannel at one term (Milvus `WALImpls` / `ROWALImpls`).
 *
 * @example
 * ```ts
 * const wal = await opener.open(pchannelInfo('by-dev-rootcoord-dml_0', 3n));
 * const id = await wal.append(msg);
 * const scanner = wal.read({ name: 'recovery', deliverPolicy: deliverStartFrom(checkpointId) });
 * for await (const m of scanner) { ... }
 * await wal.close();
 * ```
 */
export interface WalBackend {
  /** The channel as opened (name, term, access mode). */
  readonly channel: PChannelInfo;
  readonly walName: WalBackendName;

  /**
   * Appends one message; resolves with its id once it is durable and readable. Concurrent appends
   * are committed together (group commit) in call order.
   *
   * @throws StreamingError (as a rejection) CHANNEL_FENCED, ON_SHUTDOWN, INVAILD_ARGUMENT (read-only
   *   backend, not a MutableMessage), INNER (storage failure; nothing of that batch landed).
   */
  append(message: MutableMessage): Promise<MessageId>;

  /**
   * {@link append}, resolving with the message as stored: the id plus the very payload and
   * properties appended, the same object the backend's readers get. The WAL keeps it for its
   * write-ahead buffer instead of building a second copy of every message. Optional, so a
   * wrapper may leave it out; the WAL then uses `append`.
   */
  appendStored?(message: MutableMessage): Promise<ImmutableMessage>;

  /**
   * Opens a scanner. Fails synchronously only for state and argument errors; position problems
   * (a truncated start) surface as the scanner's iteration error.
   *
   * @throws StreamingError ON_SHUTDOWN, CHANNEL_FENCED, INVAILD_ARGUMENT.
   */
  read(options: ReadBackendOptions): BackendScanner;

  /**
   * Retention: removes every message with an id ≤ `upTo` (clamped to the last message). Reading a
   * removed position afterwards fails with UNRECOVERABLE naming the earliest available id. Ids of
   * removed messages are never handed out again.
   */
  truncate(upTo: MessageId): Promise<void>;

  /** Id of the oldest retained message; undefined when nothing is retained. */
  earliestMessageId(): MessageId | undefined;
  /** Id of the newest durable message; undefined when nothing is retained. */
  latestMessageId(): MessageId | undefined;

  /** The bytes last saved by {@link saveCheckpoint} (any term), undefined if none. */
  loadCheckpoint(): Promise<Buffer | undefined>;
  /** Saves opaque checkpoint bytes durably (always synced). Fenced like appends. */
  saveCheckpoint(bytes: Uint8Array): Promise<void>;

  /**
   * Ends open scanners with ON_SHUTDOWN, waits for this instance's in-flight appends, then releases
   * the storage (closed when no instance of the pchannel remains in this process). Idempotent.
   */
  close(): Promise<void>;
  /** Resolves once closed, with the cause if the backend was fenced; never rejects. */
  closed(): Promise<void | Error>;
}

/**
 * One reader of a backend (Milvus `ScannerImpls`): an async iterable of messages in strictly
 * increasing id order. Iteration ends (`done`) after `close()`; it rejects with a
 * {@link StreamingError} when the backend closes (ON_SHUTDOWN), is fenced (CHANNEL_FENCED), the
 * position was truncated (UNRECOVERABLE) or storage failed (INNER).
 */
export interface BackendScanner extends AsyncIterable<ImmutableMessage> {
  readonly name: string;
  /** Messages read ahead and not yet delivered; never above the read-ahead size. */
  readonly bufferedCount: number;
  /**
   * Takes every message read ahead so far, in order, without waiting: the synchronous fast path
   * of iteration, so a reader pays one `await` per chunk instead of one per message. Mixes freely
   * with `next()` (both consume the same buffer). Taking frees read-ahead room, so the scanner
   * reads ahead again (never holding more than the read-ahead size itself).
   *
   * Returns undefined when nothing can be taken without waiting (nothing buffered, the scanner
   * ended, or a decorator that must see each message): `next()` then waits or reports the end.
   */
  takeBuffered(): ImmutableMessage[] | undefined;
  /** Stops the scanner; a pending or later `next()` returns done. Idempotent. */
  close(): Promise<void>;
  /** Resolves when the scanner ended: undefined after `close()`, else the error that ended it. */
  closed(): Promise<StreamingError | undefined>;
}
