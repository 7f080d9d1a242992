import { describe, expect, it } from 'vitest';
import { StreamingCode, StreamingError, asStreamingError, parseStreamingCode, streamingCodeName } from '../../../../shared/errors/index.js';

describe('StreamingCode', () => {
  it('keeps the proto numbers of the Milvus 2.6 line', () => {
    expect([
      StreamingCode.OK,
      StreamingCode.CHANNEL_NOT_EXIST,
      StreamingCode.CHANNEL_FENCED,
      StreamingCode.ON_SHUTDOWN,
      StreamingCode.INVALID_REQUEST_SEQ,
      StreamingCode.UNMATCHED_CHANNEL_TERM,
      StreamingCode.IGNORED_OPERATION,
      StreamingCode.INNER,
      StreamingCode.INVAILD_ARGUMENT,
      StreamingCode.TRANSACTION_EXPIRED,
      StreamingCode.INVALID_TRANSACTION_STATE,
      StreamingCode.UNRECOVERABLE,
      StreamingCode.RESOURCE_ACQUIRED,
      StreamingCode.REPLICATE_VIOLATION,
      StreamingCode.UNKNOWN,
    ]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 999]);
  });

  it('parses numbers and proto names; unknown values become UNKNOWN', () => {
    expect(parseStreamingCode(2)).toBe(StreamingCode.CHANNEL_FENCED);
    expect(parseStreamingCode('STREAMING_CODE_INVAILD_ARGUMENT')).toBe(StreamingCode.INVAILD_ARGUMENT);
    expect(parseStreamingCode('5')).toBe(StreamingCode.UNMATCHED_CHANNEL_TERM);
    expect(parseStreamingCode(14)).toBe(StreamingCode.UNKNOWN);
    expect(parseStreamingCode('STREAMING_CODE_WHATEVER')).toBe(StreamingCode.UNKNOWN);
    expect(parseStreamingCode(undefined)).toBe(StreamingCode.UNKNOWN);
    expect(streamingCodeName(StreamingCode.CHANNEL_FENCED)).toBe('STREAMING_CODE_CHANNEL_FENCED');
  });
});

describe('StreamingError', () => {
  it('carries code, message and cause', () => {
    const root = new Error('disk gone');
    const e = StreamingError.inner('append failed', root);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('StreamingError');
    expect(e.code).toBe(StreamingCode.INNER);
    expect(e.message).toBe('append failed');
    expect(e.cause).toBe(root);
    expect(String(e)).toBe('StreamingError: code: STREAMING_CODE_INNER, cause: append failed');
  });

  it('has the Milvus predicates', () => {
    const fenced = StreamingError.channelFenced('ch');
    expect(fenced.isFenced()).toBe(true);
    expect(fenced.isWrongStreamingNode()).toBe(true);
    expect(StreamingError.channelNotExist('ch').isWrongStreamingNode()).toBe(true);
    const unmatched = StreamingError.unmatchedChannelTerm('ch', 3n, 4n);
    expect(unmatched.isWrongStreamingNode()).toBe(true);
    expect(unmatched.isSkippedOperation()).toBe(true);
    expect(unmatched.message).toBe('channel ch at term 3 is expected, but current term is 4');
    expect(StreamingError.ignoredOperation('x').isSkippedOperation()).toBe(true);
    expect(StreamingError.transactionExpired('t').isUnrecoverable()).toBe(true);
    expect(StreamingError.invalidTransactionState('commit', 'InFlight', 'Committed').isTxnUnavailable()).toBe(true);
    expect(StreamingError.unrecoverable('x').isUnrecoverable()).toBe(true);
    expect(StreamingError.onShutdown('x').isOnShutdown()).toBe(true);
    expect(StreamingError.onShutdown('x').isUnrecoverable()).toBe(false);
    const bad = StreamingError.invalidArgument('properties._tt', 'not base-36');
    expect(bad.isInvalidArgument()).toBe(true);
    expect(bad.message).toBe('invalid properties._tt: not base-36');
  });

  it('asStreamingError keeps StreamingErrors and wraps anything else as UNKNOWN', () => {
    const e = StreamingError.channelFenced('a');
    expect(asStreamingError(e)).toBe(e);
    const wrapped = asStreamingError(new TypeError('boom'));
    expect(wrapped.code).toBe(StreamingCode.UNKNOWN);
    expect(wrapped.message).toBe('boom');
    expect(wrapped.cause).toBeInstanceOf(TypeError);
    expect(asStreamingError('text').message).toBe('text');
  });
});
