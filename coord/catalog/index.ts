/**
 * The coordinator catalog: the {@link Catalog} contract and its domain types, the key layout,
 * and {@link MetaCatalog}, the implementation on a MetaKV. Other coord/ folders import from here.
 */
export {
  PChannelMetaState,
  type Catalog,
  type PChannelAssignmentLog,
  type PChannelMeta,
  type StreamingNodeInfo,
  type VChannelMeta,
} from './catalog.js';
export { CatalogKeys, DEFAULT_META_ROOT, STREAMING_COORD_META } from './catalog-keys.js';
export {
  MetaCatalog,
  DEFAULT_CATALOG_PAGE_SIZE,
  DEFAULT_CATALOG_TXN_OPS,
  DEFAULT_CATALOG_WRITE_BACKOFF,
  type CatalogWriteOptions,
  type MetaCatalogOptions,
} from './meta-catalog.js';
export { corruptValue } from './catalog-codec.js';
