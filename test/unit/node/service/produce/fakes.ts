/**
 * Fakes for the handler stream unit tests: a grpc-js-like server call (an object-mode Duplex
 * with metadata, `cancelled`, a controllable write side and the status it ends with), and a WAL
 * whose appends and scanners the test drives by hand.
 */
import { Duplex } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import type { AppendResult, ScannedMessage, WalScanner } from '../../../../../node/wal/index.js';
import type { HandlerWal } from '../../../../../node/service/produce/index.js';
import {
  AsyncQueue,
  Deferred,
  fromServiceError,
  ImmutableMessage,
  MessageId,
  type MutableMessage,
  type PChannelInfo,
  pchannelInfo,
  StreamingError,
  waitFor,
} from '../../../../../shared/index.js';

/** How a fake call ended. */
export type FakeEnd = { readonly ok: true } | { readonly ok: false; readonly error: StreamingError };

/**
 * A server call: `receive(x)` is a client request, `finishRequests()` a half-close; `written`
 * are the frames the handler wrote and `ended` how the call ended. With `hold()` the call stops
 * taking frames (as HTTP/2 does when the client does not read) until `release()`.
 */
export class FakeCall extends Duplex {
  readonly metadata: grpc.Metadata;
  cancelled = false;
  readonly written: unknown[] = [];
  readonly #ended = new Deferred<FakeEnd>();
  #held: Array<() => void> | undefined;

  constructor(metadata: grpc.Metadata) {
    super({ objectMode: true });
    this.metadata = metadata;
    // What grpc-js does with an emitted 'error': records the status and ends.
    this.on('error', (e: unknown) => this.#ended.resolve({ ok: false, error: fromServiceError(e) }));
  }

  get ended(): Promise<FakeEnd> {
    return this.#ended.promise;
  }

  override _read(): void {
    // Requests are pushed by receive().
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.written.push(chunk);
    if (this.#held === undefined) callback();
    else this.#held.push(() => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#ended.resolve({ ok: true });
    callback();
  }

  receive(request: unknown): void {
    this.push(request);
  }

  finishRequests(): void {
    this.push(null);
  }

  /** Plays a client cancel. */
  cancel(): void {
    this.cancelled = true;
    this.emit('cancelled');
  }

  hold(): void {
    this.#held ??= [];
  }

  release(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const done of held) done();
  }

  /** Frames whose oneof member is `kind`. */
  framesOf<T = Record<string, unknown>>(kind: string): T[] {
    return this.written.filter((f) => (f as Record<string, unknown>)[kind] !== undefined).map((f) => (f as Record<string, T>)[kind] as T);
  }

  asServerStream<Req, Res>(): grpc.ServerDuplexStream<Req, Res> {
    return this as unknown as grpc.ServerDuplexStream<Req, Res>;
  }
}

/** One append the test settles by hand. */
export interface HeldAppend {
  readonly message: MutableMessage;
  readonly signal: AbortSignal | undefined;
  readonly result: Deferred<AppendResult>;
}

/** A scanner fed by the test through `queue`. */
export class FakeScanner implements WalScanner {
  readonly name = 'fake-scanner';
  readonly queue = new AsyncQueue<ScannedMessage>({ capacity: 1000 });
  readonly #closed = new Deferred<StreamingError | undefined>();
  closeCalls = 0;

  [Symbol.asyncIterator](): AsyncIterator<ScannedMessage, undefined> {
    return { next: () => this.queue.next() };
  }

  close(): Promise<void> {
    this.closeCalls += 1;
    this.queue.close();
    this.#closed.resolve(undefined);
    return Promise.resolve();
  }

  fail(error: StreamingError): void {
    this.queue.fail(error);
    this.#closed.resolve(error);
  }

  closed(): Promise<StreamingError | undefined> {
    return this.#closed.promise;
  }
}

/** A WAL whose appends wait for the test (`appends`), and whose readers are {@link FakeScanner}s. */
export class FakeHandlerWal implements HandlerWal {
  readonly channel: PChannelInfo;
  readonly appends: HeldAppend[] = [];
  readonly scanners: FakeScanner[] = [];
  readonly #availability = new AbortController();
  #nextId = 1n;

  constructor(channel: PChannelInfo = pchannelInfo('fake-rootcoord-dml_0', 1n)) {
    this.channel = channel;
  }

  get availability(): AbortSignal {
    return this.#availability.signal;
  }

  isAvailable(): boolean {
    return !this.#availability.signal.aborted;
  }

  append(message: MutableMessage, options: { signal?: AbortSignal } = {}): Promise<AppendResult> {
    const held: HeldAppend = { message, signal: options.signal, result: new Deferred<AppendResult>() };
    this.appends.push(held);
    return held.result.promise;
  }

  read(): WalScanner {
    const scanner = new FakeScanner();
    this.scanners.push(scanner);
    return scanner;
  }

  /** Settles append `index` successfully. */
  succeed(index: number): void {
    const id = MessageId.of(this.#nextId++);
    this.appends[index]?.result.resolve({ messageId: id, lastConfirmedMessageId: id, timeTick: 1000n + id.offset });
  }

  makeUnavailable(reason: StreamingError): void {
    this.#availability.abort(reason);
  }
}

/** Waits until `fake` has `count` appends waiting. */
export async function appendsStarted(wal: FakeHandlerWal, count: number): Promise<void> {
  await waitFor(() => wal.appends.length >= count, { timeoutMs: 5_000, intervalMs: 1, message: `${count} appends` });
}

/** A stored message at `offset` of `vchannel` with time tick `tick`. */
export function stored(offset: bigint, vchannel: string, properties: Record<string, string> = {}): ImmutableMessage {
  return ImmutableMessage.create(MessageId.of(offset), Buffer.from('p'), { _t: '2', _v: '1', _vc: vchannel, _tt: offset.toString(36), _lc: '1', ...properties });
}
