/**
 * The bidi building blocks of the discovery server, without sockets: LatestSlot (latest value
 * wins, bursts collapse) and CallWriter (one write in flight, abort while blocked). CallReader
 * lives in shared/ (test/unit/shared/grpc/call-reader.test.ts).
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
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
