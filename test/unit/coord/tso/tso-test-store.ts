/**
 * A throw-away embedded meta store for TSO unit tests (in-process LevelDB on a temp dir, no
 * sockets), wrapped so tests can fail or inspect transactions, plus a settable fake clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { StreamingError } from '../../../../shared/errors/index.js';
import { LevelMetaKV, type TxnRequest, type TxnResult } from '../../../../shared/meta/index.js';
import { InstrumentedMetaKV } from '../../../conformance/catalog-kv-wrappers.js';

/** An instrumented store whose next `n` applied transactions lose their response (INNER). */
export class LossyMetaKV extends InstrumentedMetaKV {
  loseResponses = 0;

  override async txn(request: TxnRequest): Promise<TxnResult> {
    const result = await super.txn(request);
    if (this.loseResponses > 0) {
      this.loseResponses--;
      throw StreamingError.inner('injected: the txn applied but its response was lost');
    }
    return result;
  }
}

/** A wall clock the test moves by hand. */
export class FakeClock {
  constructor(public ms: number) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A fresh store per test: `store().kv` (instrumented) and `store().raw`. */
export function useTsoStore(): () => { kv: LossyMetaKV; raw: LevelMetaKV } {
  let dir: string | undefined;
  let current: { kv: LossyMetaKV; raw: LevelMetaKV } | undefined;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tso-unit-'));
    const raw = await LevelMetaKV.open(dir);
    current = { kv: new LossyMetaKV(raw), raw };
  });
  afterEach(async () => {
    await current?.raw.close();
    current = undefined;
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    if (current === undefined) throw new Error('store used outside a test');
    return current;
  };
}
