/**
 * WAL conformance: closing under load (no hang, in-flight appends settle, nothing acknowledged is
 * lost), the read-only WAL, and the real opener under the WAL manager.
 */
import { expect, it } from 'vitest';
import { WalManager } from '../../node/wal-manager/index.js';
import type { AppendResult, ScannedMessage, Wal } from '../../node/wal/index.js';
import {
  deliverAll,
  MessageType,
  pchannelInfo,
  StreamingCode,
  type StreamingError,
  waitFor,
} from '../../shared/index.js';
import {
  channels,
  expectCode,
  expectThrowsCode,
  insert,
  propertyOf,
  readUntil,
  suiteOpener,
  type WalSuiteFactory,
} from './wal-suite-fixture.js';

const OPEN = { signal: new AbortController().signal };

interface Settled {
  readonly result: AppendResult | undefined;
  readonly error: unknown;
}

/** Reads until the scanner ends; returns what it got and how it ended. */
async function drain(wal: Wal): Promise<{ messages: ScannedMessage[]; error: unknown }> {
  const messages: ScannedMessage[] = [];
  try {
    for await (const m of wal.read({ deliverPolicy: deliverAll() })) if (m.messageType !== MessageType.TimeTick) messages.push(m);
    return { messages, error: undefined };
  } catch (error) {
    return { messages, error };
  }
}

/** Registers the lifecycle cases. */
export function describeLifecycle(factory: WalSuiteFactory): void {
  it('close during appends and reads: no hang, appends settle, acknowledged ones survive', async () => {
    const env = await factory();
    try {
      const { pchannel, v1 } = channels('closing');
      const wal = await suiteOpener(env.backendOpener).open(pchannelInfo(pchannel, 1n), OPEN);
      const reading = drain(wal);
      const appends = Array.from({ length: 300 }, (_, i) =>
        wal.append(insert(v1, { id: `c${i}` })).then(
          (result): Settled => ({ result, error: undefined }),
          (error: unknown): Settled => ({ result: undefined, error }),
        ),
      );
      await appends[0];
      const closing = wal.close();
      expect(wal.close()).toBe(closing);
      expect(wal.isAvailable()).toBe(false);
      const settled = await Promise.all(appends);
      await closing;
      for (const s of settled) {
        if (s.error !== undefined) expect((s.error as StreamingError).code).toBe(StreamingCode.ON_SHUTDOWN);
      }
      const read = await reading;
      if (read.error !== undefined) expect((read.error as StreamingError).code).toBe(StreamingCode.ON_SHUTDOWN);
      await expectCode(wal.append(insert(v1)), StreamingCode.ON_SHUTDOWN);
      expectThrowsCode(() => wal.read({ deliverPolicy: deliverAll() }), StreamingCode.ON_SHUTDOWN);

      expect(settled.filter((s) => s.result !== undefined).length).toBeGreaterThan(0);
      const reopened = await suiteOpener(env.backendOpener).open(pchannelInfo(pchannel, 2n), OPEN);
      await reopened.append(insert(v1, { id: 'last' }));
      const all = await readUntil(reopened, { deliverPolicy: deliverAll() }, (m) => propertyOf(m, 'id') === 'last');
      const ids = new Set(all.map((m) => m.messageId.toString()));
      for (const s of settled) if (s.result !== undefined) expect(ids.has(s.result.messageId.toString())).toBe(true);
      await reopened.close();
    } finally {
      await env.cleanup();
    }
  });

  it('read-only WAL: refuses appends, reads and tails without fencing the writer', async () => {
    const env = await factory();
    try {
      const { pchannel, v1 } = channels('readonly');
      const writer = await suiteOpener(env.backendOpener).open(pchannelInfo(pchannel, 1n), OPEN);
      await writer.append(insert(v1, { id: 'w1' }));
      const reader = await suiteOpener(env.backendOpener).open(pchannelInfo(pchannel, 1n, 'ro'), OPEN);
      expect(reader.channel.accessMode).toBe('ro');
      expect(reader.metrics().mvccTimeTick).toBeUndefined();
      await expectCode(reader.append(insert(v1)), StreamingCode.INVAILD_ARGUMENT);
      const tail = readUntil(reader, { deliverPolicy: deliverAll(), vchannel: v1 }, (m) => propertyOf(m, 'id') === 'w2');
      await writer.append(insert(v1, { id: 'w2' }));
      expect((await tail).map((m) => propertyOf(m, 'id'))).toEqual(['w1', 'w2']);
      expect(writer.isAvailable()).toBe(true);
      await reader.close();
      await expectCode(reader.append(insert(v1)), StreamingCode.ON_SHUTDOWN);
      await writer.close();
    } finally {
      await env.cleanup();
    }
  });

  it('under the WAL manager: open, getAvailableWal, newer term replaces, remove', async () => {
    const env = await factory();
    const manager = new WalManager({ opener: suiteOpener(env.backendOpener) });
    try {
      const { pchannel, v1 } = channels('manager');
      await manager.open(pchannelInfo(pchannel, 1n));
      const first = manager.getAvailableWal(pchannelInfo(pchannel, 1n));
      await first.append(insert(v1, { id: 'm1' }));
      await manager.open(pchannelInfo(pchannel, 2n));
      expect(first.isAvailable()).toBe(false);
      expectThrowsCode(() => manager.getAvailableWal(pchannelInfo(pchannel, 1n)), StreamingCode.UNMATCHED_CHANNEL_TERM);
      const second = manager.getAvailableWal(pchannelInfo(pchannel, 2n));
      await second.append(insert(v1, { id: 'm2' }));
      const read = await readUntil(second as Wal, { deliverPolicy: deliverAll() }, (m) => propertyOf(m, 'id') === 'm2');
      expect(read.map((m) => propertyOf(m, 'id'))).toEqual(['m1', 'm2']);
      expect(manager.list().map((w) => w.metrics().channel.term)).toEqual([2n]);
      await manager.remove(pchannelInfo(pchannel, 2n));
      expectThrowsCode(() => manager.getAvailableWal(pchannelInfo(pchannel, 2n)), StreamingCode.CHANNEL_NOT_EXIST);
      await expectCode(manager.open(pchannelInfo(pchannel, 1n)), StreamingCode.IGNORED_OPERATION);
      await manager.open(pchannelInfo(pchannel, 3n));
      await waitFor(() => manager.getAvailableWal(pchannelInfo(pchannel, 3n)).isAvailable());
    } finally {
      await manager.close();
      await env.cleanup();
    }
  });
}
