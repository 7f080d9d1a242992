/**
 * Per-stream limits of the handler service (Produce / Consume), injected by the composition root.
 */
import { DEFAULT_WAL_MAX_MESSAGE_BYTES } from '../../../shared/index.js';

/** Appends of one producer stream running at once (Milvus bounds them only by its WAL pool). */
export const DEFAULT_MAX_IN_FLIGHT_APPENDS = 1024;
/** Most messages the server puts in one `consume_batch` frame, whatever the client asks for. */
export const DEFAULT_MAX_CONSUME_BATCH_MESSAGES = 256;

/** Every limit, resolved. */
export interface HandlerLimits {
  /**
   * Largest message a producer may send: payload plus property keys and values, in bytes. A
   * larger one is answered in-band with INVAILD_ARGUMENT (the WAL applies its own limit too).
   */
  readonly maxMessageBytes: number;
  /**
   * Appends of one producer stream in flight (accepted and not yet answered). At the bound the
   * server stops reading the stream, which pushes back on the client through HTTP/2.
   */
  readonly maxInFlightAppends: number;
  /** Most requests in one `produce_batch` frame (≤ maxInFlightAppends); a larger batch is refused in-band. */
  readonly maxProduceBatchMessages: number;
  /** Upper bound of a consumer's `max_batch_messages`. */
  readonly maxConsumeBatchMessages: number;
}

/** The defaults. */
export const DEFAULT_HANDLER_LIMITS: HandlerLimits = Object.freeze({
  maxMessageBytes: DEFAULT_WAL_MAX_MESSAGE_BYTES,
  maxInFlightAppends: DEFAULT_MAX_IN_FLIGHT_APPENDS,
  maxProduceBatchMessages: DEFAULT_MAX_IN_FLIGHT_APPENDS,
  maxConsumeBatchMessages: DEFAULT_MAX_CONSUME_BATCH_MESSAGES,
});

/**
 * Fills in defaults and checks the numbers. `maxProduceBatchMessages` defaults to
 * `maxInFlightAppends` and may not exceed it (a batch holds one in-flight slot per message).
 *
 * @throws RangeError for a value that is not a positive safe integer, or a batch bound above the
 *   in-flight bound (a configuration bug, found at startup).
 */
export function resolveHandlerLimits(limits: Partial<HandlerLimits> = {}): HandlerLimits {
  const maxInFlightAppends = limits.maxInFlightAppends ?? DEFAULT_HANDLER_LIMITS.maxInFlightAppends;
  const resolved: HandlerLimits = {
    maxMessageBytes: limits.maxMessageBytes ?? DEFAULT_HANDLER_LIMITS.maxMessageBytes,
    maxInFlightAppends,
    maxProduceBatchMessages: limits.maxProduceBatchMessages ?? maxInFlightAppends,
    maxConsumeBatchMessages: limits.maxConsumeBatchMessages ?? DEFAULT_HANDLER_LIMITS.maxConsumeBatchMessages,
  };
  for (const [key, value] of Object.entries(resolved)) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`handler limit ${key} must be an integer >= 1, got ${String(value)}`);
    }
  }
  if (resolved.maxProduceBatchMessages > resolved.maxInFlightAppends) {
    throw new RangeError(
      `handler limit maxProduceBatchMessages (${resolved.maxProduceBatchMessages}) must not exceed maxInFlightAppends (${resolved.maxInFlightAppends})`,
    );
  }
  return Object.freeze(resolved);
}
