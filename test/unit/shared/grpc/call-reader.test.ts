/**
 * CallReader on plain object-mode streams, without sockets: requests one at a time with the call
 * paused in between, end of stream, stream errors, and abort without losing a later request.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CallReader, StreamingCode, StreamingError } from '../../../../shared/index.js';

const never = new AbortController().signal;
const shutdown = (): AbortController => new AbortController();

describe('CallReader', () => {
  it('hands out requests one at a time, pausing the call in between, then undefined at the end', async () => {
    const call = new PassThrough({ objectMode: true });
    const reader = new CallReader<string>(call);
    call.write('a');
    call.write('b');
    expect(await reader.next(never)).toBe('a');
    expect(call.isPaused()).toBe(true);
    expect(await reader.next(never)).toBe('b');
    call.end();
    expect(await reader.next(never)).toBeUndefined();
    expect(await reader.next(never)).toBeUndefined();
  });

  it('reads requests in order, one at a time, then undefined at end of stream', async () => {
    const call = new PassThrough({ objectMode: true });
    const reader = new CallReader<{ n: number }>(call);
    const signal = shutdown().signal;
    call.write({ n: 1 });
    call.write({ n: 2 });
    call.end();
    expect(await reader.next(signal)).toEqual({ n: 1 });
    expect(call.isPaused()).toBe(true);
    expect(await reader.next(signal)).toEqual({ n: 2 });
    expect(await reader.next(signal)).toBeUndefined();
    reader.dispose();
  });

  it('rejects with the stream error', async () => {
    const call = new PassThrough({ objectMode: true });
    const reader = new CallReader<string>(call);
    const next = reader.next(never);
    call.emit('error', new Error('broken'));
    await expect(next).rejects.toThrow('broken');
  });

  it('waits for a request, fails with the stream error, and can be abandoned by abort', async () => {
    const call = new PassThrough({ objectMode: true });
    const reader = new CallReader<string>(call);
    const ctl = shutdown();
    const pending = reader.next(ctl.signal);
    call.write('late');
    expect(await pending).toBe('late');

    const aborted = reader.next(ctl.signal);
    ctl.abort(StreamingError.onShutdown('stop'));
    await expect(aborted).rejects.toMatchObject({ code: StreamingCode.ON_SHUTDOWN });

    const signal = shutdown().signal;
    const failing = reader.next(signal);
    call.emit('error', new Error('broken pipe'));
    await expect(failing).rejects.toThrow('broken pipe');
    reader.dispose();
  });

  it('an abort rejects the waiting next() and a later request is still delivered', async () => {
    const call = new PassThrough({ objectMode: true });
    const reader = new CallReader<string>(call);
    const abort = new AbortController();
    const waiting = reader.next(abort.signal);
    abort.abort(StreamingError.onShutdown('wal gone'));
    await expect(waiting).rejects.toThrow('wal gone');
    call.write('late');
    expect(await reader.next(never)).toBe('late');
  });
});
