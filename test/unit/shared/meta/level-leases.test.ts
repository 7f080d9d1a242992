import { describe, expect, it } from 'vitest';
import { LeaseTable } from '../../../../shared/meta/level-leases.js';
import { tombstone } from '../../../../shared/meta/level-codec.js';

const kv = (key: string, lease: string) => ({ key, value: Buffer.alloc(0), createRevision: 2, modRevision: 2, version: 1, lease });

describe('LeaseTable', () => {
  it('tracks keys through puts, moves and deletes', () => {
    const t = new LeaseTable();
    t.set('1', { ttlMs: 1000, expiresAt: 5000 });
    t.set('2', { ttlMs: 1000, expiresAt: 3000 });
    t.apply([{ type: 'put', kv: kv('b', '1'), prev: undefined }, { type: 'put', kv: kv('a', '1'), prev: undefined }]);
    expect(t.keysOf('1')).toEqual(['a', 'b']);
    // b moves to lease 2, a is deleted.
    t.apply([{ type: 'put', kv: kv('b', '2'), prev: kv('b', '1') }, { type: 'delete', kv: tombstone('a', 3), prev: kv('a', '1') }]);
    expect(t.keysOf('1')).toEqual([]);
    expect(t.keysOf('2')).toEqual(['b']);
    // Renewing keeps the attached keys.
    t.set('2', { ttlMs: 1000, expiresAt: 9000 });
    expect(t.keysOf('2')).toEqual(['b']);
  });

  it('knows which leases are alive, expired, and the next deadline', () => {
    const t = new LeaseTable();
    expect(t.nextExpiry()).toBeUndefined();
    t.set('1', { ttlMs: 1000, expiresAt: 5000 });
    t.set('2', { ttlMs: 1000, expiresAt: 3000 });
    expect(t.nextExpiry()).toBe(3000);
    expect(t.alive('2', 2999)).toBe(true);
    expect(t.alive('2', 3000)).toBe(false);
    expect(t.alive('3', 0)).toBe(false);
    expect(t.expired(4000)).toEqual(['2']);
    t.delete('2');
    expect(t.nextExpiry()).toBe(5000);
  });
});
