import { StreamingError, asStreamingError, parseStreamingCode, streamingCodeName } from '../errors/index.js';
import type { ProtoOutput } from '../proto/index.js';

/**
 * The proto form of a {@link StreamingError} (`milvus.proto.streaming.StreamingError`) as this
 * project writes it: the code as its proto enum name, the cause as text.
 */
export type StreamingErrorProto = ProtoOutput<'milvus.proto.streaming.StreamingError'>;

/**
 * What {@link streamingErrorFromProto} accepts: a decoded message (enum name, or a number when
 * the code is newer than our schema) or a hand-built one. Absent fields read as proto zero values.
 */
export interface StreamingErrorProtoLike {
  readonly code?: string | number | null;
  readonly cause?: string | null;
}

/**
 * Turns any error into the in-band proto form used by `ProduceMessageResponse.error` and
 * `CreateVChannelConsumerResponse.error`. Non-StreamingErrors become `UNKNOWN` (see
 * `asStreamingError`).
 *
 * @example
 * ```ts
 * call.write({ produce: { request_id, error: streamingErrorToProto(e) } });
 * ```
 */
export function streamingErrorToProto(e: unknown): StreamingErrorProto {
  const error = asStreamingError(e);
  return {
    // Our StreamingCode enum mirrors the proto enum member for member, so its proto name is
    // always one of the generated enum names.
    code: streamingCodeName(error.code) as StreamingErrorProto['code'],
    cause: error.causeText,
  };
}

/**
 * Rebuilds a {@link StreamingError} from its proto form. The code may be an enum name or a
 * number; one this schema does not know (a newer Milvus line) becomes `UNKNOWN`, so a client
 * never mistakes it for a code it would act on. `options.cause` records where it came from.
 */
export function streamingErrorFromProto(p: StreamingErrorProtoLike, options?: { cause?: unknown }): StreamingError {
  return new StreamingError(parseStreamingCode(p.code ?? 0), p.cause ?? '', options);
}
