import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamingCode, StreamingError } from '../../../../shared/errors/index.js';
import {
  STATUS_DETAILS_KEY,
  STREAMING_ERROR_TYPE_URL,
  decodeStatusDetails,
  encodeStatusDetails,
  fromServiceError,
  grpcCodeOf,
  grpcStatusOf,
  isServiceError,
  streamingErrorToProto,
  toServiceError,
} from '../../../../shared/grpc/index.js';
import { protoTypes } from '../../../../shared/proto/index.js';

const ALL_CODES = Object.values(StreamingCode).filter((v): v is StreamingCode => typeof v === 'number');

/** A client-side error as grpc-js builds it (`callErrorFromStatus`). */
function clientError(code: grpc.status, details: string, trailer?: Buffer | string): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  if (typeof trailer === 'string') metadata.set('x-text', trailer);
  else if (trailer !== undefined) metadata.set(STATUS_DETAILS_KEY, trailer);
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), { code, details, metadata });
}

/** A length-delimited protobuf field with a one-byte length, written out by hand. */
function field(fieldNumber: number, payload: Buffer): Buffer {
  expect(payload.length).toBeLessThan(128);
  return Buffer.concat([Buffer.from([(fieldNumber << 3) | 2, payload.length]), payload]);
}

/** The bytes grpc-go marshals for `status.New(code, message).WithDetails(anys...)`. */
function goStatusBytes(grpcCode: number, message: string, anys: readonly Buffer[]): Buffer {
  const parts = [Buffer.from([0x08, grpcCode]), field(2, Buffer.from(message, 'utf8'))];
  return Buffer.concat([...parts, ...anys.map((a) => field(3, a))]);
}

function goAny(typeUrl: string, value: Buffer): Buffer {
  return Buffer.concat([field(1, Buffer.from(typeUrl, 'utf8')), field(2, value)]);
}

/** StreamingError{code, cause} as Go marshals it (code 0 / empty cause omitted). */
function goStreamingError(code: number, cause: string): Buffer {
  return Buffer.concat([Buffer.from([0x08, code]), field(2, Buffer.from(cause, 'utf8'))]);
}

describe('fromServiceError: the trailer a Go server sends', () => {
  const cause = 'by-dev-rootcoord-dml_0 fenced';
  const goBytes = goStatusBytes(grpc.status.FAILED_PRECONDITION, cause, [
    goAny('type.googleapis.com/milvus.proto.streaming.StreamingError', goStreamingError(0x02, cause)),
  ]);

  it('decodes a hand-built google.rpc.Status{code: 9, details: [StreamingError{code: 2}]} to CHANNEL_FENCED', () => {
    const e = fromServiceError(clientError(grpc.status.FAILED_PRECONDITION, cause, goBytes));
    expect(e).toBeInstanceOf(StreamingError);
    expect(e.code).toBe(StreamingCode.CHANNEL_FENCED);
    expect(e.message).toBe(cause);
    expect(e.isFenced()).toBe(true);
    expect(grpcCodeOf(e)).toBe(grpc.status.FAILED_PRECONDITION);
  });

  it('encodes byte for byte what the Go server sends', () => {
    const ours = encodeStatusDetails(
      grpc.status.FAILED_PRECONDITION,
      cause,
      streamingErrorToProto(StreamingError.channelFenced('by-dev-rootcoord-dml_0')),
    );
    expect(ours.toString('hex')).toBe(goBytes.toString('hex'));
  });

  it('skips details of other types and finds the StreamingError after them', () => {
    const errorInfo = goAny('type.googleapis.com/google.rpc.ErrorInfo', field(1, Buffer.from('REASON')));
    const streaming = goAny(STREAMING_ERROR_TYPE_URL, goStreamingError(0x05, 'term moved'));
    const bytes = goStatusBytes(grpc.status.FAILED_PRECONDITION, 'x', [errorInfo, streaming]);
    const e = fromServiceError(clientError(grpc.status.FAILED_PRECONDITION, 'x', bytes));
    expect(e.code).toBe(StreamingCode.UNMATCHED_CHANNEL_TERM);
    expect(e.message).toBe('term moved');
  });

  it('ignores an unknown Any type URL and falls back to the gRPC code', () => {
    const bytes = goStatusBytes(grpc.status.FAILED_PRECONDITION, 'x', [
      goAny('type.googleapis.com/google.rpc.ErrorInfo', goStreamingError(0x02, 'looks like one')),
    ]);
    const err = clientError(grpc.status.FAILED_PRECONDITION, 'x', bytes);
    const e = fromServiceError(err);
    expect(e.code).toBe(StreamingCode.UNKNOWN);
    expect(e.cause).toBe(err);
    expect(grpcCodeOf(e)).toBe(grpc.status.FAILED_PRECONDITION);
  });

  it('reads a code number newer than our schema as UNKNOWN, keeping the cause', () => {
    const bytes = goStatusBytes(grpc.status.UNKNOWN, 'x', [goAny(STREAMING_ERROR_TYPE_URL, goStreamingError(16, 'rate limited'))]);
    const e = fromServiceError(clientError(grpc.status.UNKNOWN, 'x', bytes));
    expect(e.code).toBe(StreamingCode.UNKNOWN);
    expect(e.message).toBe('rate limited');
  });
});

describe('fromServiceError: fallback to the gRPC code', () => {
  it.each([
    ['garbage bytes', Buffer.from([0xff, 0xff, 0xff, 0xff])],
    ['truncated status', goStatusBytes(9, 'abc', []).subarray(0, 3)],
    // Wire type 7 (on unknown field 3) does not exist; a truncated varint cannot be read.
    ['corrupt StreamingError value', goStatusBytes(9, 'x', [goAny(STREAMING_ERROR_TYPE_URL, Buffer.from([0x1f, 0x01]))])],
    ['truncated StreamingError value', goStatusBytes(9, 'x', [goAny(STREAMING_ERROR_TYPE_URL, Buffer.from([0x08, 0x80]))])],
    ['empty status', Buffer.alloc(0)],
  ])('does not throw on %s', (_name, bytes) => {
    const err = clientError(grpc.status.FAILED_PRECONDITION, 'oops', bytes);
    const e = fromServiceError(err);
    expect(e.code).toBe(StreamingCode.UNKNOWN);
    expect(e.cause).toBe(err);
    expect(grpcCodeOf(e)).toBe(grpc.status.FAILED_PRECONDITION);
  });

  it.each([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.CANCELLED, grpc.status.FAILED_PRECONDITION])(
    'a plain gRPC error (code %s, no details) is UNKNOWN with the gRPC code exposed',
    (code) => {
      const err = clientError(code, 'No connection established');
      const e = fromServiceError(err);
      expect(e.code).toBe(StreamingCode.UNKNOWN);
      expect(e.isUnrecoverable()).toBe(false);
      expect(e.message).toContain('No connection established');
      expect(e.message).toContain(grpc.status[code]);
      expect(grpcCodeOf(e)).toBe(code);
      expect(grpcCodeOf(err)).toBe(code);
    },
  );

  it('ignores a text value under another key', () => {
    expect(fromServiceError(clientError(grpc.status.INTERNAL, 'x', 'not binary')).code).toBe(StreamingCode.UNKNOWN);
  });

  it('passes a StreamingError through and normalises non-gRPC errors', () => {
    const local = StreamingError.channelNotExist('ch');
    expect(fromServiceError(local)).toBe(local);
    expect(grpcCodeOf(local)).toBeUndefined();
    const plain = fromServiceError(new Error('disk full'));
    expect(plain.code).toBe(StreamingCode.UNKNOWN);
    expect(plain.message).toBe('disk full');
    expect(grpcCodeOf(plain)).toBeUndefined();
    expect(grpcCodeOf('nope')).toBeUndefined();
  });

  it('does not take a StreamingError for a gRPC error', () => {
    expect(isServiceError(StreamingError.inner('x'))).toBe(false);
    expect(isServiceError(clientError(grpc.status.INTERNAL, 'x'))).toBe(true);
    expect(isServiceError({ code: 1, details: 'x' })).toBe(false);
  });
});

describe('round trip (property)', () => {
  const codes = fc.constantFrom(...ALL_CODES);
  const causes = fc.string({ unit: 'binary', maxLength: 200 });

  it('trailer encode → decode keeps code and cause', () => {
    fc.assert(
      fc.property(codes, causes, (code, cause) => {
        const error = new StreamingError(code, cause);
        const bytes = encodeStatusDetails(grpcStatusOf(code), cause, streamingErrorToProto(error));
        const back = decodeStatusDetails(bytes);
        expect(back?.code).toBe(code);
        expect(back?.message).toBe(cause);
        expect(protoTypes.rpc.Status.decode(bytes).code).toBe(grpcStatusOf(code));
      }),
    );
  });

  it('toServiceError → fromServiceError keeps code and cause', () => {
    fc.assert(
      fc.property(codes, causes, (code, cause) => {
        const back = fromServiceError(toServiceError(new StreamingError(code, cause)));
        expect(back.code).toBe(code);
        expect(back.message).toBe(cause);
      }),
    );
  });
});
