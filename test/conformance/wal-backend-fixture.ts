/**
 * Helpers of the WAL backend conformance suite: the harness a backend provides, unique channel
 * names, messages, and scanner reads with deadlines (never bare sleeps).
 */
import { afterEach, beforeEach, expect } from 'vitest';
import type { BackendScanner, WalBackend, WalBackendOpener } from '../../node/wal/backend/index.js';
import { StreamingCode, StreamingError, streamingCodeName } from '../../shared/errors/index.js';
import { type ImmutableMessage, MutableMessage, pchannelInfo, type AccessMode } from '../../shared/message/index.js';
import { uniqueName } from '../harness/unique.js';

/** What a backend under test provides. */
export interface WalBackendHarness {
  /**
   * A new opener over this harness's storage. Openers of one harness share the data: once an
   * opener is closed, the next one sees what it wrote (LevelDB: same data root).
   */
  newOpener(): WalBackendOpener;
  /** Removes the storage; called after every opener is closed. */
  cleanup(): Promise<void>;
}

/** Builds a fresh harness per test. */
export type WalBackendFactory = () => WalBackendHarness | Promise<WalBackendHarness>;

/** Per-test context: a harness and one opener, closed after the test. */
export interface SuiteContext {
  readonly harness: WalBackendHarness;
  readonly opener: WalBackendOpener;
  /** Another opener over the same storage, also closed after the test. */
  newOpener(): WalBackendOpener;
}

/** Registers hooks that build a harness and an opener before each test and tear them down after. */
export function useSuiteContext(factory: WalBackendFactory): () => SuiteContext {
  let context: SuiteContext | undefined;
  const extraOpeners: WalBackendOpener[] = [];
  beforeEach(async () => {
    const harness = await factory();
    context = {
      harness,
      opener: harness.newOpener(),
      newOpener: () => {
        const opener = harness.newOpener();
        extraOpeners.push(opener);
        return opener;
      },
    };
  });
  afterEach(async () => {
    const current = context;
    context = undefined;
    if (current === undefined) return;
    await Promise.allSettled([current.opener.close(), ...extraOpeners.splice(0).map((o) => o.close())]);
    await current.harness.cleanup();
  });
  return () => {
    if (context === undefined) throw new Error('suite context used outside a test');
    return context;
  };
}

/** A unique pchannel name (valid: letters, digits and '-'). */
export function channelName(base = 'wal'): string {
  return uniqueName(base);
}

/** Opens `name` at `term`. */
export function openAt(opener: WalBackendOpener, name: string, term: bigint, mode: AccessMode = 'rw'): Promise<WalBackend> {
  return opener.open(pchannelInfo(name, term, mode));
}

/** A message with a recognisable payload and the Milvus framework's properties `id` and `const`. */
export function message(tag: string, extra: Record<string, string> = {}): MutableMessage {
  return MutableMessage.create(Buffer.from(`payload-${tag}`), { id: tag, const: 'c', ...extra });
}

/** Appends `count` messages tagged `${prefix}-i` with at most `concurrency` in flight; returns their ids in tag order. */
export async function appendMany(wal: WalBackend, prefix: string, count: number, concurrency = 5): Promise<ImmutableMessage[]> {
  const written: ImmutableMessage[] = new Array<ImmutableMessage>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const m = message(`${prefix}-${i}`);
      written[i] = m.intoImmutable(await wal.append(m));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return written;
}

/** Rejects with a message naming `what` if `promise` does not settle by `deadline` (epoch ms). */
export async function beforeDeadline<T>(promise: Promise<T>, deadline: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what()}`)), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads exactly `count` messages (failing if the scanner ends or stalls past the deadline). */
export async function take(scanner: BackendScanner, count: number, timeoutMs = 15_000): Promise<ImmutableMessage[]> {
  return readUntil(scanner, (_, all) => all.length >= count, timeoutMs, () => `${count} messages`);
}

/** Reads until `done(message, soFar)` is true; returns everything read including that message. */
export async function readUntil(
  scanner: BackendScanner,
  done: (m: ImmutableMessage, soFar: readonly ImmutableMessage[]) => boolean,
  timeoutMs = 15_000,
  what: () => string = () => 'the expected message',
): Promise<ImmutableMessage[]> {
  const iterator = scanner[Symbol.asyncIterator]();
  const out: ImmutableMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await beforeDeadline(iterator.next(), deadline, () => `scanner ${scanner.name} waiting for ${what()}, got ${out.length}`);
    if (r.done === true) throw new Error(`scanner ${scanner.name} ended after ${out.length} messages, waiting for ${what()}`);
    out.push(r.value);
    if (done(r.value, out)) return out;
  }
}

/** Marks `promise` as handled now (it is awaited later, after it may already have rejected). */
export function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** Payload text + `id` property + offset of each message, for comparisons. */
export function describeMessages(ms: readonly ImmutableMessage[]): [string, string, string | undefined][] {
  return ms.map((m) => [m.messageId.toString(), m.payload.toString(), m.property('id')]);
}

/** Asserts ids strictly increase. */
export function expectStrictlyIncreasing(ms: readonly ImmutableMessage[]): void {
  for (let i = 1; i < ms.length; i++) {
    const prev = ms[i - 1] as ImmutableMessage;
    const cur = ms[i] as ImmutableMessage;
    if (!prev.messageId.lt(cur.messageId)) throw new Error(`ids not increasing at ${i}: ${prev.messageId} then ${cur.messageId}`);
  }
}

/** The StreamingError `fn` throws or `promise` rejects with; fails if none or another type. */
export async function streamingErrorOf(action: Promise<unknown> | (() => unknown)): Promise<StreamingError> {
  let caught: unknown;
  try {
    await (typeof action === 'function' ? action() : action);
  } catch (error) {
    caught = error;
  }
  if (!(caught instanceof StreamingError)) throw new Error(`expected a StreamingError, got ${String(caught)}`);
  return caught;
}

/** Asserts the action fails with a StreamingError of `code` whose message mentions every `mention`. */
export async function expectStreamingError(action: Promise<unknown> | (() => unknown), code: StreamingCode, ...mention: string[]): Promise<StreamingError> {
  const error = await streamingErrorOf(action);
  expect(streamingCodeName(error.code), error.message).toBe(streamingCodeName(code));
  for (const text of mention) expect(error.message).toContain(text);
  return error;
}

export { StreamingCode };
