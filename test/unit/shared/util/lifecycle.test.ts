import { describe, expect, it } from 'vitest';
import { StreamingError } from '../../../../shared/errors/index.js';
import { Deferred, Lifecycle, type Closable } from '../../../../shared/util/index.js';

function child(name: string, log: string[], fail?: Error): Closable & { reasons: (Error | undefined)[] } {
  const reasons: (Error | undefined)[] = [];
  return {
    reasons,
    async close(reason?: Error) {
      reasons.push(reason);
      await Promise.resolve();
      log.push(`${name} closed`);
      if (fail) throw fail;
    },
  };
}

describe('Lifecycle', () => {
  it('moves starting → running → closing → closed', async () => {
    const life = new Lifecycle({ name: 'wal' });
    expect(life.status).toBe('starting');
    expect(() => life.assertRunning('append')).toThrow(/cannot append: wal is starting/);
    await life.start();
    expect(life.status).toBe('running');
    expect(() => life.assertRunning()).not.toThrow();
    const closing = life.close();
    expect(life.status).toBe('closing');
    await closing;
    expect(life.status).toBe('closed');
    const err = (() => {
      try {
        life.assertRunning('append');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(StreamingError);
    expect((err as StreamingError).isOnShutdown()).toBe(true);
  });

  it('close() is idempotent and runs teardown once', async () => {
    let teardowns = 0;
    const life = new Lifecycle({ name: 'x', onClose: () => void teardowns++ });
    life.markRunning();
    const a = life.close();
    const b = life.close(new Error('ignored, second call'));
    expect(a).toBe(b);
    await a;
    expect(teardowns).toBe(1);
    await expect(life.closed()).resolves.toBeUndefined();
  });

  it('closes children first (concurrently), then itself, passing the reason', async () => {
    const log: string[] = [];
    const life = new Lifecycle({ name: 'node', onClose: () => void log.push('node closed') });
    life.markRunning();
    const a = child('a', log);
    const b = child('b', log);
    life.track(a);
    life.track(b);
    const reason = StreamingError.channelFenced('ch');
    await life.close(reason);
    expect(log).toEqual(['a closed', 'b closed', 'node closed']);
    expect(a.reasons).toEqual([reason]);
    expect(life.signal.reason).toBe(reason);
    await expect(life.closed()).resolves.toBe(reason);
  });

  it('throws AggregateError when children or teardown fail, after running all of them', async () => {
    const log: string[] = [];
    const life = new Lifecycle({
      name: 'wal',
      onClose: () => {
        log.push('wal closed');
        throw new Error('teardown failed');
      },
    });
    life.markRunning();
    life.track(child('a', log, new Error('a failed')));
    life.track(child('b', log));
    const error = await life.close().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors.map((e: Error) => e.message)).toEqual(['a failed', 'teardown failed']);
    expect(log).toEqual(['a closed', 'b closed', 'wal closed']);
    // closed() never rejects; it reports the failure.
    await expect(life.closed()).resolves.toBe(error);
    await expect(life.close()).rejects.toBe(error);
  });

  it('untracked children are not closed', async () => {
    const log: string[] = [];
    const life = new Lifecycle({ name: 'p' });
    const untrack = life.track(child('a', log));
    expect(life.childCount).toBe(1);
    untrack();
    await life.close();
    expect(log).toEqual([]);
  });

  it('tracking after close begins closes the child and throws ON_SHUTDOWN', async () => {
    const log: string[] = [];
    const life = new Lifecycle({ name: 'p' });
    void life.close();
    expect(() => life.track(child('late', log))).toThrow(/p is closing/);
    await life.closed();
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['late closed']);
  });

  it('aborts its signal with ON_SHUTDOWN when closed without a StreamingError', async () => {
    const life = new Lifecycle({ name: 'scanner' });
    const cause = new Error('disk gone');
    await life.close(cause);
    const reason = life.signal.reason as StreamingError;
    expect(reason.isOnShutdown()).toBe(true);
    expect(reason.cause).toBe(cause);
    await expect(life.closed()).resolves.toBe(cause);
  });

  it('start(): a failing start closes with the error and rethrows it', async () => {
    const log: string[] = [];
    const life = new Lifecycle({ name: 'srv', onClose: () => void log.push('srv closed') });
    const boom = new Error('bind failed');
    await expect(
      life.start(() => {
        life.track(child('half-started', log));
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(life.status).toBe('closed');
    expect(log).toEqual(['half-started closed', 'srv closed']);
    await expect(life.closed()).resolves.toBe(boom);
  });

  it('start(): rejects with ON_SHUTDOWN if closed while starting', async () => {
    const life = new Lifecycle({ name: 'srv' });
    const gate = new Deferred<void>();
    const starting = life.start(() => gate.promise);
    await life.close();
    gate.resolve();
    await expect(starting).rejects.toSatisfy((e) => e instanceof StreamingError && e.isOnShutdown());
    expect(life.status).toBe('closed');
  });
});
