/**
 * Every .proto must compile with the reference compiler (Debian `protoc` 3.21; CI installs
 * protobuf-compiler). Missing protoc is a failure, not a skip. protoc also decodes a few of our
 * encodings, as an independent check that protobufjs and protoc agree on the schema.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeProto } from '../../../../shared/proto/index.js';

const ROOT = resolve(import.meta.dirname, '../../../..');

function protocIncludeDir(): string {
  const onPath = (process.env.PATH ?? '').split(delimiter).find((d) => d !== '' && existsSync(join(d, 'protoc')));
  const candidates = [onPath === undefined ? '' : join(dirname(onPath), 'include'), '/usr/include', '/usr/local/include'];
  const found = candidates.find((c) => c !== '' && existsSync(join(c, 'google', 'protobuf', 'any.proto')));
  if (found === undefined) throw new Error('google/protobuf/any.proto not found next to protoc');
  return found;
}

/** `protoc --decode=<type>`: protoc's text format of `bytes`. */
function protocDecode(typeName: string, file: string, bytes: Buffer): string {
  const res = spawnSync('protoc', ['-Iproto', `-I${protocIncludeDir()}`, `--decode=${typeName}`, file], {
    cwd: ROOT,
    input: bytes,
    encoding: 'utf8',
  });
  expect(res.stderr).toBe('');
  expect(res.status).toBe(0);
  return res.stdout.trim();
}

describe('protoc', () => {
  it('compiles every .proto file', () => {
    const res = spawnSync(process.execPath, ['scripts/gen-proto.mjs', '--protoc'], { cwd: ROOT, encoding: 'utf8' });
    expect(res.error).toBeUndefined();
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: '' });
  });

  it('reads our StreamingError encoding the same way', () => {
    const bytes = encodeProto('milvus.proto.streaming.StreamingError', { code: 'STREAMING_CODE_CHANNEL_FENCED', cause: 'x' });
    expect(protocDecode('milvus.proto.streaming.StreamingError', 'streaming.proto', bytes)).toBe(
      'code: STREAMING_CODE_CHANNEL_FENCED\ncause: "x"',
    );
  });

  it('reads our 64-bit and batch-extension fields the same way', () => {
    const bytes = encodeProto('milvus.proto.streaming.CreateConsumerRequest', {
      pchannel: { name: 'by-dev-rootcoord-dml_0', term: 9007199254740993n, access_mode: 'PCHANNEL_ACCESS_READONLY' },
      max_batch_messages: 64,
    });
    expect(protocDecode('milvus.proto.streaming.CreateConsumerRequest', 'streaming.proto', bytes)).toBe(
      [
        'pchannel {',
        '  name: "by-dev-rootcoord-dml_0"',
        '  term: 9007199254740993',
        '  access_mode: PCHANNEL_ACCESS_READONLY',
        '}',
        'max_batch_messages: 64',
      ].join('\n'),
    );
  });

  it('reads our MessageType and TxnContext encodings the same way', () => {
    const filter = encodeProto('milvus.proto.streaming.DeliverFilter', {
      message_type: { message_types: ['Insert', 'BeginTxn', 'Txn'] },
    });
    expect(protocDecode('milvus.proto.streaming.DeliverFilter', 'streaming.proto', filter)).toBe(
      'message_type {\n  message_types: Insert\n  message_types: BeginTxn\n  message_types: Txn\n}',
    );
    const txn = encodeProto('milvus.proto.messages.TxnContext', { txn_id: -1n, keepalive_milliseconds: 10_000 });
    expect(protocDecode('milvus.proto.messages.TxnContext', 'messages.proto', txn)).toBe(
      'txn_id: -1\nkeepalive_milliseconds: 10000',
    );
  });
});
