/**
 * The manager service over a real WalManager and a fake opener, driven through its handlers:
 * Assign waits for the open, errors reach the caller as StreamingErrors (status details), bad
 * requests name the field, CollectStatus reports rw/ro WALs, and a closing node stops waiting.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManagerService } from '../../../../node/service/index.js';
import type { Wal } from '../../../../node/wal/index.js';
import { WalManager } from '../../../../node/wal-manager/index.js';
import {
  StreamingCode,
  StreamingError,
  fromServiceError,
  pchannelInfo,
  pchannelInfoToProto,
  waitFor,
} from '../../../../shared/index.js';
import { FakeWalOpener } from './fake-wal.js';
import { type UnaryOutcome, invokeUnary } from './unary-call.js';

const CH = 'by-dev-rootcoord-dml_0';

function codeOf(outcome: UnaryOutcome<unknown>): StreamingCode {
  if (outcome.ok) throw new Error('expected the call to fail');
  return fromServiceError(outcome.error).code;
}

describe('ManagerService', () => {
  let opener: FakeWalOpener;
  let manager: WalManager<Wal>;
  let stop: AbortController;
  let assignable: boolean;
  let service: ManagerService;

  beforeEach(() => {
    opener = new FakeWalOpener();
    manager = new WalManager<Wal>({ opener });
    stop = new AbortController();
    assignable = true;
    service = new ManagerService({ wals: () => manager, assignable: () => assignable, signal: stop.signal });
  });
  afterEach(async () => {
    opener.release();
    await manager.close();
  });

  const assign = (name: string, term: bigint, mode: 'rw' | 'ro' = 'rw') =>
    invokeUnary(service.handlers.Assign, { pchannel: pchannelInfoToProto(pchannelInfo(name, term, mode)) } as never);
  const remove = (name: string, term: bigint) =>
    invokeUnary(service.handlers.Remove, { pchannel: pchannelInfoToProto(pchannelInfo(name, term)) } as never);

  it('answers Assign only once the WAL is open at that term', async () => {
    opener.hold();
    const call = assign(CH, 3n);
    await waitFor(() => opener.parked === 1);
    expect(call.answered()).toBe(false);
    opener.release();
    expect(await call.outcome).toEqual({ ok: true, value: {} });
    expect(opener.openWals().map((w) => [w.channel.name, w.channel.term])).toEqual([[CH, 3n]]);
    expect(manager.getAvailableWal(pchannelInfo(CH, 3n)).channel.term).toBe(3n);
  });

  it('sends open failures as StreamingErrors with their code and gRPC status', async () => {
    opener.failNext(StreamingError.channelFenced(CH));
    const outcome = await assign(CH, 3n).outcome;
    expect(codeOf(outcome)).toBe(StreamingCode.CHANNEL_FENCED);
    expect(!outcome.ok && outcome.error.code).toBe(grpc.status.FAILED_PRECONDITION);
  });

  it('answers IGNORED_OPERATION for a stale term and Remove closes the WAL', async () => {
    expect((await assign(CH, 5n).outcome).ok).toBe(true);
    expect(codeOf(await assign(CH, 4n).outcome)).toBe(StreamingCode.IGNORED_OPERATION);
    expect(codeOf(await remove(CH, 4n).outcome)).toBe(StreamingCode.IGNORED_OPERATION);
    expect((await remove(CH, 5n).outcome).ok).toBe(true);
    expect(opener.openWals()).toEqual([]);
    // Removing a term never opened here succeeds (the coordinator may clean up blindly).
    expect((await remove('by-dev-rootcoord-dml_9', 1n).outcome).ok).toBe(true);
  });

  it.each([
    [{}, 'pchannel'],
    [{ pchannel: { name: '', term: '1' } }, 'pchannel.name'],
    [{ pchannel: { name: CH, term: 'x1' } }, 'pchannel.term'],
    [{ pchannel: { name: CH, term: '1', access_mode: 'PCHANNEL_ACCESS_WHATEVER' } }, 'pchannel.access_mode'],
  ])('rejects malformed request %j as INVAILD_ARGUMENT naming %s', async (request, field) => {
    for (const handler of [service.handlers.Assign, service.handlers.Remove]) {
      const outcome = await invokeUnary(handler as never, request as never).outcome;
      expect(codeOf(outcome)).toBe(StreamingCode.INVAILD_ARGUMENT);
      expect(!outcome.ok && outcome.error.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(!outcome.ok && outcome.error.details).toContain(field);
    }
    expect(opener.wals).toEqual([]);
  });

  it('reports every WAL in CollectStatus: rw with time ticks, ro without', async () => {
    expect((await assign(CH, 2n).outcome).ok).toBe(true);
    expect((await assign('by-dev-rootcoord-dml_1', 7n, 'ro').outcome).ok).toBe(true);
    opener.wals[0]!.ticks = { mvcc: (1n << 60n) + 5n, recovery: 42n };
    const outcome = await invokeUnary(service.handlers.CollectStatus, {} as never).outcome;
    expect(outcome).toEqual({
      ok: true,
      value: {
        metrics: {
          wals: [
            {
              info: { name: CH, term: '2', access_mode: 'PCHANNEL_ACCESS_READWRITE' },
              rw: { mvcc_time_tick: ((1n << 60n) + 5n).toString(), recovery_time_tick: '42' },
            },
            { info: { name: 'by-dev-rootcoord-dml_1', term: '7', access_mode: 'PCHANNEL_ACCESS_READONLY' }, ro: {} },
          ],
        },
      },
    });
  });

  it('refuses Assign while the node is not serving, but still answers Remove and CollectStatus', async () => {
    expect((await assign(CH, 1n).outcome).ok).toBe(true);
    assignable = false;
    expect(codeOf(await assign('by-dev-rootcoord-dml_1', 1n).outcome)).toBe(StreamingCode.ON_SHUTDOWN);
    expect((await invokeUnary(service.handlers.CollectStatus, {} as never).outcome).ok).toBe(true);
    expect((await remove(CH, 1n).outcome).ok).toBe(true);
  });

  it('stops waiting when the caller cancels or the node closes; the open still completes', async () => {
    opener.hold();
    const cancelled = assign(CH, 1n);
    const other = assign('by-dev-rootcoord-dml_1', 1n);
    await waitFor(() => opener.parked === 2);
    cancelled.call.emit('cancelled', 'Cancelled on client');
    expect(codeOf(await cancelled.outcome)).toBe(StreamingCode.ON_SHUTDOWN);
    stop.abort(StreamingError.onShutdown('streaming node is stopping'));
    expect(codeOf(await other.outcome)).toBe(StreamingCode.ON_SHUTDOWN);
    opener.release();
    await waitFor(() => opener.openWals().length === 2);
  });

  it('answers ON_SHUTDOWN when there is no WAL manager (fenced node)', async () => {
    const fenced = new ManagerService({
      wals: () => {
        throw StreamingError.onShutdown('streaming node has no WALs now (fenced)');
      },
    });
    expect(codeOf(await invokeUnary(fenced.handlers.Assign, { pchannel: pchannelInfoToProto(pchannelInfo(CH, 1n)) } as never).outcome)).toBe(
      StreamingCode.ON_SHUTDOWN,
    );
    expect(codeOf(await invokeUnary(fenced.handlers.CollectStatus, {} as never).outcome)).toBe(StreamingCode.ON_SHUTDOWN);
  });
});
