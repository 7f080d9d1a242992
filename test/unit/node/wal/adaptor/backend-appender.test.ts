/**
 * The innermost append: which backend failures are retried (INNER only), and how retrying stops.
 */
import { describe, expect, it } from 'vitest';
import { BackendAppender } from '../../../../../node/wal/adaptor/index.js';
import { MessageId, noopLogger, StreamingCode, StreamingError } from '../../../../../shared/index.js';
import { expectCode, insert } from './fixtures.js';

function appender(failures: Error[], availability = new AbortController().signal) {
  const fenced: StreamingError[] = [];
  let calls = 0;
  const backend = {
    append: () => {
      calls++;
      const failure = failures.shift();
      return failure === undefined ? Promise.resolve(MessageId.of(42n)) : Promise.reject(failure);
    },
  };
  const instance = new BackendAppender({
    backend,
    availability,
    backoff: { initialMs: 1, maxMs: 2, multiplier: 2, jitter: 0 },
    onFenced: (e) => fenced.push(e),
    logger: noopLogger,
  });
  return { instance, fenced, calls: () => calls };
}

describe('BackendAppender', () => {
  it('retries INNER failures and resolves with the id', async () => {
    const { instance, calls } = appender([StreamingError.inner('a'), StreamingError.inner('b')]);
    expect((await instance.append(insert(), undefined)).messageId.offset).toBe(42n);
    expect(calls()).toBe(3);
  });

  it('reports CHANNEL_FENCED and does not retry it', async () => {
    const { instance, fenced, calls } = appender([StreamingError.inner('a'), StreamingError.channelFenced('p')]);
    await expectCode(instance.append(insert(), undefined), StreamingCode.CHANNEL_FENCED);
    expect(fenced).toHaveLength(1);
    expect(calls()).toBe(2);
  });

  it('does not retry other errors (shutdown, bad input, bugs)', async () => {
    for (const failure of [StreamingError.onShutdown('closed'), StreamingError.invalidArgument('x', 'bad')]) {
      const { instance, calls } = appender([failure]);
      await expect(instance.append(insert(), undefined)).rejects.toBe(failure);
      expect(calls()).toBe(1);
    }
    const bug = new TypeError('oops');
    const { instance } = appender([bug]);
    await expect(instance.append(insert(), undefined)).rejects.toMatchObject({ cause: bug });
  });

  it('stops retrying with the availability reason once the WAL is unavailable', async () => {
    const availability = new AbortController();
    availability.abort(StreamingError.onShutdown('wal closing'));
    const { instance, calls } = appender([StreamingError.inner('a'), StreamingError.inner('b')], availability.signal);
    await expectCode(instance.append(insert(), undefined), StreamingCode.ON_SHUTDOWN);
    expect(calls()).toBe(1);
  });
});
