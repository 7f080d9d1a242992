import { describe, expect, it } from 'vitest';
import {
  type AppendFn,
  type Interceptor,
  InterceptorChain,
  newAppendContext,
  RedoAppendError,
} from '../../../../../node/wal/interceptors/index.js';
import { StreamingCode, StreamingError } from '../../../../../shared/errors/index.js';
import { MessageId, type MutableMessage, newTimeTickMessage } from '../../../../../shared/message/index.js';
import { Deferred } from '../../../../../shared/util/index.js';
import { expectCode, insert, isSettled } from './fixtures.js';

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
