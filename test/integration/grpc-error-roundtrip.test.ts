/**
 * StreamingError ⇄ gRPC status over a real grpc-js server and client on loopback, for the three
 * call shapes the service uses: unary (StreamingNodeManagerService.Assign), server-streaming (a
 * test-only service, Milvus has none) and bidi (StreamingNodeHandlerService.Produce).
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamingCode, StreamingError } from '../../shared/errors/index.js';
import {
  STATUS_DETAILS_KEY,
  failServerStream,
  fromServiceError,
  grpcCodeOf,
  streamingErrorFromProto,
  streamingErrorToProto,
  toServiceError,
} from '../../shared/grpc/index.js';
import {
  PROTO_CONVERSION_OPTIONS,
  type StreamingNodeHandlerServiceClient,
  type StreamingNodeHandlerServiceHandlers,
  type StreamingNodeManagerServiceClient,
  type StreamingNodeManagerServiceHandlers,
  clientConstructors,
  protoTypes,
  serviceDefinitions,
} from '../../shared/proto/index.js';

interface Case {
  readonly name: string;
  readonly error: () => unknown;
  readonly code: StreamingCode;
  readonly cause: string;
  readonly grpcCode: grpc.status;
}

/** Expected gRPC codes are written out here, not taken from the table under test. */
const CASES: readonly Case[] = [
  { name: 'fenced', error: () => StreamingError.channelFenced('pch-1'), code: StreamingCode.CHANNEL_FENCED, cause: 'pch-1 fenced', grpcCode: grpc.status.FAILED_PRECONDITION },
  {
    name: 'term',
    error: () => StreamingError.unmatchedChannelTerm('pch-2', 3n, 5n),
    code: StreamingCode.UNMATCHED_CHANNEL_TERM,
    cause: 'channel pch-2 at term 3 is expected, but current term is 5',
    grpcCode: grpc.status.FAILED_PRECONDITION,
  },
  {
    name: 'argument',
    error: () => StreamingError.invalidArgument('vchannel', 'must not be empty'),
    code: StreamingCode.INVAILD_ARGUMENT,
    cause: 'invalid vchannel: must not be empty',
    grpcCode: grpc.status.INVALID_ARGUMENT,
  },
  { name: 'shutdown', error: () => StreamingError.onShutdown('node is stopping'), code: StreamingCode.ON_SHUTDOWN, cause: 'node is stopping', grpcCode: grpc.status.FAILED_PRECONDITION },
  { name: 'inner', error: () => StreamingError.inner('wal append failed'), code: StreamingCode.INNER, cause: 'wal append failed', grpcCode: grpc.status.INTERNAL },
  { name: 'unknown', error: () => StreamingError.unknown('no idea'), code: StreamingCode.UNKNOWN, cause: 'no idea', grpcCode: grpc.status.UNKNOWN },
  // Non-ASCII text crosses grpc-message percent-encoding and the binary trailer intact.
  { name: 'unicode', error: () => StreamingError.channelFenced('kanäl-🐱'), code: StreamingCode.CHANNEL_FENCED, cause: 'kanäl-🐱 fenced', grpcCode: grpc.status.FAILED_PRECONDITION },
  // A handler that fails with something that is not a StreamingError.
  { name: 'plain', error: () => new RangeError('disk on fire'), code: StreamingCode.UNKNOWN, cause: 'disk on fire', grpcCode: grpc.status.UNKNOWN },
];

/** A handler that bypasses toServiceError: grpc-js sends UNKNOWN with the message and no details. */
const RAW = 'raw';
const RAW_MESSAGE = 'raw failure without details';
const CASE_KEY = 'x-test-case';

function caseNamed(name: string): Case {
  const found = CASES.find((c) => c.name === name);
  if (found === undefined) throw new Error(`no test case ${name}`);
  return found;
}

// ---- test-only server-streaming service ----

interface WatchRequest {
  test_case: string;
  responses_before_error: number;
}
interface WatchResponse {
  seq: number;
}
interface ErrorTestClient extends grpc.Client {
  Watch(request: WatchRequest): grpc.ClientReadableStream<WatchResponse>;
}
type ErrorTestClientConstructor = new (address: string, credentials: grpc.ChannelCredentials) => ErrorTestClient;

function loadErrorTestService(): { service: grpc.ServiceDefinition; Client: ErrorTestClientConstructor } {
  const file = fileURLToPath(new URL('../fixtures/grpc-errors-test.proto', import.meta.url));
  const loaded = grpc.loadPackageDefinition(protoLoader.loadSync(file, { ...PROTO_CONVERSION_OPTIONS }));
  const pkg = (loaded.streamingwal as grpc.GrpcObject).test as grpc.GrpcObject;
  const ctor = pkg.ErrorTestService as grpc.ServiceClientConstructor;
  return { service: ctor.service, Client: ctor as unknown as ErrorTestClientConstructor };
}

// ---- handlers ----

const assign: StreamingNodeManagerServiceHandlers['Assign'] = (call, callback) => {
  const name = call.request.pchannel?.name ?? '';
  if (name === RAW) callback(new Error(RAW_MESSAGE));
  else callback(toServiceError(caseNamed(name).error()));
};

const watch: grpc.handleServerStreamingCall<WatchRequest, WatchResponse> = (call) => {
  for (let seq = 1; seq <= call.request.responses_before_error; seq++) call.write({ seq });
  if (call.request.test_case === RAW) call.emit('error', new Error(RAW_MESSAGE));
  else failServerStream(call, caseNamed(call.request.test_case).error());
};

/** A failed append is answered in-band; then the stream itself fails (stream-fatal error). */
const IN_BAND = StreamingError.invalidArgument('message', 'payload too large');

const produce: StreamingNodeHandlerServiceHandlers['Produce'] = (call) => {
  const name = String(call.metadata.get(CASE_KEY)[0] ?? '');
  call.once('data', (request: { produce?: { request_id: string } | null }) => {
    call.write({ create: { wal_name: 'test-wal', producer_server_id: 7 } });
    call.write({ produce: { request_id: request.produce?.request_id ?? '0', error: streamingErrorToProto(IN_BAND) } });
    if (name === RAW) call.emit('error', new Error(RAW_MESSAGE));
    else failServerStream(call, caseNamed(name).error());
  });
};

// ---- client helpers ----

/** Reads a stream to its end the way product code does (`for await`), keeping the final error. */
async function drain<T>(stream: AsyncIterable<T>): Promise<{ messages: T[]; error: unknown }> {
  const messages: T[] = [];
  try {
    for await (const message of stream) messages.push(message);
  } catch (error) {
    return { messages, error };
  }
  return { messages, error: undefined };
}

function asServiceError(e: unknown): grpc.ServiceError {
  expect(e).toBeInstanceOf(Error);
  const err = e as grpc.ServiceError;
  expect(typeof err.code).toBe('number');
  expect(err.metadata).toBeInstanceOf(grpc.Metadata);
  return err;
}

/** What every StreamingError must look like on the client, whatever the call shape. */
function expectRoundTrip(e: unknown, c: Case): void {
  const err = asServiceError(e);
  expect(err.code).toBe(c.grpcCode);
  expect(err.details).toBe(c.cause);

  const trailer = err.metadata.get(STATUS_DETAILS_KEY);
  expect(trailer).toHaveLength(1);
  const [bytes] = trailer;
  expect(Buffer.isBuffer(bytes)).toBe(true);
  // What a Go client's status.FromError sees: the same gRPC code and message as the headers.
  const status = protoTypes.rpc.Status.decode(bytes as Buffer);
  expect(status.code).toBe(c.grpcCode);
  expect(status.message).toBe(c.cause);

  const streamingError = fromServiceError(err);
  expect(streamingError).toBeInstanceOf(StreamingError);
  expect(streamingError.code).toBe(c.code);
  expect(streamingError.message).toBe(c.cause);
  expect(grpcCodeOf(streamingError)).toBe(c.grpcCode);
}

function expectRaw(e: unknown): void {
  const err = asServiceError(e);
  expect(err.code).toBe(grpc.status.UNKNOWN);
  expect(err.details).toBe(RAW_MESSAGE);
  expect(err.metadata.get(STATUS_DETAILS_KEY)).toEqual([]);
  const streamingError = fromServiceError(err);
  expect(streamingError.code).toBe(StreamingCode.UNKNOWN);
  expect(streamingError.message).toContain(RAW_MESSAGE);
  expect(grpcCodeOf(streamingError)).toBe(grpc.status.UNKNOWN);
}

function bind(server: grpc.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
  });
}

describe('StreamingError over real gRPC', () => {
  const errorTest = loadErrorTestService();
  const server = new grpc.Server();
  let manager: StreamingNodeManagerServiceClient;
  let handler: StreamingNodeHandlerServiceClient;
  let tester: ErrorTestClient;

  beforeAll(async () => {
    server.addService(serviceDefinitions().streamingNodeManager, { Assign: assign });
    server.addService(serviceDefinitions().streamingNodeHandler, { Produce: produce });
    server.addService(errorTest.service, { Watch: watch });
    const address = `127.0.0.1:${await bind(server)}`;
    const insecure = grpc.credentials.createInsecure();
    manager = new (clientConstructors().streamingNodeManager)(address, insecure);
    handler = new (clientConstructors().streamingNodeHandler)(address, insecure);
    tester = new errorTest.Client(address, insecure);
  });

  afterAll(() => {
    manager?.close();
    handler?.close();
    tester?.close();
    server.forceShutdown();
  });

  function callAssign(name: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      manager.Assign({ pchannel: { name, term: 1 } }, (err) => (err ? resolve(err) : reject(new Error('Assign succeeded'))));
    });
  }

  function callProduce(name: string): Promise<{ messages: unknown[]; error: unknown }> {
    const metadata = new grpc.Metadata();
    metadata.set(CASE_KEY, name);
    const call = handler.Produce(metadata);
    call.write({ produce: { request_id: 41, message: { payload: Buffer.from('hello'), properties: {} } } });
    return drain(call);
  }

  describe.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    it('unary (Assign): mapped code, details trailer, same StreamingError', async () => {
      expectRoundTrip(await callAssign(c.name), c);
    });

    it('server-streaming: responses first, then the error with details', async () => {
      const { messages, error } = await drain(tester.Watch({ test_case: c.name, responses_before_error: 3 }));
      expect(messages).toEqual([{ seq: 1 }, { seq: 2 }, { seq: 3 }]);
      expectRoundTrip(error, c);
    });

    it('bidi (Produce): responses already sent arrive before the error with details', async () => {
      const { messages, error } = await callProduce(c.name);
      expect(messages).toHaveLength(2);
      expect(messages[0]).toMatchObject({ response: 'create', create: { wal_name: 'test-wal', producer_server_id: '7' } });
      // The per-request failure travelled in-band and did not end the stream by itself.
      const inBand = messages[1] as { response: string; produce: { request_id: string; error: { code: string; cause: string } } };
      expect(inBand.response).toBe('produce');
      expect(inBand.produce.request_id).toBe('41');
      const inBandError = streamingErrorFromProto(inBand.produce.error);
      expect(inBandError.code).toBe(StreamingCode.INVAILD_ARGUMENT);
      expect(inBandError.message).toBe(IN_BAND.message);
      expectRoundTrip(error, c);
    });
  });

  describe('a failure without status details', () => {
    it('unary arrives as UNKNOWN with its message', async () => {
      expectRaw(await callAssign(RAW));
    });

    it('server-streaming arrives as UNKNOWN with its message', async () => {
      const { messages, error } = await drain(tester.Watch({ test_case: RAW, responses_before_error: 1 }));
      expect(messages).toEqual([{ seq: 1 }]);
      expectRaw(error);
    });

    it('bidi arrives as UNKNOWN with its message', async () => {
      const { messages, error } = await callProduce(RAW);
      expect(messages).toHaveLength(2);
      expectRaw(error);
    });
  });

  it('an unreachable server is UNKNOWN with grpc code UNAVAILABLE', async () => {
    const gone = new grpc.Server();
    const port = await bind(gone);
    gone.forceShutdown();
    const client = new (clientConstructors().streamingNodeManager)(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const err = await new Promise<unknown>((resolve, reject) => {
        client.Assign({ pchannel: { name: 'x', term: 1 } }, { deadline: Date.now() + 10_000 }, (e) =>
          e ? resolve(e) : reject(new Error('Assign succeeded')),
        );
      });
      const streamingError = fromServiceError(err);
      expect(streamingError.code).toBe(StreamingCode.UNKNOWN);
      expect(grpcCodeOf(streamingError)).toBe(grpc.status.UNAVAILABLE);
    } finally {
      client.close();
    }
  });
});
