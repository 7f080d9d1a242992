export {
  LOGICAL_BITS,
  LOGICAL_COUNT,
  MAX_LOGICAL,
  MAX_PHYSICAL_MS,
  MAX_TS,
  type ParsedTs,
  composeTs,
  parseTs,
  physicalMsOf,
  logicalOf,
  tsToDate,
  tsFromDate,
  addPhysicalMs,
  physicalDiffMs,
  isValidTs,
} from './hybrid-ts.js';
export { type TsoAllocator, type LocalTsoAllocatorOptions, LocalTsoAllocator } from './tso-allocator.js';
