/**
 * Error codes of the streaming service, numbered exactly as `milvus.proto.streaming.StreamingCode`
 * (Milvus 2.6 line). Codes 0–13 and 999 are wire-stable; a number this table does not know is read
 * as {@link StreamingCode.UNKNOWN}.
 */
export enum StreamingCode {
  OK = 0,
  CHANNEL_NOT_EXIST = 1,
  CHANNEL_FENCED = 2,
  ON_SHUTDOWN = 3,
  INVALID_REQUEST_SEQ = 4,
  UNMATCHED_CHANNEL_TERM = 5,
  IGNORED_OPERATION = 6,
  INNER = 7,
  /** Spelled as in the proto (`STREAMING_CODE_INVAILD_ARGUMENT`). */
  INVAILD_ARGUMENT = 8,
  TRANSACTION_EXPIRED = 9,
  INVALID_TRANSACTION_STATE = 10,
  UNRECOVERABLE = 11,
  RESOURCE_ACQUIRED = 12,
  REPLICATE_VIOLATION = 13,
  UNKNOWN = 999,
}

const PROTO_PREFIX = 'STREAMING_CODE_';

/** The proto enum name of a code, e.g. `STREAMING_CODE_CHANNEL_FENCED`. */
export function streamingCodeName(code: StreamingCode): string {
  return PROTO_PREFIX + (StreamingCode[code] ?? 'UNKNOWN');
}

/**
 * Reads a code as it comes off the wire: a number, or a proto enum name (proto-loader with
 * `enums: String`). Anything unknown becomes {@link StreamingCode.UNKNOWN}.
 */
export function parseStreamingCode(value: unknown): StreamingCode {
  if (typeof value === 'number') {
    return value in StreamingCode && typeof StreamingCode[value] === 'string' ? (value as StreamingCode) : StreamingCode.UNKNOWN;
  }
  if (typeof value === 'string') {
    const short = value.startsWith(PROTO_PREFIX) ? value.slice(PROTO_PREFIX.length) : value;
    const code = (StreamingCode as unknown as Record<string, unknown>)[short];
    if (typeof code === 'number') return code as StreamingCode;
    if (/^\d+$/.test(value)) return parseStreamingCode(Number(value));
  }
  return StreamingCode.UNKNOWN;
}
