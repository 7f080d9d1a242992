/**
 * One opened pchannel at one term: the {@link WalBackend} every opener hands out. It adds the
 * per-instance rules (access mode, fencing, lifecycle, its scanners) on top of the shared
 * {@link ChannelStore}.
 *
 * Close order (STYLE §5): refuse new calls → end scanners with ON_SHUTDOWN and wait for their
 * reads → wait for this instance's queued appends to settle → release the store (whose last
 * release closes the storage).
 */
import { StreamingError } from '../../../shared/errors/index.js';
import { formatPChannelInfo, type ImmutableMessage, MessageId, MutableMessage, type PChannelInfo } from '../../../shared/message/index.js';
import { Deferred, Lifecycle } from '../../../shared/util/index.js';
import { abortedError, closedError, fencedError, readOnlyError } from './backend-errors.js';
import { StoreScanner } from './backend-scanner.js';
import type { ChannelStore, StoreMember } from './channel-store.js';
import { DEFAULT_READ_AHEAD_BUFFER_SIZE, type BackendScanner, ROCKSMQ_WAL_NAME, type ReadBackendOptions, type WalBackend } from './wal-backend.js';

/** The backend instance of every opener; see the file comment. */
export class ChannelWalBackend<R> implements WalBackend, StoreMember {
  readonly channel: PChannelInfo;
  readonly walName = ROCKSMQ_WAL_NAME;
  readonly #store: ChannelStore<R>;
  readonly #life: Lifecycle;
  readonly #scanners = new Set<StoreScanner>();
  readonly #label: string;
  #fenced: StreamingError | undefined;
  #pending = 0;
  #drained: Deferred<void> | undefined;
  #scannerSeq = 0;

  /** Joins `store`, whose reference the caller already took and hands over to this instance. */
  constructor(store: ChannelStore<R>, channel: PChannelInfo, onClosed?: (backend: ChannelWalBackend<R>) => void) {
    this.channel = channel;
    this.#store = store;
    this.#label = `wal backend ${formatPChannelInfo(channel)}`;
    this.#life = new Lifecycle({
      name: this.#label,
      onClose: async () => {
        await this.#teardown();
        onClosed?.(this);
      },
    });
    this.#life.markRunning();
    store.join(this);
  }

  /** The term requests of this instance are checked with (CommitOwner). */
  get term(): bigint {
    return this.channel.term;
  }

  /** Set once a higher term opened the pchannel. */
  get fenced(): boolean {
    return this.#fenced !== undefined;
  }

  append(message: MutableMessage): Promise<MessageId> {
    return this.appendStored(message).then(idOf);
  }

  appendStored(message: MutableMessage): Promise<ImmutableMessage> {
    try {
      this.#assertWritable('append');
      if (!(message instanceof MutableMessage)) {
        throw StreamingError.invalidArgument('message', 'append takes a MutableMessage');
      }
      const engine = this.#store.engine;
      const record = engine.prepare(message);
      return this.#store.append(this, record, message, engine.sizeOf(record, message));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  read(options: ReadBackendOptions): BackendScanner {
    this.#assertReadable('read');
    if (options === null || typeof options !== 'object') throw StreamingError.invalidArgument('read options', 'are missing');
    if (options.signal?.aborted === true) throw abortedError(options.signal, 'read');
    const readAhead = options.readAheadBufferSize ?? DEFAULT_READ_AHEAD_BUFFER_SIZE;
    if (!Number.isSafeInteger(readAhead) || readAhead < 1) {
      throw StreamingError.invalidArgument('readAheadBufferSize', `must be an integer >= 1, got ${String(readAhead)}`);
    }
    const scanner = new StoreScanner(this.#store, {
      name: typeof options.name === 'string' && options.name !== '' ? options.name : `${this.#label}/${this.#scannerSeq}`,
      position: this.#startPosition(options),
      readAhead,
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      onEnd: (s) => this.#scanners.delete(s),
    });
    this.#scannerSeq++;
    this.#scanners.add(scanner);
    return scanner;
  }

  async truncate(upTo: MessageId): Promise<void> {
    this.#assertWritable('truncate');
    if (!(upTo instanceof MessageId)) throw StreamingError.invalidArgument('truncate id', 'must be a MessageId');
    await this.#store.truncate(this, upTo.offset);
  }

  earliestMessageId(): MessageId | undefined {
    const { floor, end } = this.#store;
    return floor < end ? MessageId.of(floor) : undefined;
  }

  latestMessageId(): MessageId | undefined {
    const { floor, end } = this.#store;
    return floor < end ? MessageId.of(end - 1n) : undefined;
  }

  async loadCheckpoint(): Promise<Buffer | undefined> {
    this.#assertReadable('load checkpoint');
    return this.#store.getMeta('checkpoint');
  }

  saveCheckpoint(bytes: Uint8Array): Promise<void> {
    try {
      this.#assertWritable('save checkpoint');
      if (!(bytes instanceof Uint8Array)) throw StreamingError.invalidArgument('checkpoint', 'must be bytes');
      // Copied now: the caller may reuse its buffer before the batch is written.
      return this.#store.writeMeta(this, 'checkpoint', Buffer.from(bytes));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  close(): Promise<void> {
    return this.#life.close(this.#fenced);
  }

  closed(): Promise<void | Error> {
    return this.#life.closed();
  }

  // ---- StoreMember / CommitOwner ----

  fence(newTerm: bigint): void {
    if (this.#fenced !== undefined || this.#life.status !== 'running') return;
    const error = fencedError(this.channel.name, this.channel.term, newTerm);
    this.#fenced = error;
    for (const scanner of this.#scanners) void scanner.fail(error);
  }

  requestQueued(): void {
    this.#pending++;
  }

  requestSettled(): void {
    this.#pending--;
    if (this.#pending === 0) this.#drained?.resolve();
  }

  // ---- internals ----

  #startPosition(options: ReadBackendOptions): bigint {
    const policy = options.deliverPolicy;
    switch (policy?.kind) {
      case 'all':
        return this.#store.floor;
      case 'latest':
        return this.#store.end;
      case 'startFrom':
        return positionOf(policy.id, 'deliverPolicy.id');
      case 'startAfter':
        return positionOf(policy.id, 'deliverPolicy.id') + 1n;
      default:
        throw StreamingError.invalidArgument('deliverPolicy', 'must be all, latest, startFrom or startAfter');
    }
  }

  #assertReadable(operation: string): void {
    if (!this.#life.isRunning) throw closedError(this.#label, operation);
    if (this.#fenced !== undefined) throw this.#fenced;
  }

  #assertWritable(operation: string): void {
    if (!this.#life.isRunning) throw closedError(this.#label, operation);
    if (this.channel.accessMode !== 'rw') throw readOnlyError(this.channel.name, operation);
    if (this.#fenced !== undefined) throw this.#fenced;
  }

  async #teardown(): Promise<void> {
    const error = closedError(this.#label, 'read');
    await Promise.allSettled([...this.#scanners].map((s) => s.fail(error)));
    this.#scanners.clear();
    if (this.#pending > 0) {
      this.#drained = new Deferred<void>();
      await this.#drained.promise;
    }
    this.#store.leave(this);
    await this.#store.release();
  }
}

function positionOf(id: unknown, field: string): bigint {
  if (!(id instanceof MessageId)) throw StreamingError.invalidArgument(field, 'must be a MessageId');
  return id.offset;
}

function idOf(stored: ImmutableMessage): MessageId {
  return stored.messageId;
}
