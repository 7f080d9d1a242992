import { describe, expect, it } from 'vitest';
import { Deferred } from '../../../../shared/util/index.js';

describe('Deferred', () => {
  it('resolves once; later settles are ignored', async () => {
    const d = new Deferred<number>();
    expect(d.settled).toBe(false);
    d.resolve(1);
    d.resolve(2);
    d.reject(new Error('late'));
    expect(d.settled).toBe(true);
    await expect(d.promise).resolves.toBe(1);
  });

  it('rejects', async () => {
    const d = new Deferred<void>();
    d.reject(new Error('no'));
    await expect(d.promise).rejects.toThrow('no');
  });
});
