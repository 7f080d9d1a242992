/**
 * StreamingNodeManagerService proto ⇄ domain at the client edge: requests carry the exact term
 * (int64 beyond 2^53 included) through the real binary encoding, CollectStatus WALs come back as
 * domain statuses (rw with uint64 time ticks, ro without), and malformed answers are rejected
 * naming the bad field.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamingCode, StreamingError } from '../../../../shared/errors/index.js';
import { pchannelInfo, pchannelInfoFromProto } from '../../../../shared/message/index.js';
import { protoTypes } from '../../../../shared/proto/index.js';
import {
  type WalStatus,
  assignRequestToProto,
  collectStatusFromProto,
  collectStatusToProto,
  removeRequestToProto,
  walStatusFromProto,
} from '../../../../coord/discovery/index.js';

const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const uint64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const name = fc.stringMatching(/^[a-z0-9_-]{1,20}$/);
const mode = fc.constantFrom<'rw' | 'ro'>('rw', 'ro');
const channel = fc.tuple(name, int64, mode).map(([n, t, m]) => pchannelInfo(n, t, m));
const walStatus: fc.Arbitrary<WalStatus> = fc.oneof(
  channel.map((c) => ({ channel: c })),
  fc.tuple(channel, uint64, uint64).map(([c, mvccTimeTick, recoveryTimeTick]) => ({ channel: c, mvccTimeTick, recoveryTimeTick })),
);

/** Through the bytes a real peer would see. */
function wire<T>(codec: { encode(v: never): Buffer; decode(b: Uint8Array): T }, value: unknown): T {
  return codec.decode(codec.encode(value as never));
}

describe('node manager requests', () => {
  it('Assign and Remove carry the pchannel with its exact term', () => {
    fc.assert(
      fc.property(channel, (ch) => {
        const assign = wire(protoTypes.streaming.StreamingNodeManagerAssignRequest, assignRequestToProto(ch));
        const remove = wire(protoTypes.streaming.StreamingNodeManagerRemoveRequest, removeRequestToProto(ch));
        expect(pchannelInfoFromProto(assign.pchannel)).toEqual(ch);
        expect(pchannelInfoFromProto(remove.pchannel)).toEqual(ch);
      }),
    );
  });

  it('a term past 2^53 is sent as its decimal string, not a rounded number', () => {
    const term = (1n << 62n) + 3n;
    const request = assignRequestToProto(pchannelInfo('by-dev-rootcoord-dml_0', term));
    expect(request.pchannel?.term).toBe('4611686018427387907');
    expect(request.pchannel?.access_mode).toBe('PCHANNEL_ACCESS_READWRITE');
  });
});

describe('CollectStatus response', () => {
  it('round-trips every WAL status through the binary encoding', () => {
    fc.assert(
      fc.property(fc.array(walStatus, { maxLength: 5 }), (wals) => {
        const decoded = wire(protoTypes.streaming.StreamingNodeManagerCollectStatusResponse, collectStatusToProto(wals));
        expect(collectStatusFromProto(decoded)).toEqual(wals);
      }),
    );
  });

  it('reads rw metrics as bigints and ro metrics as no time ticks', () => {
    const max = (1n << 64n) - 1n;
    const statuses = collectStatusFromProto({
      metrics: {
        wals: [
          { info: { name: 'a', term: '9007199254740993', access_mode: 'PCHANNEL_ACCESS_READWRITE' }, rw: { mvcc_time_tick: max.toString(), recovery_time_tick: '5' }, metrics: 'rw' },
          { info: { name: 'b', term: '2', access_mode: 'PCHANNEL_ACCESS_READONLY' }, ro: {}, metrics: 'ro' },
        ],
      },
    });
    expect(statuses).toEqual([
      { channel: pchannelInfo('a', 9007199254740993n), mvccTimeTick: max, recoveryTimeTick: 5n },
      { channel: pchannelInfo('b', 2n, 'ro') },
    ]);
    expect(Object.isFrozen(statuses[0])).toBe(true);
  });

  it('treats a response without metrics (a 2.5 node) as no WALs', () => {
    expect(collectStatusFromProto(undefined)).toEqual([]);
    expect(collectStatusFromProto({ metrics: null })).toEqual([]);
    expect(collectStatusFromProto(wire(protoTypes.streaming.StreamingNodeManagerCollectStatusResponse, {}))).toEqual([]);
  });

  it('rejects a WAL without its pchannel, naming the field', () => {
    const bad = () => collectStatusFromProto({ metrics: { wals: [{ info: null, ro: {}, metrics: 'ro' }] } });
    expect(bad).toThrow(StreamingError);
    expect(bad).toThrow(/metrics\.wals\[0\]\.info/);
    try {
      bad();
    } catch (e) {
      expect((e as StreamingError).code).toBe(StreamingCode.INVAILD_ARGUMENT);
    }
  });

  it('rejects a time tick that is not an unsigned integer', () => {
    const wal = { info: { name: 'a', term: '1', access_mode: 'PCHANNEL_ACCESS_READWRITE' as const }, rw: { mvcc_time_tick: '-1', recovery_time_tick: '0' }, metrics: 'rw' as const };
    expect(() => walStatusFromProto(wal, 'w')).toThrow(/w\.rw\.mvcc_time_tick/);
  });
});
