/**
 * The WAL backend contract (`node/wal/backend/wal-backend.ts`) written once and run against every
 * backend, like Milvus's `walimpls/test_framework.go` and abstract-level's test suite.
 *
 * @example
 * ```ts
 * describeWalBackend('memory', () => ({ newOpener: () => opener, cleanup: async () => {} }));
 * ```
 */
import { describe } from 'vitest';
import { type SuiteContext, useSuiteContext, type WalBackendFactory } from './wal-backend-fixture.js';
import { fencingTests } from './wal-backend-suite-fencing.js';
import { frameworkTests } from './wal-backend-suite-framework.js';
import { lifecycleTests } from './wal-backend-suite-lifecycle.js';
import { retentionTests } from './wal-backend-suite-retention.js';

export type { SuiteContext, WalBackendFactory, WalBackendHarness } from './wal-backend-fixture.js';

/** Registers the whole conformance suite for one backend; returns the per-test context getter for extras. */
export function describeWalBackend(name: string, factory: WalBackendFactory, extras?: (ctx: () => SuiteContext) => void): void {
  describe(`WAL backend conformance: ${name}`, () => {
    const ctx = useSuiteContext(factory);
    describe('walimpls framework', () => frameworkTests(ctx));
    describe('fencing', () => fencingTests(ctx));
    describe('offsets, retention and checkpoints', () => retentionTests(ctx));
    describe('lifecycle, backpressure and bad input', () => lifecycleTests(ctx));
    if (extras !== undefined) describe(`${name} only`, () => extras(ctx));
  });
}
