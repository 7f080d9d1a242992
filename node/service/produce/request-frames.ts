/**
 * Undecodable request frames as a value instead of a grpc-js failure.
 *
 * grpc-js fails a call whose request frame does not decode with `INTERNAL "Error deserializing
 * request"`, without details, before the handler sees anything. The streaming service promises a
 * clear StreamingError for bad input (DESIGN.md §9.5), so the handler service registers request
 * deserializers that turn a decoding failure into an {@link UndecodableFrame}; the recv arm then
 * ends that one stream with INVAILD_ARGUMENT naming the message type. Either way the process and
 * every other stream are unaffected.
 */
import type * as grpc from '@grpc/grpc-js';
import { StreamingError } from '../../../shared/index.js';

/** A request frame of `method` that is not a valid encoding of its message type. */
export class UndecodableFrame {
  readonly method: string;
  readonly bytes: number;
  readonly error: unknown;

  constructor(method: string, bytes: number, error: unknown) {
    this.method = method;
    this.bytes = bytes;
    this.error = error;
  }

  /** The stream-fatal error the handler ends the call with. */
  toStreamingError(): StreamingError {
    const problem = this.error instanceof Error ? this.error.message : String(this.error);
    return StreamingError.invalidArgument(`${this.method} request frame`, `cannot decode ${this.bytes} bytes: ${problem}`, this.error);
  }
}

/** True for a frame the tolerant deserializer could not decode. */
export function isUndecodableFrame(value: unknown): value is UndecodableFrame {
  return value instanceof UndecodableFrame;
}

/**
 * A copy of `definition` whose client-streaming methods decode requests with
 * {@link UndecodableFrame} in place of a throw. Unary methods keep grpc-js's behaviour.
 */
export function withTolerantRequestDecoding(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(definition)) {
    if (!method.requestStream) {
      out[name] = method;
      continue;
    }
    const decode = method.requestDeserialize;
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        // The handler checks for UndecodableFrame first, so it never mistakes one for a request.
        try {
          return decode(bytes);
        } catch (error) {
          return new UndecodableFrame(name, bytes.length, error);
        }
      },
    };
  }
  return out;
}
