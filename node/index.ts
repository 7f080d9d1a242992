/**
 * The streaming node: its composition root ({@link NodeServer}), its process entry
 * ({@link runNode}, used by `walctl node`), and what embedders (standalone mode, tests) plug in.
 */
export { NodeServer, type NodeServerInfo, type NodeServerOptions, type NodeServiceContext, type NodeServiceFactory } from './server.js';
export { nodeReadyFields, runNode, type RunNodeOptions } from './main.js';
export {
  abortableTso,
  advertisedAddress,
  createDefaultWalProvider,
  createNodeTso,
  embeddedMetaDir,
  type NodeWalContext,
  type NodeWalProvider,
} from './server-resources.js';
export { NodeHealth, type NodeServingState, type ServiceRegistration } from './service/index.js';
export { RemoteTsoAllocator, type RemoteTsoAllocatorOptions } from './tso/index.js';
export type { SessionLossPolicy } from './session/index.js';
