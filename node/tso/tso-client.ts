/**
 * The node's timestamp source in a cluster: a {@link TsoAllocator} over the coordinator's
 * `streamingwal.v1.TsoService` (Milvus's node-side batched TSO allocator over the root/streaming
 * coordinator).
 *
 * - **Batching**: one RPC fetches a window (default 1000 timestamps) that serves many
 *   `allocate()` calls; concurrent callers queue behind a single in-flight RPC.
 * - **Prefetch**: when fewer than `refillBelow` remain, the next window is fetched in the
 *   background, so a busy WAL rarely waits for a round trip.
 * - **Freshness**: a window older than `windowTtlMs` is dropped rather than used, so time ticks
 *   stay close to the coordinator's clock (Milvus syncs its batch when older than 50 ms), and
 *   {@link RemoteTsoAllocator.sync} drops everything prefetched (a WAL opening at a new term wants
 *   a timestamp newer than anything a previous owner wrote).
 * - **Order**: results are strictly increasing, in call order.
 * - **Availability**: while the coordinator is unreachable (or its address unknown), callers
 *   wait and the RPC is retried with backoff. It never falls back to a local clock: a timestamp
 *   not from the cluster's TSO could go backwards relative to another node's. A call rejects only
 *   on `close()` (ON_SHUTDOWN) or when its own `signal` aborts.
 */
import * as grpc from '@grpc/grpc-js';
import {
  Backoff,
  type BackoffOptions,
  Deferred,
  LOGICAL_COUNT,
  type Logger,
  StreamingError,
  type TsoAllocator,
  type TsoServiceClient,
  abortReason,
  abortableSleep,
  clientConstructors,
  fromServiceError,
  noopLogger,
} from '../../shared/index.js';
import { TsoWindows } from './tso-windows.js';

/** Options of {@link RemoteTsoAllocator}. Durations in ms. */
export interface RemoteTsoAllocatorOptions {
  /**
   * The coordinator's `host:port`, or a function returning the active coordinator's address now
   * (undefined while unknown). It is read before every RPC, so a follower of the active
   * coordinator can move the allocator by returning a new address.
   */
  readonly target: string | (() => string | undefined);
  /** Timestamps fetched per RPC; default 1000, at most 2^18 (one millisecond's logical space). */
  readonly windowSize?: number;
  /** Prefetch the next window once fewer than this many remain; default a quarter of the window. */
  readonly refillBelow?: number;
  /** A window older than this is dropped unused; default 50. */
  readonly windowTtlMs?: number;
  /** Deadline of one RPC; default 3000. */
  readonly rpcTimeoutMs?: number;
  /** Delays between failed RPCs while callers wait; default 50 ms doubling to 2 s. */
  readonly backoff?: Partial<BackoffOptions>;
  readonly logger?: Logger;
  /** Clock for window ages (tests). Default `Date.now`. */
  readonly now?: () => number;
}

interface Waiter {
  readonly count: number;
  readonly resolve: (ts: bigint) => void;
  readonly reject: (error: unknown) => void;
  readonly detach: () => void;
}

const DEFAULT_WINDOW_SIZE = 1_000;
const DEFAULT_WINDOW_TTL_MS = 50;
const DEFAULT_RPC_TIMEOUT_MS = 3_000;
const DEFAULT_TSO_BACKOFF: Partial<BackoffOptions> = { initialMs: 50, maxMs: 2_000 };
/** Reconnect quickly once the coordinator is back, instead of grpc's default backoff up to 120 s. */
const CHANNEL_OPTIONS: grpc.ChannelOptions = { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 1_000 };

/** See the file comment. */
export class RemoteTsoAllocator implements TsoAllocator {
  readonly #target: () => string | undefined;
  readonly #windowSize: number;
  readonly #refillBelow: bigint;
  readonly #rpcTimeoutMs: number;
  readonly #backoffOptions: Partial<BackoffOptions>;
  readonly #log: Logger;
  readonly #windows: TsoWindows;
  readonly #waiters: Waiter[] = [];
  readonly #stop = new AbortController();
  #client: { readonly address: string; readonly client: TsoServiceClient } | undefined;
  #inflight: grpc.ClientUnaryCall | undefined;
  #fetching: Promise<void> | undefined;
  /** Bumped by sync(): a window fetched under an older generation is dropped on arrival. */
  #generation = 0;
  #rpcCount = 0;
  #attempts = 0;
  #closing: Promise<void> | undefined;
  readonly #closed = new Deferred<void>();

  constructor(options: RemoteTsoAllocatorOptions) {
    const { target } = options;
    this.#target = typeof target === 'string' ? () => target : target;
    this.#windowSize = checkInt('windowSize', options.windowSize ?? DEFAULT_WINDOW_SIZE, 1, LOGICAL_COUNT);
    const refill = checkInt('refillBelow', options.refillBelow ?? Math.floor(this.#windowSize / 4), 0, this.#windowSize);
    this.#refillBelow = BigInt(refill);
    this.#rpcTimeoutMs = checkInt('rpcTimeoutMs', options.rpcTimeoutMs ?? DEFAULT_RPC_TIMEOUT_MS, 1);
    this.#backoffOptions = { ...DEFAULT_TSO_BACKOFF, ...options.backoff };
    this.#log = (options.logger ?? noopLogger).child({ component: 'tso-client' });
    const ttl = checkInt('windowTtlMs', options.windowTtlMs ?? DEFAULT_WINDOW_TTL_MS, 0);
    this.#windows = new TsoWindows(ttl, options.now ?? Date.now);
  }

  /** RPCs sent so far (metrics and tests). */
  get rpcCount(): number {
    return this.#rpcCount;
  }

  /** Fetch attempts so far, including those made while the coordinator's address was unknown. */
  get fetchAttempts(): number {
    return this.#attempts;
  }

  /** Callers waiting for a window now. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Reserves `count` consecutive timestamps and resolves with the first; see the file comment.
   * @throws StreamingError INVAILD_ARGUMENT for a count outside [1, 2^18]; ON_SHUTDOWN once
   *   closed; the abort reason of `options.signal`.
   */
  allocate(count = 1, options: { signal?: AbortSignal } = {}): Promise<bigint> {
    if (!Number.isInteger(count) || count < 1 || count > LOGICAL_COUNT) {
      return Promise.reject(StreamingError.invalidArgument('count', `must be an integer in [1, ${LOGICAL_COUNT}], got ${count}`));
    }
    if (this.#closing) return Promise.reject(this.#closedError());
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    // Queued callers go first, so results follow call order.
    if (this.#waiters.length === 0) {
      const ts = this.#windows.take(count);
      if (ts !== undefined) {
        this.#prefetchIfLow();
        return Promise.resolve(ts);
      }
    }
    return new Promise<bigint>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(abortReason(signal as AbortSignal));
      };
      const waiter: Waiter = { count, resolve, reject, detach: () => signal?.removeEventListener('abort', onAbort) };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
      this.#pump();
    });
  }

  /**
   * {@inheritDoc TsoAllocator.tryAllocate} Undefined while callers are queued (they go first) or
   * nothing is prefetched: the WAL then takes the waiting path through {@link allocate}.
   */
  tryAllocate(count = 1): bigint | undefined {
    if (!Number.isInteger(count) || count < 1 || count > LOGICAL_COUNT) {
      throw StreamingError.invalidArgument('count', `must be an integer in [1, ${LOGICAL_COUNT}], got ${count}`);
    }
    if (this.#closing) throw this.#closedError();
    if (this.#waiters.length > 0) return undefined;
    const ts = this.#windows.take(count);
    if (ts !== undefined) this.#prefetchIfLow();
    else this.#pump();
    return ts;
  }

  /** Drops every prefetched timestamp: the next ones come from an RPC sent after this call. */
  sync(): void {
    this.#generation++;
    this.#windows.clear();
  }

  /** {@link sync} if the oldest prefetched window is older than `maxAgeMs` (Milvus `SyncIfExpired`). */
  syncIfExpired(maxAgeMs: number): void {
    const age = this.#windows.oldestAgeMs();
    if (age !== undefined && age > maxAgeMs) this.sync();
  }

  /** Rejects waiting callers with ON_SHUTDOWN, cancels the RPC, closes the channel. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#doClose();
    return this.#closing;
  }

  /** Resolves once closed; never rejects. */
  closed(): Promise<void> {
    return this.#closed.promise;
  }

  async #doClose(): Promise<void> {
    this.#stop.abort(this.#closedError());
    this.#inflight?.cancel();
    for (const waiter of this.#waiters.splice(0)) {
      waiter.detach();
      waiter.reject(this.#closedError());
    }
    await this.#fetching;
    this.#client?.client.close();
    this.#client = undefined;
    this.#closed.resolve();
  }

  #closedError(): StreamingError {
    return StreamingError.onShutdown('tso allocator is closed');
  }

  #prefetchIfLow(): void {
    if (this.#windows.remaining() < this.#refillBelow) this.#pump();
  }

  /** Starts the fetch loop unless it runs already. */
  #pump(): void {
    if (this.#fetching || this.#closing) return;
    this.#fetching = this.#fetchLoop().finally(() => {
      this.#fetching = undefined;
      // A caller may have queued after the loop decided to stop.
      if (this.#waiters.length > 0 && !this.#closing) this.#pump();
    });
  }

  /** Serves waiters from the windows, fetching while anyone waits or a prefetch is due. */
  async #fetchLoop(): Promise<void> {
    const backoff = new Backoff(this.#backoffOptions);
    while (!this.#closing) {
      this.#serveWaiters();
      const head = this.#waiters[0];
      if (head === undefined && this.#windows.remaining() >= this.#refillBelow) return;
      const size = Math.min(LOGICAL_COUNT, Math.max(this.#windowSize, head?.count ?? 0));
      const generation = this.#generation;
      try {
        const { first, count } = await this.#fetch(size);
        if (generation !== this.#generation) continue; // fetched before a sync(): too old
        if (this.#windows.add(first, count) === 0n) {
          throw StreamingError.inner(`coordinator TSO answered ${first} (+${count}), not after ${this.#windows.lastIssued}`);
        }
        if (backoff.attempts > 0) this.#log.info({ attempts: backoff.attempts }, 'coordinator TSO reachable again');
        backoff.reset();
      } catch (error) {
        if (this.#closing) return;
        // A failed prefetch nobody waits for is retried on the next demand instead.
        if (this.#waiters.length === 0) return;
        const delayMs = backoff.next();
        const log = backoff.attempts === 1 ? this.#log.warn.bind(this.#log) : this.#log.debug.bind(this.#log);
        log({ err: error, attempt: backoff.attempts, delayMs, waiting: this.#waiters.length }, 'cannot allocate timestamps from the coordinator; retrying');
        await abortableSleep(delayMs, this.#stop.signal).catch(() => undefined);
      }
    }
  }

  #serveWaiters(): void {
    for (let head = this.#waiters[0]; head !== undefined; head = this.#waiters[0]) {
      const ts = this.#windows.take(head.count);
      if (ts === undefined) return;
      this.#waiters.shift();
      head.detach();
      head.resolve(ts);
    }
  }

  /** One AllocateTimestamps RPC to the current target. */
  #fetch(count: number): Promise<{ first: bigint; count: number }> {
    this.#attempts++;
    const address = this.#target();
    if (address === undefined || address === '') {
      return Promise.reject(StreamingError.inner('the active coordinator is not known yet'));
    }
    const client = this.#clientFor(address);
    this.#rpcCount++;
    return new Promise((resolve, reject) => {
      this.#inflight = client.AllocateTimestamps({ count }, { deadline: Date.now() + this.#rpcTimeoutMs }, (error, response) => {
        this.#inflight = undefined;
        if (error) return reject(fromServiceError(error));
        try {
          resolve(parseResponse(response));
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  #clientFor(address: string): TsoServiceClient {
    if (this.#client?.address === address) return this.#client.client;
    if (this.#client) this.#log.info({ from: this.#client.address, to: address }, 'coordinator TSO address changed');
    this.#client?.client.close();
    const client = new (clientConstructors().tso)(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS) as TsoServiceClient;
    this.#client = { address, client };
    return client;
  }
}

function parseResponse(response: { timestamp?: unknown; count?: unknown } | undefined): { first: bigint; count: number } {
  const text = String(response?.timestamp ?? '');
  const count = Number(response?.count ?? 0);
  if (!/^\d+$/.test(text) || text === '0') throw StreamingError.inner(`coordinator TSO answered a bad timestamp ${JSON.stringify(text)}`);
  if (!Number.isInteger(count) || count < 1) throw StreamingError.inner(`coordinator TSO answered a bad count ${String(response?.count)}`);
  return { first: BigInt(text), count };
}

function checkInt(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`RemoteTsoAllocator ${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
  return value;
}
