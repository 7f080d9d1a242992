/**
 * Process resources of the coordinator's composition root: the meta store it runs on, and its
 * gRPC server's bind and shutdown.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { EtcdMetaKV, LevelMetaKV, StreamingError } from '../shared/index.js';
import type { Config, MetaKV } from '../shared/index.js';

/**
 * Which meta store the coordinator uses:
 * - `etcd`: cluster mode, `config.etcd` (the default);
 * - `embedded`: standalone mode, an embedded LevelDB store in `dir` (see {@link embeddedCoordMetaDir});
 * - `injected`: a store someone else owns (standalone mode shares one with its node; tests).
 */
export type CoordMetaStoreSpec =
  | { readonly kind: 'etcd' }
  | { readonly kind: 'embedded'; readonly dir: string }
  | { readonly kind: 'injected'; readonly kv: MetaKV };

/** An open meta store and whether the coordinator owns (closes) it. */
export interface OpenedCoordMetaStore {
  readonly kv: MetaKV;
  readonly owned: boolean;
}

/** `<standalone.dataDir>/meta` (DESIGN §2: standalone keeps its metadata there). */
export function embeddedCoordMetaDir(config: Config): string {
  return join(config.standalone.dataDir, 'meta');
}

/** Opens the store of `spec`. */
export async function openCoordMetaStore(spec: CoordMetaStoreSpec, config: Config): Promise<OpenedCoordMetaStore> {
  switch (spec.kind) {
    case 'injected':
      return { kv: spec.kv, owned: false };
    case 'embedded':
      mkdirSync(spec.dir, { recursive: true });
      return { kv: await LevelMetaKV.open(spec.dir), owned: true };
    case 'etcd':
      return { kv: new EtcdMetaKV({ endpoints: config.etcd.endpoints, requestTimeoutMs: config.etcd.requestTimeoutMs }), owned: true };
  }
}

/**
 * Binds `host:port` (port 0 = a free one) without TLS; resolves with the bound port.
 * @throws StreamingError INNER naming the address when it cannot bind (in use, bad host).
 */
export function bindCoordServer(server: grpc.Server, host: string, port: number): Promise<number> {
  const address = `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, bound) => {
      if (error) reject(StreamingError.inner(`cannot bind the coordinator's gRPC server to ${address}: ${error.message}`, error));
      else resolve(bound);
    });
  });
}

/**
 * Stops accepting calls and waits up to `timeoutMs` for the running ones, then cancels the rest.
 * Resolves `true` when every call finished on its own, `false` when it had to force.
 */
export function shutdownCoordServer(server: grpc.Server, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      server.forceShutdown();
      resolve(false);
    }, timeoutMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      if (done) return;
      done = true;
      resolve(true);
    });
  });
}
