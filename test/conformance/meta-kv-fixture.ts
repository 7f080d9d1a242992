/**
 * Shared plumbing of the MetaKV conformance suite: the factory contract each runner implements,
 * a per-test fixture, and helpers to read watches with deadlines.
 */
import { afterEach, beforeEach, expect } from 'vitest';
import type { MetaKV } from '../../shared/meta/index.js';
import { StreamingCode, isStreamingError } from '../../shared/errors/index.js';

/** One test's store and key space. */
export interface MetaKVFixture {
  readonly kv: MetaKV;
  /** Unique to the test; ends with `/`. */
  readonly prefix: string;
}

/** What a runner provides (see meta-kv-level.test.ts, meta-kv-etcd.test.ts). */
export interface MetaKVFactory {
  /** A store (fresh or shared) and a fresh unique prefix. */
  create(): Promise<MetaKVFixture>;
  /** Releases what create() made (closing the store twice must be harmless). */
  destroy(fixture: MetaKVFixture): Promise<void>;
  /** The store's lease TTL for a 1 s request, and how long after it the keys are surely gone. */
  readonly leaseTtlMs: number;
  readonly leaseExpirySlackMs: number;
}

/** Registers beforeEach/afterEach and returns a getter for the current test's fixture. */
export function useFixture(factory: MetaKVFactory): () => MetaKVFixture {
  let current: MetaKVFixture | undefined;
  beforeEach(async () => {
    current = await factory.create();
  });
  afterEach(async () => {
    const f = current;
    current = undefined;
    if (f !== undefined) await factory.destroy(f);
  });
  return () => {
    if (current === undefined) throw new Error('fixture used outside a test');
    return current;
  };
}

/** Resolves with `promise`, or rejects after `ms` naming `what`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Takes exactly `n` items from an iterator, each within `ms`. */
export async function take<T>(it: AsyncIterator<T>, n: number, ms = 5_000): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) {
    const r = await within(it.next(), ms, `item ${i + 1} of ${n}`);
    if (r.done === true) throw new Error(`iterator ended after ${i} of ${n} items`);
    out.push(r.value);
  }
  return out;
}

/** Expects the iterator to end (done) within `ms`. */
export async function expectEnd<T>(it: AsyncIterator<T>, ms = 5_000): Promise<void> {
  const r = await within(it.next(), ms, 'the end of the iteration');
  expect(r.done).toBe(true);
}

/** Expects `promise` to reject with a StreamingError of `code`; returns the error. */
export async function expectCode(promise: Promise<unknown>, code: StreamingCode): Promise<Error> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  expect(error, 'expected a rejection').toBeDefined();
  expect(isStreamingError(error), `expected a StreamingError, got ${String(error)}`).toBe(true);
  expect(StreamingCode[(error as { code: StreamingCode }).code]).toBe(StreamingCode[code]);
  return error as Error;
}

/** Compact view of a watch batch for exact comparisons. */
export function brief(batch: { kind: string; revision?: number; compactRevision?: number; events?: readonly { type: string; kv: { key: string; value: Buffer } }[] }): unknown {
  if (batch.kind === 'compacted') return { compacted: batch.compactRevision };
  return { rev: batch.revision, events: (batch.events ?? []).map((e) => `${e.type} ${e.kv.key}${e.type === 'put' ? `=${e.kv.value.toString()}` : ''}`) };
}
