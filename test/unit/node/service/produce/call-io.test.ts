/**
 * The send side's writer on plain object-mode streams: writes in order, nothing written while
 * `write()` returned false before 'drain', aborts and close. (The recv arm's CallReader lives in
 * shared/: test/unit/shared/grpc/call-reader.test.ts.)
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CallWriter } from '../../../../../node/service/produce/index.js';
import { StreamingError } from '../../../../../shared/index.js';

const never = new AbortController().signal;

/** An object-mode sink whose writes complete only when `flush()` is called. */
class SlowSink extends Writable {
  readonly seen: unknown[] = [];
  readonly #pending: Array<() => void> = [];
  writesWhileFull = 0;

  constructor() {
    super({ objectMode: true, highWaterMark: 2 });
  }

  override write(chunk: unknown, ...rest: unknown[]): boolean {
    if (this.writableNeedDrain) this.writesWhileFull += 1;
    return super.write(chunk, ...(rest as []));
  }

  override _write(chunk: unknown, _e: BufferEncoding, callback: () => void): void {
    this.seen.push(chunk);
    this.#pending.push(callback);
  }

  flush(): void {
    for (let cb = this.#pending.shift(); cb !== undefined; cb = this.#pending.shift()) cb();
  }
}

describe('CallWriter', () => {
  it('writes in call order and never while the sink asked to wait for drain', async () => {
    const sink = new SlowSink();
    const writer = new CallWriter<number>(sink, never);
    const writes = [1, 2, 3, 4, 5].map((n) => writer.write(n));
    await writes[1];
    expect(writer.stats().waitingForDrain).toBe(false);
    // Two frames fill the sink; the third waits for 'drain'.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(writer.stats().waitingForDrain).toBe(true);
    for (let i = 0; i < 5; i++) {
      sink.flush();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await Promise.all(writes);
    expect(sink.seen).toEqual([1, 2, 3, 4, 5]);
    expect(sink.writesWhileFull).toBe(0);
    expect(writer.stats()).toMatchObject({ written: 5, waitingForDrain: false });
    expect(writer.stats().drainWaits).toBeGreaterThan(0);
  });

  it('a write aborted while waiting is dropped; later writes go on', async () => {
    const sink = new SlowSink();
    const writer = new CallWriter<string>(sink, never);
    await writer.write('a');
    await writer.write('b');
    const abort = new AbortController();
    const dropped = writer.write('dropped', abort.signal);
    const kept = writer.write('kept');
    abort.abort(StreamingError.onShutdown('consumer closed'));
    await expect(dropped).rejects.toThrow('consumer closed');
    sink.flush();
    await kept;
    expect(sink.seen).toContain('kept');
    expect(sink.seen).not.toContain('dropped');
  });

  it('refuses writes after close, and everything once its own signal aborted', async () => {
    const sink = new SlowSink();
    const cancelled = new AbortController();
    const writer = new CallWriter<string>(sink, cancelled.signal);
    writer.close(StreamingError.onShutdown('ending'));
    await expect(writer.write('x')).rejects.toThrow('ending');
    const other = new CallWriter<string>(new SlowSink(), cancelled.signal);
    cancelled.abort(StreamingError.onShutdown('client went away'));
    await expect(other.write('y')).rejects.toThrow('client went away');
  });
});
