import { describe, expect, it } from 'vitest';
import { Mutex } from '../../../../shared/meta/mutex.js';

describe('Mutex', () => {
  it('runs critical sections one at a time, in call order, also after a failure', async () => {
    const mutex = new Mutex();
    const log: string[] = [];
    let inside = 0;
    const section = (name: string, fail = false) => async (): Promise<string> => {
      inside += 1;
      expect(inside).toBe(1);
      log.push(`${name}:start`);
      await Promise.resolve();
      await new Promise((r) => setImmediate(r));
      log.push(`${name}:end`);
      inside -= 1;
      if (fail) throw new Error(name);
      return name;
    };
    const results = await Promise.allSettled([mutex.run(section('a')), mutex.run(section('b', true)), mutex.run(section('c'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(log).toEqual(['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end']);
    await mutex.idle();
    expect(mutex.pending).toBe(0);
  });
});
