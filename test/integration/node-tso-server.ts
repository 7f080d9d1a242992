/**
 * A tiny in-process `streamingwal.v1.TsoService` for node tests (the coordinator's real one is
 * built elsewhere): timestamps from a LocalTsoAllocator, every request recorded, restartable on
 * the same port to play a coordinator that goes away and comes back.
 */
import * as grpc from '@grpc/grpc-js';
import { LocalTsoAllocator, type TsoServiceHandlers, serviceDefinitions } from '../../shared/index.js';

export class FakeTsoServer {
  /** `count` of every request served, in order. */
  readonly requests: number[] = [];
  readonly allocator: LocalTsoAllocator;
  #server: grpc.Server | undefined;
  #port = 0;

  constructor(allocator = new LocalTsoAllocator()) {
    this.allocator = allocator;
  }

  get port(): number {
    return this.#port;
  }

  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  /** Serves on `port` (default: the last one, or any free one the first time). */
  async start(port = this.#port): Promise<void> {
    const server = new grpc.Server();
    const handlers: TsoServiceHandlers = {
      AllocateTimestamps: (call, callback) => {
        const count = call.request.count || 1;
        this.requests.push(count);
        callback(null, { timestamp: this.allocator.allocateSync(count).toString(), count });
      },
    };
    server.addService(serviceDefinitions().tso, handlers);
    this.#port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    this.#server = server;
  }

  /** Drops every connection at once (a crashed coordinator). */
  stop(): void {
    this.#server?.forceShutdown();
    this.#server = undefined;
  }
}
