import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRootLogger, Deferred, type ProcessService, runUntilSignal, StreamingError, waitFor } from '../../../../shared/index.js';

/** A signal nothing else in the test process listens to, delivered with process.emit. */
const SIGNAL: NodeJS.Signals = 'SIGUSR2';

/** A controllable service: `started` / `stoppedByItself` are resolved by the test. */
function fakeService(options: { closeFails?: boolean } = {}) {
  const started = new Deferred<{ port: number }>();
  const stoppedByItself = new Deferred<void>();
  const calls: string[] = [];
  const service: ProcessService<{ port: number }> = {
    start: () => (calls.push('start'), started.promise),
    close: async () => {
      calls.push('close');
      // A close during start makes the start fail with ON_SHUTDOWN, as the real servers do.
      started.reject(StreamingError.onShutdown('closed while starting'));
      if (options.closeFails === true) throw new Error('close failed');
    },
    closed: () => stoppedByItself.promise,
  };
  return { service, started, stoppedByItself, calls };
}

function run(service: ProcessService<{ port: number }>, exit: (code: number) => void = () => undefined) {
  const lines: string[] = [];
  const done = runUntilSignal({
    name: 'fake',
    service,
    ready: (info) => ({ role: 'fake', port: info.port }),
    logger: createRootLogger({ service: 'test', level: 'silent' }),
    stdout: { write: (text: string) => lines.push(text) },
    signals: [SIGNAL],
    exit,
  });
  return { done, lines };
}

afterEach(() => {
  process.removeAllListeners(SIGNAL);
});

describe('runUntilSignal', () => {
  it('prints one ready line once started, stops on the signal with exit code 0, and removes its handler', async () => {
    const fake = fakeService();
    const { done, lines } = run(fake.service);
    fake.started.resolve({ port: 4321 });
    await waitFor(() => lines.length === 1, { timeoutMs: 2_000 });
    expect(lines).toEqual(['{"msg":"ready","role":"fake","port":4321}\n']);
    expect(process.listenerCount(SIGNAL)).toBe(1);
    process.emit(SIGNAL, SIGNAL);
    expect(await done).toBe(0);
    expect(fake.calls).toEqual(['start', 'close']);
    expect(process.listenerCount(SIGNAL)).toBe(0);
  });

  it('answers 1 and closes when the start fails, without a ready line', async () => {
    const fake = fakeService();
    const { done, lines } = run(fake.service);
    fake.started.reject(new Error('port in use'));
    expect(await done).toBe(1);
    expect(lines).toEqual([]);
    expect(fake.calls).toEqual(['start', 'close']);
  });

  it('treats a signal during the start as a clean stop (0), without a ready line', async () => {
    const fake = fakeService();
    const { done, lines } = run(fake.service);
    process.emit(SIGNAL, SIGNAL);
    expect(await done).toBe(0);
    expect(lines).toEqual([]);
    expect(fake.calls).toEqual(['start', 'close']);
  });

  it('answers 1 when the service stops on its own', async () => {
    const fake = fakeService();
    const { done, lines } = run(fake.service);
    fake.started.resolve({ port: 1 });
    await waitFor(() => lines.length === 1, { timeoutMs: 2_000 });
    fake.stoppedByItself.resolve();
    expect(await done).toBe(1);
    expect(fake.calls).toEqual(['start', 'close']);
  });

  it('answers 1 when closing fails', async () => {
    const fake = fakeService({ closeFails: true });
    const { done, lines } = run(fake.service);
    fake.started.resolve({ port: 1 });
    await waitFor(() => lines.length === 1, { timeoutMs: 2_000 });
    process.emit(SIGNAL, SIGNAL);
    expect(await done).toBe(1);
  });

  it('exits at once with 1 on a second signal while stopping', async () => {
    const fake = fakeService();
    const closing = new Deferred<void>();
    const exit = vi.fn<(code: number) => void>();
    const slow: ProcessService<{ port: number }> = { ...fake.service, close: () => closing.promise };
    const { done, lines } = run(slow, exit);
    fake.started.resolve({ port: 1 });
    await waitFor(() => lines.length === 1, { timeoutMs: 2_000 });
    process.emit(SIGNAL, SIGNAL);
    process.emit(SIGNAL, SIGNAL);
    expect(exit).toHaveBeenCalledExactlyOnceWith(1);
    closing.resolve();
    expect(await done).toBe(0);
  });
});
