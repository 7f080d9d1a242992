/**
 * The public surface of `coord/vchannel/`: vchannel allocation on the least-loaded pchannels,
 * drop, listing, and the per-pchannel stats provider of the balancer's vchannelFair policy.
 */
export { VChannelAllocator } from './vchannel-allocator.js';
export type { VChannelAllocation, VChannelAllocatorOptions, VChannelListFilter } from './vchannel-allocator.js';
export { choosePChannels, comparePlacement } from './vchannel-placement.js';
