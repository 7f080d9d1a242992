/**
 * Conformance, part 3: leases (expiry, keepalive, revoke, lease-not-found) and the store's
 * lifecycle (idempotent close, ON_SHUTDOWN afterwards, open watches end with ON_SHUTDOWN).
 */
import { describe, expect, it } from 'vitest';
import { StreamingCode } from '../../shared/errors/index.js';
import { brief, expectCode, take, within, type MetaKVFactory, type MetaKVFixture } from './meta-kv-fixture.js';
import { abortableSleep as pause, waitFor } from '../../shared/util/index.js';

export function describeLeaseContract(fixture: () => MetaKVFixture, factory: MetaKVFactory): void {
  describe('leases', () => {
    it('keys attached to a lease disappear after expiry, seen by watchers as one delete batch', async () => {
      const { kv, prefix } = fixture();
      const lease = await kv.leaseGrant(1000);
      expect(lease.ttlMs).toBe(factory.leaseTtlMs);
      const granted = Date.now();
      await kv.put(`${prefix}s/1`, 'a', { lease: lease.id });
      await kv.put(`${prefix}s/2`, 'b', { lease: lease.id });
      expect((await kv.get(`${prefix}s/1`))?.lease).toBe(lease.id);
      const watch = kv.watch(`${prefix}s/`, { fromRevision: (await kv.revision()) + 1 });
      const it = watch[Symbol.asyncIterator]();
      await waitFor(async () => (await kv.get(`${prefix}s/1`)) === undefined, {
        timeoutMs: lease.ttlMs + factory.leaseExpirySlackMs + 3_000,
        message: 'lease expiry',
      });
      // Not before the TTL (a little clock slack for the store's timer).
      expect(Date.now() - granted).toBeGreaterThanOrEqual(lease.ttlMs - 100);
      expect(await kv.get(`${prefix}s/2`)).toBeUndefined();
      const [batch] = await take(it, 1);
      expect(brief(batch!)).toMatchObject({ events: [`delete ${prefix}s/1`, `delete ${prefix}s/2`] });
      await expectCode(kv.leaseKeepAliveOnce(lease.id), StreamingCode.UNRECOVERABLE);
      await expectCode(kv.put(`${prefix}late`, 'x', { lease: lease.id }), StreamingCode.UNRECOVERABLE);
      await watch.close();
    });

    it('keepalive extends the life of a lease', async () => {
      const { kv, prefix } = fixture();
      const lease = await kv.leaseGrant(1000);
      await kv.put(`${prefix}alive`, 'x', { lease: lease.id });
      const until = Date.now() + lease.ttlMs + factory.leaseExpirySlackMs + 500;
      while (Date.now() < until) {
        expect(await kv.leaseKeepAliveOnce(lease.id)).toBe(lease.ttlMs);
        // Keepalive cadence (a third of the TTL), not a wait for a condition.
        await pause(lease.ttlMs / 3);
      }
      expect(await kv.get(`${prefix}alive`)).toBeDefined();
      await waitFor(async () => (await kv.get(`${prefix}alive`)) === undefined, {
        timeoutMs: lease.ttlMs + factory.leaseExpirySlackMs + 3_000,
        message: 'expiry after keepalives stopped',
      });
    });

    it('revoke deletes the keys at once; unknown leases are rejected or ignored', async () => {
      const { kv, prefix } = fixture();
      const lease = await kv.leaseGrant(5000);
      await kv.put(`${prefix}r/1`, 'a', { lease: lease.id });
      await kv.put(`${prefix}r/keep`, 'b');
      const watch = kv.watch(`${prefix}r/`, { fromRevision: (await kv.revision()) + 1 });
      await kv.leaseRevoke(lease.id);
      expect(await kv.get(`${prefix}r/1`)).toBeUndefined();
      expect(await kv.get(`${prefix}r/keep`)).toBeDefined();
      const [batch] = await take(watch[Symbol.asyncIterator](), 1);
      expect(brief(batch!)).toMatchObject({ events: [`delete ${prefix}r/1`] });
      await watch.close();
      await expectCode(kv.leaseKeepAliveOnce(lease.id), StreamingCode.UNRECOVERABLE);
      await expectCode(kv.leaseKeepAliveOnce('987654321'), StreamingCode.UNRECOVERABLE);
      await kv.leaseRevoke(lease.id);
      await kv.leaseRevoke('987654321');
    });

    it('moving a key off its lease detaches it', async () => {
      const { kv, prefix } = fixture();
      const lease = await kv.leaseGrant(5000);
      await kv.put(`${prefix}m`, 'a', { lease: lease.id });
      await kv.put(`${prefix}m`, 'b');
      await kv.leaseRevoke(lease.id);
      expect((await kv.get(`${prefix}m`))?.value.toString()).toBe('b');
    });
  });

  describe('lifecycle', () => {
    it('close is idempotent; later calls fail ON_SHUTDOWN; open watches end with ON_SHUTDOWN', async () => {
      const { kv, prefix } = fixture();
      await kv.put(`${prefix}x`, '1');
      const watch = kv.watch(prefix);
      await watch.ready();
      const it = watch[Symbol.asyncIterator]();
      // Checked (and so handled) from the start: it rejects while close() runs.
      const pending = expectCode(it.next(), StreamingCode.ON_SHUTDOWN);
      const first = kv.close();
      const second = kv.close();
      expect(second).toBe(first);
      await within(first, 10_000, 'close');
      await pending;
      await expectCode(kv.get(`${prefix}x`), StreamingCode.ON_SHUTDOWN);
      await expectCode(kv.put(`${prefix}x`, '2'), StreamingCode.ON_SHUTDOWN);
      await expectCode(kv.leaseGrant(1000), StreamingCode.ON_SHUTDOWN);
      expect(() => kv.watch(prefix)).toThrow(/closed/);
    });
  });
}
