import { describe, expect, it, vi } from 'vitest';
import {
  type AppendFn,
  type AppendOutcome,
  type Interceptor,
  InterceptorChain,
  newAppendContext,
  RedoAppendError,
  type SettleHook,
} from '../../../../../node/wal/interceptors/index.js';
import type { Logger } from '../../../../../shared/log/index.js';
import { StreamingCode, StreamingError } from '../../../../../shared/errors/index.js';
import { type ImmutableMessage, MessageId, type MutableMessage, newTimeTickMessage } from '../../../../../shared/message/index.js';
import { Deferred } from '../../../../../shared/util/index.js';
import { expectCode, insert, isSettled, throwingHookInterceptor } from './fixtures.js';

/** An interceptor that records when it is entered and left. */
function recording(name: string, log: string[], extra: Partial<Interceptor> = {}): Interceptor {
  return {
    name,
    async doAppend(message, ctx, next) {
      log.push(`${name}>`);
      const id = await next(message, ctx);
      log.push(`<${name}`);
      return id;
    },
    close: () => {
      log.push(`close ${name}`);
    },
    ...extra,
  };
}

function backend(log: string[], id = 7): AppendFn {
  return (message: MutableMessage) => {
    log.push(`backend ${message.messageType}`);
    return Promise.resolve(message.intoImmutable(MessageId.of(id)));
  };
}

describe('InterceptorChain', () => {
  it('runs the onion: first interceptor outermost, backend innermost', async () => {
    const log: string[] = [];
    const chain = new InterceptorChain({ interceptors: [recording('a', log), recording('b', log)], append: backend(log) });
    expect(chain.names).toEqual(['a', 'b']);
    const message = insert();
    const stored = await chain.append(message, newAppendContext());
    expect(stored.messageId.equals(MessageId.of(7))).toBe(true);
    expect(stored.properties).toBe(message.properties);
    expect(log).toEqual(['a>', 'b>', 'backend 2', '<b', '<a']);
  });

  it('holds appends until every interceptor is ready', async () => {
    const log: string[] = [];
    const readyA = new Deferred<void>();
    const readyB = new Deferred<void>();
    const chain = new InterceptorChain({
      interceptors: [recording('a', log, { ready: () => readyA.promise }), recording('b', log, { ready: () => readyB.promise })],
      append: backend(log),
    });
    const pending = chain.append(insert(), newAppendContext());
    readyB.resolve();
    expect(await isSettled(pending)).toBe(false);
    expect(chain.isReady).toBe(false);
    readyA.resolve();
    await pending;
    expect(chain.isReady).toBe(true);
    expect(log).toContain('backend 2');
  });

  it('gives up waiting for readiness when the caller aborts or the chain closes', async () => {
    const never = new Deferred<void>();
    const chain = new InterceptorChain({ interceptors: [recording('a', [], { ready: () => never.promise })], append: backend([]) });
    const ac = new AbortController();
    const pending = chain.append(insert(), newAppendContext({ signal: ac.signal }));
    ac.abort(StreamingError.onShutdown('caller gone'));
    await expect(pending).rejects.toThrow('caller gone');

    const waiting = chain.ready();
    await chain.close();
    await expectCode(waiting, StreamingCode.ON_SHUTDOWN);
  });

  it('answers a not-persisted append with the hint id and writes nothing', async () => {
    const log: string[] = [];
    const chain = new InterceptorChain({ interceptors: [recording('a', log)], append: backend(log) });
    const tick = newTimeTickMessage({ timeTick: 10n, notPersisted: true, lastConfirmed: MessageId.of(3) });
    const stored = await chain.append(tick, newAppendContext({ notPersisted: { messageId: MessageId.of(3) } }));
    expect(stored.messageId.equals(MessageId.of(3))).toBe(true);
    expect(stored.properties).toBe(tick.properties);
    expect(log).toEqual(['a>', '<a']);

    // A `_np` message without the hint is refused, never written.
    await expectCode(chain.append(tick, newAppendContext()), StreamingCode.INNER);
    expect(log).not.toContain('backend 1');
  });

  it('redoes the whole chain when an inner interceptor asks, keeping only the last attempt result', async () => {
    const log: string[] = [];
    let redos = 2;
    const inner: Interceptor = {
      name: 'inner',
      async doAppend(message, ctx, next) {
        ctx.result.timeTick = BigInt(redos);
        if (redos-- > 0) throw new RedoAppendError('segment not ready');
        return next(message, ctx);
      },
      close: () => undefined,
    };
    const chain = new InterceptorChain({ interceptors: [recording('outer', log), inner], append: backend(log) });
    const ctx = newAppendContext();
    await chain.append(insert(), ctx);
    expect(log.filter((l) => l === 'outer>')).toHaveLength(3);
    expect(log.filter((l) => l.startsWith('backend'))).toHaveLength(1);
    expect(ctx.result.timeTick).toBe(0n);
  });

  it('stops redoing once the caller aborts', async () => {
    const ac = new AbortController();
    const inner: Interceptor = {
      name: 'inner',
      doAppend() {
        ac.abort(StreamingError.onShutdown('stop'));
        return Promise.reject(new RedoAppendError());
      },
      close: () => undefined,
    };
    const chain = new InterceptorChain({ interceptors: [inner], append: backend([]) });
    await expect(chain.append(insert(), newAppendContext({ signal: ac.signal }))).rejects.toThrow('stop');
  });

  it('graceful close winds interceptors down in order and swallows their failures', async () => {
    const log: string[] = [];
    const chain = new InterceptorChain({
      interceptors: [
        recording('a', log, { gracefulClose: () => Promise.reject(new Error('boom')) }),
        recording('b', log, {
          gracefulClose: () => {
            log.push('graceful b');
            return Promise.resolve();
          },
        }),
      ],
      append: backend(log),
    });
    await chain.gracefulClose();
    expect(log).toEqual(['graceful b']);
    // Appends still work after a graceful close.
    await chain.append(insert(), newAppendContext());
  });

  it('closes every interceptor once, reports failures together and refuses later appends', async () => {
    const log: string[] = [];
    const chain = new InterceptorChain({
      interceptors: [
        recording('a', log, {
          close: () => {
            log.push('close a');
            throw new Error('a failed');
          },
        }),
        recording('b', log),
      ],
      append: backend(log),
    });
    const first = chain.close();
    expect(chain.close()).toBe(first);
    await expect(first).rejects.toBeInstanceOf(AggregateError);
    expect(log).toEqual(['close a', 'close b']);
    await expectCode(chain.append(insert(), newAppendContext()), StreamingCode.ON_SHUTDOWN);
  });
});

/** Records every settle as `<hook name> <state> ok|<error message>`. */
const recordSettle = (log: string[], name: string): SettleHook<string> => ({
  appendSettled: (state, stored, error) => {
    log.push(`${name} ${state} ${stored !== undefined ? 'ok' : (error as Error).message}`);
  },
});

/**
 * Registers `hooks` settle hooks per attempt (states `#<attempt>.<i>`), then goes on without any
 * reaction of its own, like the WAL's fast paths.
 */
function hooking(name: string, log: string[], hooks = 1): Interceptor {
  const hook = recordSettle(log, name);
  let attempt = 0;
  return {
    name,
    doAppend(message, ctx, next) {
      attempt++;
      for (let i = 0; i < hooks; i++) ctx.onSettled(hook, `#${attempt}.${i}`);
      return next(message, ctx);
    },
    close: () => undefined,
  };
}

function spyLogger(): Logger & { error: ReturnType<typeof vi.fn> } {
  const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn(), child: () => logger };
  return logger;
}

const ready = async (chain: InterceptorChain): Promise<InterceptorChain> => {
  await chain.ready();
  return chain;
};

describe('InterceptorChain settle hooks', () => {
  it('runs every hook once, innermost first, before the caller resumes', async () => {
    const log: string[] = [];
    const chain = await ready(
      new InterceptorChain({ interceptors: [hooking('outer', log), hooking('inner', log, 3)], append: backend(log) }),
    );
    await chain.append(insert(), newAppendContext());
    log.push('caller');
    // Five hooks: two in fields, three in the overflow array; all in reverse registration order.
    expect(log).toEqual(['backend 2', 'inner #1.2 ok', 'inner #1.1 ok', 'inner #1.0 ok', 'outer #1.0 ok', 'caller']);
  });

  it('runs the hooks with the error when the backend rejects or an interceptor throws synchronously', async () => {
    const log: string[] = [];
    const failing = await ready(
      new InterceptorChain({ interceptors: [hooking('outer', log), hooking('inner', log)], append: () => Promise.reject(new Error('disk full')) }),
    );
    await expect(failing.append(insert(), newAppendContext())).rejects.toThrow('disk full');
    expect(log).toEqual(['inner #1.0 disk full', 'outer #1.0 disk full']);

    log.length = 0;
    const throwing: Interceptor = {
      name: 'throwing',
      doAppend: () => {
        throw new Error('thrown, not rejected');
      },
      close: () => undefined,
    };
    const chain = await ready(new InterceptorChain({ interceptors: [hooking('outer', log), throwing], append: backend(log) }));
    await expect(chain.append(insert(), newAppendContext())).rejects.toThrow('thrown, not rejected');
    expect(log).toEqual(['outer #1.0 thrown, not rejected']);
  });

  it('a throwing hook is logged and neither skips the other hooks nor fails the append', async () => {
    const log: string[] = [];
    const logger = spyLogger();
    const bad = throwingHookInterceptor('bad');
    const chain = await ready(
      new InterceptorChain({ interceptors: [hooking('outer', log), bad, hooking('inner', log)], append: backend(log), logger }),
    );
    const stored = await chain.append(insert(), newAppendContext());
    expect(stored.messageId.equals(MessageId.of(7))).toBe(true);
    expect(log).toEqual(['backend 2', 'inner #1.0 ok', 'outer #1.0 ok']);
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(logger.error.mock.calls[0]?.[0]).toMatchObject({ err: new Error('hook bug') });
  });

  it('on a redo, runs the failed attempt\'s hooks with the redo error before the next attempt, with an emptied result', async () => {
    const log: string[] = [];
    let redos = 1;
    const inner: Interceptor = {
      name: 'inner',
      doAppend(message, ctx, next) {
        log.push(`inner> result=${String(ctx.result.timeTick)}`);
        ctx.result.timeTick = BigInt(10 + redos);
        if (redos-- > 0) return Promise.reject(new RedoAppendError('segment not ready'));
        return next(message, ctx);
      },
      close: () => undefined,
    };
    const chain = await ready(new InterceptorChain({ interceptors: [hooking('outer', log), inner], append: backend(log) }));
    const ctx = newAppendContext();
    await chain.append(insert(), ctx);
    expect(log).toEqual([
      'inner> result=undefined',
      'outer #1.0 segment not ready',
      'inner> result=undefined',
      'backend 2',
      'outer #2.0 ok',
    ]);
    expect(ctx.result.timeTick).toBe(10n);
  });

  it('runs the hooks on the first append, which waits for readiness', async () => {
    const log: string[] = [];
    const chain = new InterceptorChain({ interceptors: [hooking('outer', log), hooking('inner', log)], append: backend(log) });
    expect(chain.isReady).toBe(false);
    await chain.append(insert(), newAppendContext());
    log.push('caller');
    expect(log).toEqual(['backend 2', 'inner #1.0 ok', 'outer #1.0 ok', 'caller']);
  });

  it('appendThen hands the outcome over once, after the hooks', async () => {
    const log: string[] = [];
    const outcome: AppendOutcome<string> = {
      appended: (stored: ImmutableMessage) => {
        log.push('appended');
        return `id ${stored.messageId.toString()}`;
      },
      failed: (error) => {
        log.push(`failed ${(error as Error).message}`);
      },
    };
    const chain = await ready(new InterceptorChain({ interceptors: [hooking('a', log)], append: backend(log) }));
    expect(await chain.appendThen(insert(), newAppendContext(), outcome)).toBe(`id ${MessageId.of(7).toString()}`);
    expect(log).toEqual(['backend 2', 'a #1.0 ok', 'appended']);

    log.length = 0;
    let redo = true;
    const redoThenFail: AppendFn = () => {
      const error = redo ? new RedoAppendError('again') : new Error('down');
      redo = false;
      return Promise.reject(error);
    };
    const failing = await ready(new InterceptorChain({ interceptors: [hooking('a', log)], append: redoThenFail }));
    await expect(failing.appendThen(insert(), newAppendContext(), outcome)).rejects.toThrow('down');
    expect(log).toEqual(['a #1.0 again', 'a #2.0 down', 'failed down']);
  });

  it('hands a failed backend write to retryAppend before any hook, and the hooks learn what the retry ended with', async () => {
    for (const waitsForReadiness of [false, true]) {
      const log: string[] = [];
      let failNext = 1;
      const flaky: AppendFn = (message) => {
        log.push('backend');
        return failNext-- > 0 ? Promise.reject(new Error('hiccup')) : Promise.resolve(message.intoImmutable(MessageId.of(9)));
      };
      const stamping: Interceptor = {
        name: 'stamping',
        doAppend: (message, ctx, next) => next(message.withProperties({ stamped: 'yes' }), ctx),
        close: () => undefined,
      };
      const chain = new InterceptorChain({
        interceptors: [hooking('outer', log), stamping],
        append: flaky,
        retryAppend: (message, _ctx, error) => {
          log.push(`retry ${message.property('stamped')} ${(error as Error).message}`);
          return flaky(message, newAppendContext());
        },
      });
      if (!waitsForReadiness) await chain.ready();
      const stored = await chain.append(insert(), newAppendContext());
      expect(stored.messageId.equals(MessageId.of(9))).toBe(true);
      expect(log).toEqual(['backend', 'retry yes hiccup', 'backend', 'outer #1.0 ok']);
    }
  });

  it('retryAppend sees only backend failures, and its own failure is the attempt\'s', async () => {
    const log: string[] = [];
    const throwing: Interceptor = {
      name: 'throwing',
      doAppend: () => Promise.reject(new Error('interceptor said no')),
      close: () => undefined,
    };
    const retryAppend = (_message: MutableMessage, _ctx: unknown, error: unknown): Promise<ImmutableMessage> => {
      log.push(`retry ${(error as Error).message}`);
      return Promise.reject(new Error('gave up'));
    };
    const refusing = await ready(new InterceptorChain({ interceptors: [hooking('outer', log), throwing], append: backend(log), retryAppend }));
    await expect(refusing.append(insert(), newAppendContext())).rejects.toThrow('interceptor said no');
    expect(log).toEqual(['outer #1.0 interceptor said no']);

    log.length = 0;
    const down = await ready(
      new InterceptorChain({ interceptors: [hooking('outer', log)], append: () => Promise.reject(new Error('disk gone')), retryAppend }),
    );
    await expect(down.append(insert(), newAppendContext())).rejects.toThrow('gave up');
    expect(log).toEqual(['retry disk gone', 'outer #1.0 gave up']);
  });
});
