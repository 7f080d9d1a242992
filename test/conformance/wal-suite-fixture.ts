/**
 * Shared pieces of the WAL conformance suite (`wal.suite.ts`): the backend factory each runner
 * provides, test tuning, channel names, message builders, a seeded random source and reader
 * helpers.
 */
import { expect } from 'vitest';
import {
  type AppendResult,
  type ScannedMessage,
  type Wal,
  type WalAdaptorOptions,
  type WalBackendOpener,
  WalOpener,
  type WalReadOptions,
} from '../../node/wal/index.js';
import {
  LocalTsoAllocator,
  MessageType,
  type MutableMessage,
  newBeginTxnMessage,
  newCommitTxnMessage,
  newRollbackTxnMessage,
  newUserMessage,
  type TxnContext,
  vchannelName,
} from '../../shared/index.js';
import { uniqueName } from '../harness/unique.js';

/** One storage location a test works on. */
export interface WalSuiteEnv {
  /** The backend opener over the location (the suite never closes it; `cleanup` does). */
  readonly backendOpener: WalBackendOpener;
  /**
   * A crash: the storage is released without closing the WALs on it (LevelDB: the opener is
   * closed under them and a new one opens the same directory; memory: the data lives in the
   * opener, so the same one is returned and the next open at a higher term fences the old WAL).
   * Returns the opener to use from now on.
   */
  crash(): Promise<WalBackendOpener>;
  /** Closes the opener(s) and removes the data. */
  cleanup(): Promise<void>;
}

/** What a runner (memory, level) provides. */
export type WalSuiteFactory = () => Promise<WalSuiteEnv>;

/** Short timings so the suite runs fast and exercises every background path. */
export const SUITE_CONFIG: WalAdaptorOptions = Object.freeze({
  timeTickIntervalMs: 20,
  txnGracefulCloseTimeoutMs: 200,
  checkpointIntervalMs: 100,
  retentionMaxAgeMs: 0,
  retentionMaxBytes: 0,
  appendBackoff: { initialMs: 5, maxMs: 50, multiplier: 2, jitter: 0 },
  scannerBackoff: { initialMs: 10, maxMs: 100, multiplier: 2, jitter: 0 },
});

/** The process-wide TSO of the suite: time ticks never go back, across terms and openers. */
export const SUITE_TSO = new LocalTsoAllocator();

/** A WAL opener over `backendOpener` with the suite tuning (plus `config`). */
export function suiteOpener(backendOpener: WalBackendOpener, config: WalAdaptorOptions = {}): WalOpener {
  return new WalOpener({ backendOpener, tso: SUITE_TSO, nodeId: 7n, config: { ...SUITE_CONFIG, ...config } });
}

/** A fresh pchannel name and three of its vchannels. */
export function channels(base = 'walsuite'): { pchannel: string; v1: string; v2: string; v3: string } {
  const pchannel = `${uniqueName(base)}-rootcoord-dml_0`;
  return { pchannel, v1: vchannelName(pchannel, 100, 0), v2: vchannelName(pchannel, 200, 0), v3: vchannelName(pchannel, 300, 0) };
}

/** An Insert with user properties. */
export function insert(vchannel: string, properties: Record<string, string> = {}, payload = 'row'): MutableMessage {
  return newUserMessage({ type: MessageType.Insert, vchannel, payload: Buffer.from(payload), properties });
}

/** An exclusive (DDL) message. */
export function createCollection(vchannel: string, properties: Record<string, string> = {}): MutableMessage {
  return newUserMessage({ type: MessageType.CreateCollection, vchannel, payload: Buffer.alloc(0), properties });
}

export function beginTxn(vchannel: string, keepaliveMs = 0): MutableMessage {
  return newBeginTxnMessage({ vchannel, keepaliveMs });
}

export function txnBody(txn: TxnContext, vchannel: string, properties: Record<string, string> = {}): MutableMessage {
  return insert(vchannel, properties, 'txn-row').withTxnContext(txn);
}

export function commitTxn(txn: TxnContext, vchannel: string, properties: Record<string, string> = {}): MutableMessage {
  return newCommitTxnMessage({ vchannel, txn }).withProperties(properties);
}

export function rollbackTxn(txn: TxnContext, vchannel: string): MutableMessage {
  return newRollbackTxnMessage({ vchannel, txn });
}

/** The txn context of a BeginTxn's result. */
export function txnOf(result: AppendResult): TxnContext {
  expect(result.txnContext).toBeDefined();
  return result.txnContext as TxnContext;
}

/** Deterministic random numbers in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Data messages (no TimeTick) read from `wal` until `stop` returns true for one (included). */
export async function readUntil(wal: Wal, options: WalReadOptions, stop: (m: ScannedMessage) => boolean): Promise<ScannedMessage[]> {
  const scanner = wal.read(options);
  const out: ScannedMessage[] = [];
  try {
    for await (const m of scanner) {
      if (m.messageType === MessageType.TimeTick) continue;
      out.push(m);
      if (stop(m)) break;
    }
  } finally {
    await scanner.close();
  }
  return out;
}

/** The user property `key` of a delivered message (the commit's, for a transaction). */
export function propertyOf(m: ScannedMessage, key: string): string | undefined {
  return 'commit' in m ? m.commit.property(key) : m.property(key);
}

/** StreamingError code assertions (shared with the other suites). */
export { expectCode, expectThrowsCode } from '../harness/expect-code.js';

/** Asserts strictly increasing time ticks. */
export function expectStrictlyIncreasingTimeTicks(messages: readonly ScannedMessage[]): void {
  for (let i = 1; i < messages.length; i++) {
    const prev = (messages[i - 1] as ScannedMessage).timeTick;
    const cur = (messages[i] as ScannedMessage).timeTick;
    if (!(prev < cur)) expect.fail(`time tick order broken at ${i}: ${prev} then ${cur}`);
  }
}
