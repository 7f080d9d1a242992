/**
 * The read-write WAL adaptor on a memory backend with injected faults: append results and
 * stamping, retry of transient backend errors, fencing noticed by any write, scanner registry,
 * metrics, open failures and close.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WalAdaptor, WalOpener } from '../../../../../node/wal/index.js';
import {
  deliverAll,
  MessageType,
  pchannelInfo,
  StreamingCode,
  StreamingError,
  waitFor,
} from '../../../../../shared/index.js';
import { expectCode, expectThrowsCode, FaultyBackendOpener, insert, OPEN, openWal, PCHANNEL, V1 } from './fixtures.js';

const openers: FaultyBackendOpener[] = [];
function backendOpener(): FaultyBackendOpener {
  const opener = new FaultyBackendOpener();
  openers.push(opener);
  return opener;
}
afterEach(async () => {
  await Promise.allSettled(openers.splice(0).map((o) => o.close()));
});

describe('WalAdaptor', () => {
  it('stamps _wt, _tt and _lc and reports them in the append result', async () => {
    const wal = await openWal(backendOpener(), { term: 4n });
    const first = await wal.append(insert(V1, { k: '1' }));
    const second = await wal.append(insert(V1, { k: '2' }));
    expect(second.timeTick).toBeGreaterThan(first.timeTick);
    expect(second.messageId.gt(first.messageId)).toBe(true);
    expect(first.lastConfirmedMessageId.lte(first.messageId)).toBe(true);
    const scanner = wal.read({ deliverPolicy: deliverAll() });
    const seen = [];
    for await (const m of scanner) {
      if (m.messageType !== MessageType.Insert) continue;
      seen.push(m);
      if (seen.length === 2) break;
    }
    const stored = seen[0];
    if (stored === undefined || 'commit' in stored) throw new Error('expected a plain message');
    expect(stored.walTerm).toBe(4n);
    expect(stored.timeTick).toBe(first.timeTick);
    expect(stored.lastConfirmedMessageId.equals(first.lastConfirmedMessageId)).toBe(true);
    await wal.close();
  });

  it('names scanners <pchannel>/<term>/<seq> and forgets them when they end', async () => {
    const wal = await openWal(backendOpener(), { term: 2n });
    const a = wal.read({ name: 'consumer-a', deliverPolicy: deliverAll() });
    const b = wal.read({ deliverPolicy: deliverAll() });
    expect([a.name, b.name]).toEqual([`${PCHANNEL}/2/0`, `${PCHANNEL}/2/1`]);
    expect(wal.scannerCount).toBe(2);
    await a.close();
    await waitFor(() => wal.scannerCount === 1);
    const controller = new AbortController();
    const c = wal.read({ deliverPolicy: deliverAll(), signal: controller.signal });
    controller.abort(StreamingError.onShutdown('consumer left'));
    expect((await c.closed())?.code).toBe(StreamingCode.ON_SHUTDOWN);
    await waitFor(() => wal.scannerCount === 1);
    expectThrowsCode(() => wal.read({ deliverPolicy: deliverAll(), filters: [{ kind: 'messageType', types: [MessageType.TimeTick] }] }), StreamingCode.INVAILD_ARGUMENT);
    await wal.close();
    expect(wal.scannerCount).toBe(0);
    expect((await b.closed())?.code).toBe(StreamingCode.ON_SHUTDOWN);
  });

  it('retries transient backend errors until the append lands', async () => {
    const opener = backendOpener();
    const wal = await openWal(opener);
    const backend = opener.backends[0];
    if (backend === undefined) throw new Error('no backend');
    let failures = 3;
    backend.appendFault = (m) => (m?.messageType === MessageType.Insert && failures-- > 0 ? StreamingError.inner('disk hiccup') : undefined);
    const calls = backend.appendCalls;
    const result = await wal.append(insert());
    expect(failures).toBe(-1);
    expect(backend.appendCalls - calls).toBeGreaterThanOrEqual(4);
    expect(result.messageId).toBeDefined();
    expect(wal.isAvailable()).toBe(true);
    await wal.close();
  });

  it('ends retries with ON_SHUTDOWN when the WAL closes, and close does not hang', async () => {
    const opener = backendOpener();
    const wal = await openWal(opener, { config: { appendBackoff: { initialMs: 5, maxMs: 5, multiplier: 1, jitter: 0 } } });
    const backend = opener.backends[0];
    if (backend === undefined) throw new Error('no backend');
    backend.appendFault = (m) => (m?.messageType === MessageType.Insert ? StreamingError.inner('disk gone') : undefined);
    const pending = wal.append(insert());
    await waitFor(() => backend.appendCalls > 3);
    const closing = wal.close();
    await expectCode(pending, StreamingCode.ON_SHUTDOWN);
    await closing;
    expect(backend.closeCalls).toBe(1);
  });

  it('gives up retrying when the caller aborts', async () => {
    const opener = backendOpener();
    const wal = await openWal(opener);
    const backend = opener.backends[0];
    if (backend === undefined) throw new Error('no backend');
    backend.appendFault = (m) => (m?.messageType === MessageType.Insert ? StreamingError.inner('disk gone') : undefined);
    const controller = new AbortController();
    const pending = wal.append(insert(), { signal: controller.signal });
    await waitFor(() => backend.appendCalls > 2);
    controller.abort(StreamingError.onShutdown('producer left'));
    await expectCode(pending, StreamingCode.ON_SHUTDOWN);
    expect(wal.isAvailable()).toBe(true);
    backend.appendFault = undefined;
    await wal.append(insert());
    await wal.close();
  });

  it('is fenced for good by a CHANNEL_FENCED from any write (here a checkpoint save)', async () => {
    const opener = backendOpener();
    const wal = await openWal(opener);
    const backend = opener.backends[0];
    if (backend === undefined) throw new Error('no backend');
    await wal.append(insert());
    const scanner = wal.read({ deliverPolicy: deliverAll() });
    backend.checkpointFault = () => StreamingError.channelFenced(PCHANNEL);
    await expectCode(wal.persistCheckpoint(), StreamingCode.CHANNEL_FENCED);
    expect(wal.isAvailable()).toBe(false);
    expect((wal.availability.reason as StreamingError).code).toBe(StreamingCode.CHANNEL_FENCED);
    await expectCode(wal.append(insert()), StreamingCode.CHANNEL_FENCED);
    expect((await scanner.closed())?.code).toBe(StreamingCode.CHANNEL_FENCED);
    await wal.close();
  });

  it('reports mvcc and recovery time ticks', async () => {
    const wal = await openWal(backendOpener());
    const { recoveryTimeTick, mvccTimeTick, channel } = wal.metrics();
    expect(channel.name).toBe(PCHANNEL);
    expect(mvccTimeTick).toBeGreaterThanOrEqual(recoveryTimeTick ?? 0n);
    const result = await wal.append(insert());
    await waitFor(() => (wal.metrics().mvccTimeTick ?? 0n) >= result.timeTick);
    await wal.close();
  });

  it('close is idempotent and refuses later calls with ON_SHUTDOWN', async () => {
    const opener = backendOpener();
    const wal = await openWal(opener);
    const closing = wal.close();
    expect(wal.close()).toBe(closing);
    await closing;
    expect(wal.isAvailable()).toBe(false);
    expect(wal.availability.aborted).toBe(true);
    await expectCode(wal.append(insert()), StreamingCode.ON_SHUTDOWN);
    expectThrowsCode(() => wal.read({ deliverPolicy: deliverAll() }), StreamingCode.ON_SHUTDOWN);
    expect(opener.backends[0]?.closeCalls).toBe(1);
  });

  it('closes the backend when the open fails (aborted signal)', async () => {
    const opener = backendOpener();
    const controller = new AbortController();
    // Let the backend open, then fail the recovery barrier's appends until the signal aborts.
    opener.onOpen = (backend) => {
      backend.appendFault = () => {
        controller.abort(StreamingError.onShutdown('node stopping'));
        return StreamingError.inner('disk hiccup');
      };
    };
    const walOpener = new WalOpener({ backendOpener: opener, tso: { allocate: () => Promise.resolve(BigInt(Date.now()) << 18n) } });
    await expectCode(walOpener.open(pchannelInfo(PCHANNEL, 1n), { signal: controller.signal }), StreamingCode.ON_SHUTDOWN);
    expect(opener.backends[0]?.closeCalls).toBe(1);
  });

  it('opens read-only WALs through the same opener', async () => {
    const opener = backendOpener();
    const rw = await openWal(opener);
    const walOpener = new WalOpener({ backendOpener: opener, tso: { allocate: () => Promise.resolve(1n) } });
    const ro = await walOpener.open(pchannelInfo(PCHANNEL, 1n, 'ro'), OPEN);
    expect(ro).not.toBeInstanceOf(WalAdaptor);
    await expectCode(ro.append(insert()), StreamingCode.INVAILD_ARGUMENT);
    await ro.close();
    await rw.close();
  });
});
