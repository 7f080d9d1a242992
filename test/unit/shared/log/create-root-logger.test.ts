import { describe, expect, it } from 'vitest';
import { StreamingError } from '../../../../shared/errors/index.js';
import { createRootLogger, noopLogger, type RootLoggerOptions } from '../../../../shared/log/index.js';

/** A root logger writing into memory; `lines()` parses what was written. */
function memoryLogger(options: Partial<RootLoggerOptions> = {}) {
  const written: string[] = [];
  const logger = createRootLogger({ service: 'node', env: {}, destination: { write: (s) => written.push(s) }, ...options });
  const lines = (): Record<string, unknown>[] => written.map((s) => JSON.parse(s) as Record<string, unknown>);
  return { logger, lines };
}

describe('createRootLogger', () => {
  it('writes JSON lines with base fields, textual level and message', () => {
    const { logger, lines } = memoryLogger({ nodeId: 7 });
    logger.info({ channel: 'by-dev-rootcoord-dml_0' }, 'assigned');
    const [line] = lines();
    expect(line).toMatchObject({ level: 'info', service: 'node', nodeId: '7', channel: 'by-dev-rootcoord-dml_0', msg: 'assigned', pid: process.pid });
    expect(typeof line?.['time']).toBe('string');
  });

  it('writes bigints (top level, nested, in child bindings) as decimal strings', () => {
    const { logger, lines } = memoryLogger({ nodeId: 2n ** 63n });
    const big = 2n ** 64n + 1n;
    logger
      .child({ component: 'wal', term: big })
      .child({ inner: { tick: 5n } })
      .warn({ id: 42n, list: [1n, { x: 2n }], plain: 3 }, 'tick');
    const [line] = lines();
    expect(line).toMatchObject({
      nodeId: '9223372036854775808',
      component: 'wal',
      term: '18446744073709551617',
      inner: { tick: '5' },
      id: '42',
      list: ['1', { x: '2' }],
      plain: 3,
    });
  });

  it('child bindings appear on every line of the child only', () => {
    const { logger, lines } = memoryLogger();
    const child = logger.child({ component: 'produce-server', channel: 'c1' });
    child.info({}, 'from child');
    logger.info({}, 'from root');
    const [a, b] = lines();
    expect(a).toMatchObject({ component: 'produce-server', channel: 'c1', msg: 'from child' });
    expect(b?.['component']).toBeUndefined();
  });

  it('serialises errors with their code', () => {
    const { logger, lines } = memoryLogger();
    logger.error({ err: StreamingError.channelFenced('c1') }, 'append failed');
    const err = lines()[0]?.['err'] as Record<string, unknown>;
    expect(err['message']).toBe('c1 fenced');
    expect(err['code']).toBe(2);
    expect(typeof err['stack']).toBe('string');
  });

  it('filters by level: explicit level, else STREAMING_LOG_LEVEL, else info', () => {
    const explicit = memoryLogger({ level: 'warn', env: { STREAMING_LOG_LEVEL: 'debug' } });
    explicit.logger.info({}, 'dropped');
    explicit.logger.warn({}, 'kept');
    expect(explicit.lines().map((l) => l['msg'])).toEqual(['kept']);

    const fromEnv = memoryLogger({ env: { STREAMING_LOG_LEVEL: 'DEBUG' } });
    fromEnv.logger.debug({}, 'kept');
    expect(fromEnv.lines()).toHaveLength(1);
    expect(fromEnv.logger.level).toBe('debug');

    const byDefault = memoryLogger();
    byDefault.logger.debug({}, 'dropped');
    byDefault.logger.info({}, 'kept');
    expect(byDefault.lines().map((l) => l['msg'])).toEqual(['kept']);
  });

  it('can change its level at run time', () => {
    const { logger, lines } = memoryLogger({ level: 'error' });
    logger.warn({}, 'dropped');
    logger.level = 'warn';
    expect(logger.isLevelEnabled('warn')).toBe(true);
    logger.warn({}, 'kept');
    expect(lines().map((l) => l['msg'])).toEqual(['kept']);
    expect(() => {
      logger.level = 'loud';
    }).toThrow(StreamingError);
  });

  it('rejects unknown levels with a clear error', () => {
    expect(() => memoryLogger({ env: { STREAMING_LOG_LEVEL: 'chatty' } })).toThrow(/invalid STREAMING_LOG_LEVEL: unknown log level "chatty"/);
  });
});

describe('noopLogger', () => {
  it('accepts calls and returns itself as child', () => {
    expect(() => noopLogger.info({ a: 1n }, 'x')).not.toThrow();
    expect(noopLogger.child({ component: 'x' })).toBe(noopLogger);
  });
});
