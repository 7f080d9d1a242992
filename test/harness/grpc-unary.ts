/** The promisified unary call of the tests that talk to real gRPC servers. */
import type * as grpc from '@grpc/grpc-js';

/** Promisified unary call on a generated client: `await unary((cb) => admin.ListNodes({}, cb))`. */
export function unary<Res>(invoke: (callback: (err: grpc.ServiceError | null, res?: Res) => void) => unknown): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    invoke((err, res) => {
      if (err) reject(err);
      else resolve(res as Res);
    });
  });
}
