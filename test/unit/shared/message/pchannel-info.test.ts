import { describe, expect, it } from 'vitest';
import { StreamingCode } from '../../../../shared/errors/index.js';
import { decodeProto, encodeProto } from '../../../../shared/proto/index.js';
import {
  formatPChannelInfo,
  pchannelInfo,
  pchannelInfoFromProto,
  pchannelInfoToProto,
} from '../../../../shared/message/index.js';

describe('PChannelInfo', () => {
  it('round-trips through the proto wire form with int64 terms beyond 2^53', () => {
    const p = pchannelInfo('by-dev-rootcoord-dml_3', 9_007_199_254_740_993n, 'ro');
    const bytes = encodeProto('milvus.proto.streaming.PChannelInfo', pchannelInfoToProto(p));
    const back = pchannelInfoFromProto(decodeProto('milvus.proto.streaming.PChannelInfo', bytes));
    expect(back).toEqual(p);
    expect(formatPChannelInfo(back)).toBe('by-dev-rootcoord-dml_3:ro@9007199254740993');
  });

  it('reads a zero-valued (absent) access mode and term as read-write at term 0', () => {
    expect(pchannelInfoFromProto({ name: 'x' })).toEqual(pchannelInfo('x', 0n, 'rw'));
  });

  it('rejects missing names and unknown access modes with INVAILD_ARGUMENT naming the field', () => {
    expect(() => pchannelInfoFromProto(undefined)).toThrow(expect.objectContaining({ code: StreamingCode.INVAILD_ARGUMENT, message: 'invalid pchannel: missing' }));
    expect(() => pchannelInfoFromProto({ name: '' })).toThrow(/pchannel\.name/);
    expect(() => pchannelInfoFromProto({ name: 'x', access_mode: 7 as never })).toThrow(/pchannel\.access_mode/);
  });
});
