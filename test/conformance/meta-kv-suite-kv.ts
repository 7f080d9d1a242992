/**
 * Conformance, part 1: keys, revisions, ranges, transactions — exactly etcd's semantics.
 */
import { describe, expect, it } from 'vitest';
import { StreamingCode } from '../../shared/errors/index.js';
import { NO_LEASE } from '../../shared/meta/index.js';
import { expectCode, type MetaKVFixture } from './meta-kv-fixture.js';

export function describeKeyValueContract(fixture: () => MetaKVFixture): void {
  describe('keys and revisions', () => {
    it('put/get/delete follow etcd revision, version and createRevision rules', async () => {
      const { kv, prefix } = fixture();
      const key = `${prefix}a`;
      expect(await kv.get(key)).toBeUndefined();
      const r1 = (await kv.put(key, 'one')).revision;
      expect(await kv.get(key)).toEqual({ key, value: Buffer.from('one'), createRevision: r1, modRevision: r1, version: 1, lease: NO_LEASE });
      const r2 = (await kv.put(key, Buffer.from('two'))).revision;
      expect(r2).toBe(r1 + 1);
      expect(await kv.get(key)).toMatchObject({ createRevision: r1, modRevision: r2, version: 2, value: Buffer.from('two') });
      expect(await kv.revision()).toBe(r2);
      expect(await kv.delete(key)).toBe(1);
      const r3 = await kv.revision();
      expect(r3).toBe(r2 + 1);
      expect(await kv.get(key)).toBeUndefined();
      // Deleting nothing writes nothing: the revision stays.
      expect(await kv.delete(key)).toBe(0);
      expect(await kv.revision()).toBe(r3);
      // Re-created: a new life, version starts over.
      const r4 = (await kv.put(key, 'three')).revision;
      expect(await kv.get(key)).toMatchObject({ createRevision: r4, modRevision: r4, version: 1 });
      // Writing the same value is still a write.
      const r5 = (await kv.put(key, 'three')).revision;
      expect(r5).toBe(r4 + 1);
      expect(await kv.get(key)).toMatchObject({ version: 2, modRevision: r5 });
    });

    it('keeps binary values and non-ASCII keys byte for byte', async () => {
      const { kv, prefix } = fixture();
      const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      await kv.put(`${prefix}bin`, bytes);
      await kv.put(`${prefix}ключ/日本`, 'x');
      await kv.put(`${prefix}empty`, Buffer.alloc(0));
      expect((await kv.get(`${prefix}bin`))?.value.equals(bytes)).toBe(true);
      expect((await kv.get(`${prefix}ключ/日本`))?.value.toString()).toBe('x');
      expect((await kv.get(`${prefix}empty`))?.value.length).toBe(0);
    });

    it('deletePrefix deletes exactly the keys under the prefix, as one revision', async () => {
      const { kv, prefix } = fixture();
      for (const k of ['a/1', 'a/2', 'a/3', 'ab', 'b']) await kv.put(`${prefix}${k}`, k);
      const before = await kv.revision();
      expect(await kv.deletePrefix(`${prefix}a/`)).toBe(3);
      expect(await kv.revision()).toBe(before + 1);
      const left = await kv.range(prefix);
      expect(left.kvs.map((x) => x.key)).toEqual([`${prefix}ab`, `${prefix}b`]);
      expect(await kv.deletePrefix(`${prefix}none/`)).toBe(0);
      expect(await kv.revision()).toBe(before + 1);
    });

    it('rejects bad arguments with INVAILD_ARGUMENT', async () => {
      const { kv, prefix } = fixture();
      await expectCode(kv.put('', 'x'), StreamingCode.INVAILD_ARGUMENT);
      await expectCode(kv.get(''), StreamingCode.INVAILD_ARGUMENT);
      await expectCode(kv.range(prefix, { limit: 0 }), StreamingCode.INVAILD_ARGUMENT);
      await expectCode(kv.leaseGrant(0), StreamingCode.INVAILD_ARGUMENT);
      expect(() => kv.watch(prefix, { fromRevision: 0 })).toThrow(/fromRevision/);
    });
  });

  describe('range', () => {
    it('lists keys in byte order, paged with limit/startAfter: no key twice, none missing', async () => {
      const { kv, prefix } = fixture();
      const keys = Array.from({ length: 23 }, (_, i) => `${prefix}k${String(i).padStart(2, '0')}`);
      // Written out of order; also a neighbour prefix that must not show up.
      for (const k of [...keys].reverse()) await kv.put(k, k);
      await kv.put(`${prefix.slice(0, -1)}0`, 'neighbour');
      const seen: string[] = [];
      let startAfter: string | undefined;
      let pages = 0;
      const revision = await kv.revision();
      for (;;) {
        const page = await kv.range(prefix, { limit: 7, ...(startAfter === undefined ? {} : { startAfter }) });
        pages += 1;
        expect(page.revision).toBe(revision);
        expect(page.kvs.length).toBeLessThanOrEqual(7);
        seen.push(...page.kvs.map((x) => x.key));
        if (!page.more) break;
        startAfter = page.kvs[page.kvs.length - 1]!.key;
      }
      expect(pages).toBe(4);
      expect(seen).toEqual(keys);
      const tail = await kv.range(prefix, { startAfter: keys[21]! });
      expect(tail.kvs.map((x) => x.key)).toEqual([keys[22]]);
      expect(tail.more).toBe(false);
      const all = await kv.range(prefix);
      expect(all.kvs.length).toBe(23);
      expect(all.more).toBe(false);
    });

    it('reads at an older revision, and pages stay consistent at it', async () => {
      const { kv, prefix } = fixture();
      await kv.put(`${prefix}a`, 'a1');
      await kv.put(`${prefix}b`, 'b1');
      const at = (await kv.put(`${prefix}c`, 'c1')).revision;
      await kv.put(`${prefix}a`, 'a2');
      await kv.delete(`${prefix}b`);
      await kv.put(`${prefix}d`, 'd1');
      await kv.put(`${prefix}0`, 'z');
      const old = await kv.range(prefix, { revision: at });
      expect(old.revision).toBe(at);
      expect(old.kvs.map((x) => `${x.key.slice(prefix.length)}=${x.value.toString()}`)).toEqual(['a=a1', 'b=b1', 'c=c1']);
      const page1 = await kv.range(prefix, { revision: at, limit: 2 });
      expect(page1.more).toBe(true);
      const page2 = await kv.range(prefix, { revision: at, limit: 2, startAfter: page1.kvs[1]!.key });
      expect([...page1.kvs, ...page2.kvs].map((x) => x.value.toString())).toEqual(['a1', 'b1', 'c1']);
      expect(page2.more).toBe(false);
      await expectCode(kv.range(prefix, { revision: (await kv.revision()) + 100 }), StreamingCode.INNER);
    });
  });

  describe('txn', () => {
    it('create-if-absent with version == 0, then CAS on value, modRevision and createRevision', async () => {
      const { kv, prefix } = fixture();
      const key = `${prefix}cas`;
      const create = { compares: [{ key, target: 'version' as const, op: '==' as const, value: 0 }], success: [{ type: 'put' as const, key, value: 'v1' }] };
      const first = await kv.txn(create);
      expect(first.succeeded).toBe(true);
      expect(first.revision).toBe(await kv.revision());
      const again = await kv.txn(create);
      expect(again.succeeded).toBe(false);
      expect(again.revision).toBe(first.revision);
      const kv1 = (await kv.get(key))!;
      const byValue = await kv.txn({ compares: [{ key, target: 'value', op: '==', value: 'v1' }], success: [{ type: 'put', key, value: 'v2' }] });
      expect(byValue.succeeded).toBe(true);
      const stale = await kv.txn({ compares: [{ key, target: 'modRevision', op: '==', value: kv1.modRevision }], success: [{ type: 'put', key, value: 'lost' }] });
      expect(stale.succeeded).toBe(false);
      const fresh = await kv.txn({
        compares: [
          { key, target: 'modRevision', op: '==', value: byValue.revision },
          { key, target: 'createRevision', op: '==', value: kv1.createRevision },
          { key, target: 'version', op: '>', value: 1 },
          { key, target: 'lease', op: '==', value: NO_LEASE },
        ],
        success: [{ type: 'put', key, value: 'v3' }],
      });
      expect(fresh.succeeded).toBe(true);
      expect((await kv.get(key))?.value.toString()).toBe('v3');
      // etcd: a value compare on a missing key is false, whatever the operator.
      const missing = await kv.txn({ compares: [{ key: `${prefix}nope`, target: 'value', op: '!=', value: 'x' }], success: [] });
      expect(missing.succeeded).toBe(false);
    });

    it('runs the failure branch, with gets that see earlier ops of the branch', async () => {
      const { kv, prefix } = fixture();
      const a = `${prefix}a`;
      const b = `${prefix}b`;
      await kv.put(a, 'old');
      const before = await kv.revision();
      const res = await kv.txn({
        compares: [{ key: a, target: 'value', op: '==', value: 'other' }],
        success: [{ type: 'delete', key: a }],
        failure: [{ type: 'get', key: a }, { type: 'put', key: b, value: 'B' }, { type: 'get', key: b }, { type: 'get', key: `${prefix}none` }],
      });
      expect(res.succeeded).toBe(false);
      expect(res.revision).toBe(before + 1);
      expect(res.gets.length).toBe(3);
      expect(res.gets[0]?.value.toString()).toBe('old');
      expect(res.gets[1]).toMatchObject({ key: b, value: Buffer.from('B'), createRevision: before + 1, modRevision: before + 1, version: 1 });
      expect(res.gets[2]).toBeUndefined();
      // A txn that only reads does not move the revision.
      const readOnly = await kv.txn({ compares: [], success: [{ type: 'get', key: a }] });
      expect(readOnly.revision).toBe(before + 1);
      expect(await kv.revision()).toBe(before + 1);
    });

    it('writes every op of a branch at one revision, and rejects a key written twice', async () => {
      const { kv, prefix } = fixture();
      await kv.put(`${prefix}x/1`, '1');
      const res = await kv.txn({
        compares: [],
        success: [{ type: 'put', key: `${prefix}p`, value: 'p' }, { type: 'put', key: `${prefix}q`, value: 'q' }, { type: 'deletePrefix', prefix: `${prefix}x/` }],
      });
      const [p, q] = [await kv.get(`${prefix}p`), await kv.get(`${prefix}q`)];
      expect(p?.modRevision).toBe(res.revision);
      expect(q?.modRevision).toBe(res.revision);
      expect(await kv.get(`${prefix}x/1`)).toBeUndefined();
      await expectCode(
        kv.txn({ compares: [], success: [{ type: 'put', key: `${prefix}p`, value: '1' }, { type: 'put', key: `${prefix}p`, value: '2' }] }),
        StreamingCode.INVAILD_ARGUMENT,
      );
      await expectCode(
        kv.txn({ compares: [], success: [{ type: 'deletePrefix', prefix }, { type: 'put', key: `${prefix}p`, value: '2' }] }),
        StreamingCode.INVAILD_ARGUMENT,
      );
      expect(await kv.revision()).toBe(res.revision);
    });
  });
}
