/**
 * The WAL conformance suite: the node's WAL (adaptor + interceptors + scanner + recovery) over a
 * backend, written once and run on every backend (`wal-memory.test.ts`, `wal-level.test.ts`).
 * STYLE §8: `describeWalSuite(name, factory)`.
 *
 * - TestWAL (Milvus `adaptor/wal_test.go`): `wal-suite-framework.ts`;
 * - fencing and crash recovery: `wal-suite-fencing.ts`;
 * - bad input: `wal-suite-bad-input.ts`;
 * - close under load, read-only WAL, the WAL manager: `wal-suite-lifecycle.ts`.
 */
import { describe } from 'vitest';
import { describeBadInput } from './wal-suite-bad-input.js';
import { describeFencingAndRecovery } from './wal-suite-fencing.js';
import type { WalSuiteFactory } from './wal-suite-fixture.js';
import { describeTestWal } from './wal-suite-framework.js';
import { describeLifecycle } from './wal-suite-lifecycle.js';

export type { WalSuiteEnv, WalSuiteFactory } from './wal-suite-fixture.js';

/** Registers the whole suite against `factory`'s backend. */
export function describeWalSuite(name: string, factory: WalSuiteFactory): void {
  describe(`WAL conformance: ${name}`, () => {
    describeTestWal(factory);
    describeFencingAndRecovery(factory);
    describeBadInput(factory);
    describeLifecycle(factory);
  });
}
