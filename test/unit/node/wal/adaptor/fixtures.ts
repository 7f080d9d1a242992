/**
 * Shared by the adaptor tests: a backend opener whose backends can be told to fail appends or
 * checkpoint saves, and that records which backends were closed; a test clock; helpers.
 */
import type {
  BackendScanner,
  OpenBackendOptions,
  ReadBackendOptions,
  WalBackend,
  WalBackendName,
  WalBackendOpener,
} from '../../../../../node/wal/backend/index.js';
import { MemoryWalBackendOpener } from '../../../../../node/wal/backend/index.js';
import { type Wal, WalAdaptor, type WalAdaptorOptions, WalOpener } from '../../../../../node/wal/index.js';
import {
  LocalTsoAllocator,
  type MessageId,
  MessageType,
  type MutableMessage,
  newUserMessage,
  type PChannelInfo,
  pchannelInfo,
  pchannelName,
  vchannelName,
} from '../../../../../shared/index.js';

export const PCHANNEL = pchannelName('adaptor-test', 0);
export const V1 = vchannelName(PCHANNEL, 100, 0);
export const V2 = vchannelName(PCHANNEL, 200, 0);
export const OPEN: { readonly signal: AbortSignal } = Object.freeze({ signal: new AbortController().signal });

/** Decides the fate of one backend call: undefined = go ahead, an error = fail with it. */
export type FaultRule = (message?: MutableMessage) => Error | undefined;

/** A backend delegating to a real one, with injectable faults. */
export class FaultyBackend implements WalBackend {
  readonly #inner: WalBackend;
  appendFault: FaultRule | undefined;
  checkpointFault: FaultRule | undefined;
  appendCalls = 0;
  closeCalls = 0;

  constructor(inner: WalBackend) {
    this.#inner = inner;
  }

  get channel(): PChannelInfo {
    return this.#inner.channel;
  }
  get walName(): WalBackendName {
    return this.#inner.walName;
  }
  append(message: MutableMessage): Promise<MessageId> {
    this.appendCalls++;
    const fault = this.appendFault?.(message);
    return fault === undefined ? this.#inner.append(message) : Promise.reject(fault);
  }
  read(options: ReadBackendOptions): BackendScanner {
    return this.#inner.read(options);
  }
  truncate(upTo: MessageId): Promise<void> {
    return this.#inner.truncate(upTo);
  }
  earliestMessageId(): MessageId | undefined {
    return this.#inner.earliestMessageId();
  }
  latestMessageId(): MessageId | undefined {
    return this.#inner.latestMessageId();
  }
  loadCheckpoint(): Promise<Buffer | undefined> {
    return this.#inner.loadCheckpoint();
  }
  saveCheckpoint(bytes: Uint8Array): Promise<void> {
    const fault = this.checkpointFault?.();
    return fault === undefined ? this.#inner.saveCheckpoint(bytes) : Promise.reject(fault);
  }
  close(): Promise<void> {
    this.closeCalls++;
    return this.#inner.close();
  }
  closed(): Promise<void | Error> {
    return this.#inner.closed();
  }
}

/** Opens {@link FaultyBackend}s over a memory opener; `backends` lists every one opened. */
export class FaultyBackendOpener implements WalBackendOpener {
  readonly inner = new MemoryWalBackendOpener();
  readonly backends: FaultyBackend[] = [];
  /** Applied to each backend as it opens (before the WAL uses it). */
  onOpen: ((backend: FaultyBackend) => void) | undefined;

  async open(channel: PChannelInfo, options?: OpenBackendOptions): Promise<WalBackend> {
    const backend = new FaultyBackend(await this.inner.open(channel, options));
    this.onOpen?.(backend);
    this.backends.push(backend);
    return backend;
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A wall clock the test moves; also drives the TSO, so time ticks follow it. */
export class TestClock {
  ms = 1_700_000_000_000;
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** Fast timings for unit tests (background timers rarely fire on their own). */
export const UNIT_CONFIG: WalAdaptorOptions = Object.freeze({
  timeTickIntervalMs: 20,
  txnGracefulCloseTimeoutMs: 50,
  checkpointIntervalMs: 60_000,
  retentionMaxAgeMs: 0,
  retentionMaxBytes: 0,
  appendBackoff: { initialMs: 1, maxMs: 5, multiplier: 2, jitter: 0 },
});

/** A read-write WAL over `opener` at `term`. */
export async function openWal(
  opener: WalBackendOpener,
  options: { term?: bigint; config?: WalAdaptorOptions; tso?: LocalTsoAllocator; now?: () => number } = {},
): Promise<WalAdaptor> {
  const walOpener = new WalOpener({
    backendOpener: opener,
    tso: options.tso ?? SHARED_TSO,
    config: { ...UNIT_CONFIG, ...options.config },
    ...(options.now !== undefined ? { now: options.now } : {}),
  });
  const wal: Wal = await walOpener.open(pchannelInfo(PCHANNEL, options.term ?? 1n), OPEN);
  if (!(wal instanceof WalAdaptor)) throw new Error('expected a read-write WAL');
  return wal;
}

const SHARED_TSO = new LocalTsoAllocator();

/** An Insert on `vchannel` with user properties. */
export function insert(vchannel = V1, properties: Record<string, string> = {}, payload = 'row'): MutableMessage {
  return newUserMessage({ type: MessageType.Insert, vchannel, payload: Buffer.from(payload), properties });
}

/** StreamingError code assertions (shared with the other suites). */
export { expectCode, expectThrowsCode } from '../../../../harness/expect-code.js';
