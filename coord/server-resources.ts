/**
 * Process resources of the coordinator's composition root: the meta store it runs on. (Its gRPC
 * server's bind and shutdown are shared with the node: `bindGrpcServer` / `shutdownGrpcServer`.)
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { EtcdMetaKV, LevelMetaKV } from '../shared/index.js';
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
