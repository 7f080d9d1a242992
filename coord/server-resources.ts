/**
 * Process resources of the coordinator's composition root: the meta store it runs on. (Its gRPC
 * server's bind and shutdown are shared with the node: `bindGrpcServer` / `shutdownGrpcServer`.)
 */
import { join } from 'node:path';
import type { Config, MetaStoreSpec } from '../shared/index.js';

/**
 * Which meta store the coordinator uses: `etcd` (cluster mode, the default), `embedded` (standalone:
 * LevelDB in `dir`, see {@link embeddedCoordMetaDir}) or `injected` (shared with a node; tests).
 */
export type CoordMetaStoreSpec = MetaStoreSpec;

/** `<standalone.dataDir>/meta` (DESIGN §2: standalone keeps its metadata there). */
export function embeddedCoordMetaDir(config: Config): string {
  return join(config.standalone.dataDir, 'meta');
}

