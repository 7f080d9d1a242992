/**
 * A MetaKV decorator for catalog and TSO tests: records every transaction (its size and
 * outcome) and range (its page limit), fails chosen transactions with a StreamingError, and can
 * hold a transaction at a gate so a test can break the store in the middle of a save.
 */
import { StreamingError } from '../../shared/errors/index.js';
import type {
  KeyValue,
  LeaseGrant,
  MetaKV,
  MetaWatch,
  RangeOptions,
  RangeResult,
  TxnRequest,
  TxnResult,
  WatchOptions,
} from '../../shared/meta/index.js';

/** One transaction as the wrapper saw it. */
export interface TxnRecord {
  /** Operations in the success branch. */
  readonly ops: number;
  /** 'ok' (applied, compares held), 'compare-failed', 'injected' (failed by the wrapper), 'error' (the store threw). */
  outcome: 'pending' | 'ok' | 'compare-failed' | 'injected' | 'error';
}

/** Decides per transaction (0-based index) whether to fail it; return the error to throw. */
export type TxnFault = (index: number, request: TxnRequest) => Error | undefined;

/** Records and fault-injects; everything else goes straight to the wrapped store. */
export class InstrumentedMetaKV implements MetaKV {
  readonly txns: TxnRecord[] = [];
  readonly rangeLimits: (number | undefined)[] = [];
  #fault: TxnFault | undefined;
  #gate: ((index: number) => Promise<void> | undefined) | undefined;

  constructor(readonly inner: MetaKV) {}

  /** Fails the next `n` transactions with INNER (as an unreachable store does). */
  failNextTxns(n: number): void {
    const until = this.txns.length + n;
    this.#fault = (index) => (index < until ? StreamingError.inner(`injected txn failure #${index}`) : undefined);
  }

  /** Fails every transaction from now on with INNER, until {@link heal}. */
  failAllTxns(): void {
    this.#fault = (index) => StreamingError.inner(`injected txn failure #${index}`);
  }

  /** A custom fault rule (undefined clears it). */
  setFault(fault: TxnFault | undefined): void {
    this.#fault = fault;
  }

  heal(): void {
    this.#fault = undefined;
  }

  /** Before transaction `index` reaches the store, awaits what `gate` returns (if anything). */
  setGate(gate: ((index: number) => Promise<void> | undefined) | undefined): void {
    this.#gate = gate;
  }

  /** Transactions that applied. */
  get appliedTxns(): TxnRecord[] {
    return this.txns.filter((t) => t.outcome === 'ok');
  }

  async txn(request: TxnRequest): Promise<TxnResult> {
    const index = this.txns.length;
    const record: TxnRecord = { ops: request.success.length, outcome: 'pending' };
    this.txns.push(record);
    await this.#gate?.(index);
    const injected = this.#fault?.(index, request);
    if (injected !== undefined) {
      record.outcome = 'injected';
      throw injected;
    }
    try {
      const result = await this.inner.txn(request);
      record.outcome = result.succeeded ? 'ok' : 'compare-failed';
      return result;
    } catch (e) {
      record.outcome = 'error';
      throw e;
    }
  }

  range(prefix: string, options?: RangeOptions): Promise<RangeResult> {
    this.rangeLimits.push(options?.limit);
    return this.inner.range(prefix, options);
  }

  get(key: string): Promise<KeyValue | undefined> {
    return this.inner.get(key);
  }
  put(key: string, value: Buffer | string, options?: { lease?: string }): Promise<{ revision: number }> {
    return this.inner.put(key, value, options);
  }
  delete(key: string): Promise<number> {
    return this.inner.delete(key);
  }
  deletePrefix(prefix: string): Promise<number> {
    return this.inner.deletePrefix(prefix);
  }
  watch(prefix: string, options?: WatchOptions): MetaWatch {
    return this.inner.watch(prefix, options);
  }
  revision(): Promise<number> {
    return this.inner.revision();
  }
  compact(revision: number): Promise<void> {
    return this.inner.compact(revision);
  }
  leaseGrant(ttlMs: number): Promise<LeaseGrant> {
    return this.inner.leaseGrant(ttlMs);
  }
  leaseKeepAliveOnce(id: string): Promise<number> {
    return this.inner.leaseKeepAliveOnce(id);
  }
  leaseRevoke(id: string): Promise<void> {
    return this.inner.leaseRevoke(id);
  }
  /** Does not close the wrapped store: the runner owns it. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
