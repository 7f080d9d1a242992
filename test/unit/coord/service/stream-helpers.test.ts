/**
 * The bidi building blocks of the discovery server, without sockets: LatestSlot (latest value
 * wins, bursts collapse), CallReader (one request at a time, EOF, errors, abort) and CallWriter
 * (one write in flight, abort while blocked).
 */
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CallReader } from '../../../../coord/service/call-reader.js';
import { CallWriter } from '../../../../coord/service/call-writer.js';
import { LatestSlot } from '../../../../coord/service/latest-slot.js';
import { StreamingCode, StreamingError } from '../../../../shared/index.js';

const shutdown = (): AbortController => new AbortController();

describe('LatestSlot', () => {
  it('hands a waiting consumer only the last value of a synchronous burst', async () => {
    const slot = new LatestSlot<number>();
    const signal = shutdown().signal;
    const taken = slot.take(signal);
    for (let i = 1; i <= 5; i++) slot.set(i);
    expect(await taken).toBe(5);
    slot.set(6);
    slot.set(7);
    expect(await slot.take(signal)).toBe(7);
  });

  it('delivers the unread value before completion or failure', async () => {
    const signal = shutdown().signal;
    const done = new LatestSlot<string>();
    done.set('last');
    done.complete();
    done.set('ignored');
    expect(await done.take(signal)).toBe('last');
    expect(await done.take(signal)).toBeUndefined();

    const failed = new LatestSlot<string>();
    failed.set('before');
    failed.fail(StreamingError.inner('boom'));
    expect(await failed.take(signal)).toBe('before');
    await expect(failed.take(signal)).rejects.toThrow('boom');
  });

  it('rejects a waiting take with the abort reason', async () => {
    const slot = new LatestSlot<number>();
    const ctl = shutdown();
    const taken = slot.take(ctl.signal);
    ctl.abort(StreamingError.onShutdown('bye'));
    await expect(taken).rejects.toMatchObject({ code: StreamingCode.ON_SHUTDOWN, message: 'bye' });
  });
});

describe('CallReader', () => {
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
});

describe('CallWriter', () => {
  it('keeps one write in flight and resolves when the call took it', async () => {
    const callbacks: (() => void)[] = [];
    const sink = new Writable({ objectMode: true, write: (_chunk, _enc, cb) => callbacks.push(() => cb()) });
    const writer = new CallWriter<string>(sink);
    const signal = shutdown().signal;
    const first = writer.write('a', signal);
    expect(writer.stats()).toMatchObject({ inFlight: 1, maxInFlight: 1, maxQueued: 1, written: 0 });
    callbacks.shift()!();
    await first;
    expect(writer.stats()).toMatchObject({ inFlight: 0, written: 1 });
  });

  it('gives up waiting on abort; the write stays queued', async () => {
    const sink = new Writable({ objectMode: true, write: () => undefined }); // never completes
    const writer = new CallWriter<string>(sink);
    const ctl = shutdown();
    const blocked = writer.write('a', ctl.signal);
    ctl.abort(StreamingError.onShutdown('client gone'));
    await expect(blocked).rejects.toMatchObject({ message: 'client gone' });
    expect(writer.stats().inFlight).toBe(1);
    await expect(writer.write('b', ctl.signal)).rejects.toMatchObject({ message: 'client gone' });
  });
});
