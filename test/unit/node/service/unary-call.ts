/**
 * Drives a grpc-js unary handler without a socket: a fake call (an EventEmitter holding the
 * request, so `cancelled` can be emitted) and a promise of what the handler answered.
 */
import { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';

/** What a handler answered: a value, or the ServiceError it failed with. */
export type UnaryOutcome<Res> = { readonly ok: true; readonly value: Res } | { readonly ok: false; readonly error: grpc.ServiceError };

/** A call in flight: emit `cancelled` on `call` to simulate the client going away. */
export interface UnaryInvocation<Res> {
  readonly call: EventEmitter;
  readonly outcome: Promise<UnaryOutcome<Res>>;
  /** Whether the handler has answered yet. */
  answered(): boolean;
}

export function invokeUnary<Req, Res>(handler: grpc.handleUnaryCall<Req, Res>, request: Req): UnaryInvocation<Res> {
  const call = Object.assign(new EventEmitter(), { request, metadata: undefined, getDeadline: () => Infinity });
  let done = false;
  const outcome = new Promise<UnaryOutcome<Res>>((resolve) => {
    handler(call as unknown as grpc.ServerUnaryCall<Req, Res>, (error, value) => {
      done = true;
      if (error) resolve({ ok: false, error: error as grpc.ServiceError });
      else resolve({ ok: true, value: value as Res });
    });
  });
  return { call, outcome, answered: () => done };
}
