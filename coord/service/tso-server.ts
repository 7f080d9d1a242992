/**
 * `streamingwal.v1.TsoService.AllocateTimestamps`: hybrid timestamps from the coordinator's TSO
 * (persisted upper bound, so they never go back across restarts and failover).
 *
 * `count` must be in [1, max]; 0 is rejected (INVAILD_ARGUMENT) rather than read as 1, so a client
 * that forgot to set it learns at once. (ext.proto's comment still says "0 is treated as 1"; the
 * rejection is the contract this service implements.) The max defaults to the logical space of
 * one millisecond (2^18), the most one allocation can return.
 */
import { LOGICAL_COUNT, StreamingError } from '../../shared/index.js';
import type { ProtoInputOf, ProtoOutput, TsoAllocator, TsoServiceHandlers } from '../../shared/index.js';
import { unaryHandler } from './unary-handler.js';

/** Default and greatest allowed `maxCount`. */
export const DEFAULT_MAX_TIMESTAMPS_PER_CALL = LOGICAL_COUNT;

/** What the TSO service uses. */
export interface TsoServerOptions {
  readonly tso: TsoAllocator;
  /** Largest `count` of one call, 1..2^18; default {@link DEFAULT_MAX_TIMESTAMPS_PER_CALL}. */
  readonly maxCount?: number;
}

type Request = ProtoOutput<'streamingwal.v1.AllocateTimestampsRequest'>;
type Response = ProtoInputOf<'streamingwal.v1.AllocateTimestampsResponse'>;

/**
 * The handlers of `TsoService`.
 *
 * @throws StreamingError INVAILD_ARGUMENT naming `maxCount` when it is out of range.
 */
export function tsoServiceHandlers(options: TsoServerOptions): TsoServiceHandlers {
  const max = options.maxCount ?? DEFAULT_MAX_TIMESTAMPS_PER_CALL;
  if (!Number.isInteger(max) || max < 1 || max > LOGICAL_COUNT) {
    throw StreamingError.invalidArgument('maxCount', `must be an integer in [1, ${LOGICAL_COUNT}], got ${max}`);
  }
  return {
    AllocateTimestamps: unaryHandler<Request, Response>(async (request) => {
      const count = request.count;
      if (!Number.isInteger(count) || count < 1 || count > max) {
        throw StreamingError.invalidArgument('count', `must be in [1, ${max}], got ${count}`);
      }
      const first = await options.tso.allocate(count);
      return { timestamp: first.toString(), count };
    }),
  };
}
