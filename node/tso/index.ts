/**
 * The node's timestamp source: {@link RemoteTsoAllocator} over the coordinator's TsoService
 * (cluster mode); standalone and local runs use the shared `LocalTsoAllocator` instead.
 */
export { RemoteTsoAllocator, type RemoteTsoAllocatorOptions } from './tso-client.js';
