import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { StreamingCode, StreamingError } from '../../../../shared/errors/index.js';
import {
  STATUS_DETAILS_KEY,
  STREAMING_ERROR_TYPE_URL,
  failServerStream,
  fromServiceError,
  grpcCodeOf,
  grpcStatusOf,
  toServiceError,
} from '../../../../shared/grpc/index.js';
import { protoTypes } from '../../../../shared/proto/index.js';

/** The table of STYLE.md §3 / Milvus rpc_error.go, written out independently of the code. */
const EXPECTED: Readonly<Record<keyof typeof StreamingCode, grpc.status>> = {
  OK: grpc.status.OK,
  CHANNEL_NOT_EXIST: grpc.status.FAILED_PRECONDITION,
  CHANNEL_FENCED: grpc.status.FAILED_PRECONDITION,
  ON_SHUTDOWN: grpc.status.FAILED_PRECONDITION,
  INVALID_REQUEST_SEQ: grpc.status.FAILED_PRECONDITION,
  UNMATCHED_CHANNEL_TERM: grpc.status.FAILED_PRECONDITION,
  IGNORED_OPERATION: grpc.status.FAILED_PRECONDITION,
  INNER: grpc.status.INTERNAL,
  INVAILD_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  TRANSACTION_EXPIRED: grpc.status.FAILED_PRECONDITION,
  INVALID_TRANSACTION_STATE: grpc.status.FAILED_PRECONDITION,
  UNRECOVERABLE: grpc.status.FAILED_PRECONDITION,
  RESOURCE_ACQUIRED: grpc.status.FAILED_PRECONDITION,
  REPLICATE_VIOLATION: grpc.status.FAILED_PRECONDITION,
  UNKNOWN: grpc.status.UNKNOWN,
};

const ALL_CODES = Object.values(StreamingCode).filter((v): v is StreamingCode => typeof v === 'number');

function trailerOf(err: grpc.ServiceError): Buffer {
  const values = err.metadata.get(STATUS_DETAILS_KEY);
  expect(values).toHaveLength(1);
  const [value] = values;
  if (!Buffer.isBuffer(value)) throw new Error('trailer value is not binary');
  return value;
}

describe('grpcStatusOf (the one mapping table)', () => {
  it.each(Object.entries(EXPECTED))('%s → %s', (name, expected) => {
    expect(grpcStatusOf(StreamingCode[name as keyof typeof StreamingCode])).toBe(expected);
  });

  it('covers every StreamingCode', () => {
    expect(ALL_CODES.map((c) => StreamingCode[c]).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it('maps codes it does not know (a newer Milvus line) to UNKNOWN', () => {
    expect(grpcStatusOf(14 as StreamingCode)).toBe(grpc.status.UNKNOWN);
    expect(grpcStatusOf(10086 as StreamingCode)).toBe(grpc.status.UNKNOWN);
  });
});

describe('toServiceError', () => {
  it('sets the mapped code, the readable message and the Milvus status-details trailer', () => {
    const err = toServiceError(StreamingError.channelFenced('ch-1'));
    expect(err.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(err.details).toBe('ch-1 fenced');
    expect(err).toBeInstanceOf(Error);

    const status = protoTypes.rpc.Status.decode(trailerOf(err));
    expect(status.code).toBe(grpc.status.FAILED_PRECONDITION); // the gRPC code, as grpc-go writes it
    expect(status.message).toBe('ch-1 fenced');
    expect(status.details).toHaveLength(1);
    const [detail] = status.details;
    expect(detail?.type_url).toBe(STREAMING_ERROR_TYPE_URL);
    expect(protoTypes.streaming.StreamingError.decode(detail?.value ?? Buffer.alloc(0))).toEqual({
      code: 'STREAMING_CODE_CHANNEL_FENCED',
      cause: 'ch-1 fenced',
    });
  });

  it.each(ALL_CODES.filter((c) => c !== StreamingCode.OK))('uses the table for %s', (code) => {
    expect(toServiceError(new StreamingError(code, 'x')).code).toBe(grpcStatusOf(code));
  });

  it('sends an error that is not a StreamingError as UNKNOWN with its message', () => {
    const err = toServiceError(new TypeError('boom'));
    expect(err.code).toBe(grpc.status.UNKNOWN);
    expect(err.details).toBe('boom');
    const back = fromServiceError(err);
    expect(back.code).toBe(StreamingCode.UNKNOWN);
    expect(back.message).toBe('boom');

    expect(toServiceError('plain string').details).toBe('plain string');
  });

  it('never turns a failure into an OK status', () => {
    const err = toServiceError(new StreamingError(StreamingCode.OK, 'odd'));
    expect(err.code).toBe(grpc.status.UNKNOWN);
    expect(fromServiceError(err).code).toBe(StreamingCode.OK);
  });

  it('relays a gRPC error received from another server with the StreamingCode it carried', () => {
    const upstream = toServiceError(StreamingError.unmatchedChannelTerm('ch-2', 3n, 4n));
    const relayed = toServiceError(upstream);
    expect(relayed.code).toBe(grpc.status.FAILED_PRECONDITION);
    const back = fromServiceError(relayed);
    expect(back.code).toBe(StreamingCode.UNMATCHED_CHANNEL_TERM);
    expect(back.message).toBe('channel ch-2 at term 3 is expected, but current term is 4');
  });

  it('keeps the original StreamingError as cause (for server logs)', () => {
    const original = StreamingError.onShutdown('node closing');
    expect(toServiceError(original).cause).toBe(original);
  });
});

describe('failServerStream', () => {
  it("emits 'error' with the service error (grpc-js turns that into the status)", () => {
    const call = new EventEmitter();
    const seen: unknown[] = [];
    call.on('error', (e: unknown) => seen.push(e));
    failServerStream(call, StreamingError.onShutdown('bye'));
    expect(seen).toHaveLength(1);
    const err = seen[0] as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(fromServiceError(err).code).toBe(StreamingCode.ON_SHUTDOWN);
    expect(grpcCodeOf(fromServiceError(err))).toBe(grpc.status.FAILED_PRECONDITION);
  });
});
