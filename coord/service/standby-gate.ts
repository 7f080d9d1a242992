/**
 * Standby mode: a coordinator that is not the elected active one must not answer from its own
 * (stale) state, so every RPC of the coordinator services fails fast with a StreamingError that
 * names the active coordinator.
 *
 * The error: code ON_SHUTDOWN (gRPC FAILED_PRECONDITION), cause
 * `not the active coordinator; the active coordinator is at <address>`, and, for clients that
 * must not parse text (STYLE §3), the address also in the trailer {@link ACTIVE_COORDINATOR_METADATA_KEY}.
 * Why ON_SHUTDOWN: it is the StreamingCode every client already treats as "this server is not
 * serving, go elsewhere and retry" (Milvus clients reconnect on it; `isOnShutdown()`), whereas
 * UNAVAILABLE-style codes would make gRPC-level retries hit the same standby again, and
 * INVAILD_ARGUMENT / UNRECOVERABLE would stop clients for good. FAILED_PRECONDITION is also the
 * honest gRPC reading: the request is fine, this server is in the wrong state for it.
 *
 * The role is read at the start of each call; a coordinator losing leadership must also close its
 * discovery server so open `AssignmentDiscover` streams end (the election does that).
 */
import type * as grpc from '@grpc/grpc-js';
import { StreamingError, toServiceError } from '../../shared/index.js';

/** Trailer key holding the active coordinator's address on a standby's error. */
export const ACTIVE_COORDINATOR_METADATA_KEY = 'streamingwal-active-coordinator';

/** This coordinator's role right now. */
export interface CoordinatorRole {
  readonly active: boolean;
  /** The active coordinator's address, when known. */
  readonly activeAddress?: string | undefined;
}

/** Read on every call; cheap and synchronous. */
export type CoordinatorRoleProvider = () => CoordinatorRole;

/** The StreamingError a standby answers with (see the module comment). */
export function notActiveError(role: CoordinatorRole): StreamingError {
  const where = role.activeAddress ? `the active coordinator is at ${role.activeAddress}` : 'no active coordinator is known yet';
  return StreamingError.onShutdown(`not the active coordinator; ${where}`);
}

/** {@link notActiveError} as the gRPC error, with the address trailer. */
export function notActiveServiceError(role: CoordinatorRole): grpc.ServiceError {
  const error = toServiceError(notActiveError(role));
  if (role.activeAddress) error.metadata.set(ACTIVE_COORDINATOR_METADATA_KEY, role.activeAddress);
  return error;
}

type AnyHandler = (call: grpc.ServerWritableStream<unknown, unknown>, callback?: (e: grpc.ServiceError) => void) => void;

/**
 * Wraps every handler of a service so that, while `role()` says standby, it answers
 * {@link notActiveServiceError} instead of running. `exempt` methods always run (e.g.
 * `GetActiveCoordinator`, which ext.proto says any coordinator answers).
 */
export function withStandbyGate<H extends grpc.UntypedServiceImplementation>(
  definition: grpc.ServiceDefinition,
  handlers: H,
  role: CoordinatorRoleProvider,
  exempt: readonly string[] = [],
): H {
  const gated: grpc.UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(handlers)) {
    const def = definition[method];
    if (def === undefined || exempt.includes(method)) {
      gated[method] = handler;
      continue;
    }
    const run = handler as unknown as AnyHandler;
    // Unary and client-streaming calls answer through their callback; server-streaming and bidi
    // calls through their status (an 'error' event, never destroy(): see failServerStream).
    const answersByCallback = !def.responseStream;
    const wrapped: AnyHandler = (call, callback) => {
      const current = role();
      if (current.active) return run(call, callback);
      const error = notActiveServiceError(current);
      if (answersByCallback) callback?.(error);
      else call.emit('error', error);
    };
    gated[method] = wrapped as unknown as grpc.UntypedHandleCall;
  }
  return gated as H;
}
