import { describe, expect, expectTypeOf, it } from 'vitest';
import { StreamingCode, StreamingError } from '../../../../shared/errors/index.js';
import {
  type StreamingErrorProto,
  streamingErrorFromProto,
  streamingErrorToProto,
} from '../../../../shared/grpc/index.js';
import { protoTypes } from '../../../../shared/proto/index.js';

const ALL_CODES = Object.values(StreamingCode).filter((v): v is StreamingCode => typeof v === 'number');

describe('in-band StreamingError proto', () => {
  it('is the generated StreamingError output type', () => {
    expectTypeOf<StreamingErrorProto>().toEqualTypeOf<{
      code: StreamingErrorProto['code'];
      cause: string;
    }>();
    expectTypeOf<'STREAMING_CODE_CHANNEL_FENCED'>().toExtend<StreamingErrorProto['code']>();
  });

  it('writes the enum name and the cause', () => {
    expect(streamingErrorToProto(StreamingError.channelFenced('ch-1'))).toEqual({
      code: 'STREAMING_CODE_CHANNEL_FENCED',
      cause: 'ch-1 fenced',
    });
    expect(streamingErrorToProto(new Error('boom'))).toEqual({ code: 'STREAMING_CODE_UNKNOWN', cause: 'boom' });
  });

  it.each(ALL_CODES)('round-trips code %s through the wire form', (code) => {
    const proto = streamingErrorToProto(new StreamingError(code, `cause ${code}`));
    const decoded = protoTypes.streaming.StreamingError.decode(protoTypes.streaming.StreamingError.encode(proto));
    const back = streamingErrorFromProto(decoded);
    expect(back).toBeInstanceOf(StreamingError);
    expect(back.code).toBe(code);
    expect(back.message).toBe(`cause ${code}`);
  });

  it('accepts enum numbers, names and short names', () => {
    expect(streamingErrorFromProto({ code: 2, cause: 'x' }).code).toBe(StreamingCode.CHANNEL_FENCED);
    expect(streamingErrorFromProto({ code: 'STREAMING_CODE_INNER', cause: 'x' }).code).toBe(StreamingCode.INNER);
    expect(streamingErrorFromProto({ code: 999 }).code).toBe(StreamingCode.UNKNOWN);
  });

  it('reads unknown codes as UNKNOWN and absent fields as proto zero values', () => {
    expect(streamingErrorFromProto({ code: 16, cause: 'rate limited' }).code).toBe(StreamingCode.UNKNOWN);
    expect(streamingErrorFromProto({ code: 'STREAMING_CODE_SHARD_FENCED' }).code).toBe(StreamingCode.UNKNOWN);
    const empty = streamingErrorFromProto({});
    expect(empty.code).toBe(StreamingCode.OK);
    expect(empty.message).toBe('');
    expect(streamingErrorFromProto({ code: null, cause: null }).code).toBe(StreamingCode.OK);
  });

  it('records where the error came from as cause', () => {
    const origin = { request_id: '7' };
    expect(streamingErrorFromProto({ code: 1, cause: 'x' }, { cause: origin }).cause).toBe(origin);
  });
});
