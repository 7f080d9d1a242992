/**
 * The MetaKV contract, written once and run against every implementation (LevelMetaKV on a temp
 * dir, EtcdMetaKV on a real etcd), so the embedded store cannot drift from etcd's semantics.
 *
 * @example
 * ```ts
 * describeMetaKV('LevelMetaKV', { create, destroy, leaseTtlMs: 1000, leaseExpirySlackMs: 500 });
 * ```
 */
import { describe } from 'vitest';
import { useFixture, type MetaKVFactory } from './meta-kv-fixture.js';
import { describeKeyValueContract } from './meta-kv-suite-kv.js';
import { describeLeaseContract } from './meta-kv-suite-lease.js';
import { describeWatchContract } from './meta-kv-suite-watch.js';

export type { MetaKVFactory, MetaKVFixture } from './meta-kv-fixture.js';

/** Registers the whole conformance suite for one implementation. */
export function describeMetaKV(name: string, factory: MetaKVFactory): void {
  describe(`MetaKV conformance: ${name}`, () => {
    const fixture = useFixture(factory);
    describeKeyValueContract(fixture);
    describeWatchContract(fixture);
    describeLeaseContract(fixture, factory);
  });
}
