/**
 * Where new vchannels go (Milvus `AllocVirtualChannels`, reference `milvus-coord.md` §8): the
 * least-loaded pchannels first, one vchannel per pchannel, so the shards of one collection land
 * on distinct pchannels. Pure functions, so the rule is testable without a catalog.
 */
import { StreamingError, pchannelIndex } from '../../shared/index.js';
import { compareNames } from '../channel/index.js';

/**
 * Orders pchannels for placement: fewer live vchannels first; ties by pchannel index
 * (`<cluster>-rootcoord-dml_<i>`, numerically, so `dml_2` precedes `dml_10`), then by name for
 * names without an index. Milvus breaks ties by string order (`dml_10` < `dml_2`); the numeric
 * index is what an operator reading `ListVChannels` expects, and any fixed order keeps the
 * allocation deterministic.
 */
export function comparePlacement(a: string, b: string, load: (pchannel: string) => number): number {
  const byLoad = load(a) - load(b);
  if (byLoad !== 0) return byLoad;
  const ia = pchannelIndex(a) ?? Number.POSITIVE_INFINITY;
  const ib = pchannelIndex(b) ?? Number.POSITIVE_INFINITY;
  if (ia !== ib) return ia < ib ? -1 : 1;
  return compareNames(a, b);
}

/**
 * The `count` pchannels a new collection's vchannels go to, shard 0 first.
 *
 * @throws StreamingError INVAILD_ARGUMENT naming `count` when it exceeds the number of pchannels
 *   (Milvus: "not enough pchannels to allocate"), since two shards of one collection must not
 *   share a pchannel.
 */
export function choosePChannels(pchannels: readonly string[], count: number, load: (pchannel: string) => number): string[] {
  if (count > pchannels.length) {
    throw StreamingError.invalidArgument('count', `not enough pchannels to allocate ${count} vchannels (one per pchannel): there are ${pchannels.length}`);
  }
  return [...pchannels].sort((a, b) => comparePlacement(a, b, load)).slice(0, count);
}
