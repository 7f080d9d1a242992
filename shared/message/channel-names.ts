import { StreamingError } from '../errors/index.js';

/**
 * Channel naming, as Milvus does it:
 * - pchannel (a physical log): `<cluster>-rootcoord-dml_<i>`, e.g. `by-dev-rootcoord-dml_3`;
 * - vchannel (a collection shard on a pchannel): `<pchannel>_<collectionId>v<shardIndex>`,
 *   e.g. `by-dev-rootcoord-dml_3_449v0`;
 * - control channel (cluster-wide messages): `<pchannel>_vcchan`.
 * The pchannel of a vchannel is everything before its last `_`. As in Milvus
 * (`funcutil.IsPhysicalChannel`), a name is a vchannel only if the part after its last `_`
 * contains a `v`; anything else (e.g. `by-dev-rootcoord-dml_3`) is a pchannel name. Pchannel
 * names appear where vchannels usually do in cluster-level broadcasts (`_pcl` messages).
 */

/** Suffix of the control channel's vchannel name. */
export const CONTROL_CHANNEL_SUFFIX = 'vcchan';
/** Default cluster prefix (Milvus `msgChannel.chanNamePrefix.cluster`). */
export const DEFAULT_CLUSTER_PREFIX = 'by-dev';
/** Default number of pchannels (Milvus `rootCoord.dmlChannelNum`). */
export const DEFAULT_PCHANNEL_COUNT = 16;

const PCHANNEL_INFIX = '-rootcoord-dml_';
const MAX_NAME_LENGTH = 255;
/** Characters Milvus-generated names use; keeps names safe in etcd keys and file paths. */
const NAME_CHARS = /^[A-Za-z0-9_\-.]+$/;
const VCHANNEL_SUFFIX = /^(\d+)v(\d+)$/;

/** The parts of a data vchannel name. */
export interface ParsedVChannel {
  readonly pchannel: string;
  readonly collectionId: bigint;
  readonly shardIndex: number;
}

/** The pchannel name for index `i` of a cluster: `<cluster>-rootcoord-dml_<i>`. */
export function pchannelName(cluster: string, index: number): string {
  assertName(cluster, 'cluster');
  if (!Number.isSafeInteger(index) || index < 0) {
    throw StreamingError.invalidArgument('pchannel index', `must be a non-negative integer, got ${index}`);
  }
  return `${cluster}${PCHANNEL_INFIX}${index}`;
}

/** The `n` default pchannel names of a cluster, index 0 first. */
export function pchannelNames(cluster: string, count: number): string[] {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw StreamingError.invalidArgument('pchannel count', `must be a positive integer, got ${count}`);
  }
  return Array.from({ length: count }, (_, i) => pchannelName(cluster, i));
}

/** The vchannel of shard `shardIndex` of a collection on a pchannel: `<pchannel>_<id>v<idx>`. */
export function vchannelName(pchannel: string, collectionId: bigint | number, shardIndex: number): string {
  validatePChannelName(pchannel);
  const id = typeof collectionId === 'bigint' ? collectionId : BigInt(assertSafeInt(collectionId, 'collection id'));
  if (id < 0n) throw StreamingError.invalidArgument('collection id', `must be non-negative, got ${id}`);
  assertSafeInt(shardIndex, 'shard index');
  if (shardIndex < 0) throw StreamingError.invalidArgument('shard index', `must be non-negative, got ${shardIndex}`);
  return `${pchannel}_${id}v${shardIndex}`;
}

/** The control channel of a pchannel: `<pchannel>_vcchan`. */
export function controlChannelName(pchannel: string): string {
  validatePChannelName(pchannel);
  return `${pchannel}_${CONTROL_CHANNEL_SUFFIX}`;
}

/** True if `vchannel` is a control channel name. */
export function isControlChannel(vchannel: string): boolean {
  return vchannel.endsWith(`_${CONTROL_CHANNEL_SUFFIX}`) && vchannel.length > CONTROL_CHANNEL_SUFFIX.length + 1;
}

/**
 * The pchannel a vchannel lives on: the part before its last `_`.
 *
 * @throws StreamingError INVAILD_ARGUMENT naming `vchannel` when the name has no `_`, an empty
 *   part on either side, no `v` after the last `_` (a pchannel name), or characters outside
 *   `[A-Za-z0-9_.-]`.
 */
export function pchannelOfVChannel(vchannel: string, field = 'vchannel'): string {
  assertName(vchannel, field);
  const cut = vchannel.lastIndexOf('_');
  if (cut <= 0 || cut === vchannel.length - 1) {
    throw StreamingError.invalidArgument(field, `${JSON.stringify(vchannel)} is not of the form <pchannel>_<suffix>`);
  }
  if (!vchannel.slice(cut + 1).includes('v')) {
    throw StreamingError.invalidArgument(field, `${JSON.stringify(vchannel)} is a pchannel name, not a vchannel`);
  }
  return vchannel.slice(0, cut);
}

/** True if `name` is a pchannel name in Milvus' sense: no `_`, or no `v` after the last `_`. */
export function isPChannelName(name: string): boolean {
  const cut = name.lastIndexOf('_');
  return cut < 0 || !name.slice(cut + 1).includes('v');
}

/**
 * The pchannel of any channel name (Milvus `ToPhysicalChannel`): a pchannel name maps to itself,
 * a vchannel to the part before its last `_`.
 */
export function pchannelOfChannel(channel: string, field = 'channel'): string {
  assertName(channel, field);
  return isPChannelName(channel) ? channel : pchannelOfVChannel(channel, field);
}

/** Validates a vchannel name (data or control channel) and returns it. */
export function validateVChannelName(vchannel: string, field = 'vchannel'): string {
  pchannelOfVChannel(vchannel, field);
  return vchannel;
}

/**
 * Validates a pchannel name (a non-empty name of `[A-Za-z0-9_.-]`, ≤ 255 chars, that does not
 * look like a vchannel) and returns it.
 */
export function validatePChannelName(pchannel: string, field = 'pchannel'): string {
  assertName(pchannel, field);
  if (!isPChannelName(pchannel)) {
    throw StreamingError.invalidArgument(field, `${JSON.stringify(pchannel)} looks like a vchannel (a 'v' after its last '_')`);
  }
  return pchannel;
}

/**
 * Splits a data vchannel name into pchannel, collection id and shard index; undefined for a
 * name that is a valid vchannel but not of the `<id>v<idx>` form (e.g. a control channel).
 */
export function parseVChannelName(vchannel: string): ParsedVChannel | undefined {
  const pchannel = pchannelOfVChannel(vchannel);
  const match = VCHANNEL_SUFFIX.exec(vchannel.slice(pchannel.length + 1));
  if (match === null) return undefined;
  const shardIndex = Number(match[2]);
  if (!Number.isSafeInteger(shardIndex)) return undefined;
  return { pchannel, collectionId: BigInt(match[1] ?? '0'), shardIndex };
}

/**
 * The index `i` of a pchannel named `<cluster>-rootcoord-dml_<i>`, or undefined for other names.
 */
export function pchannelIndex(pchannel: string): number | undefined {
  const at = pchannel.lastIndexOf(PCHANNEL_INFIX);
  if (at <= 0) return undefined;
  const digits = pchannel.slice(at + PCHANNEL_INFIX.length);
  if (!/^\d{1,9}$/.test(digits)) return undefined;
  return Number(digits);
}

function assertName(name: string, field: string): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw StreamingError.invalidArgument(field, 'must be a non-empty string');
  }
  if (name.length > MAX_NAME_LENGTH) {
    throw StreamingError.invalidArgument(field, `must be at most ${MAX_NAME_LENGTH} characters, got ${name.length}`);
  }
  if (!NAME_CHARS.test(name)) {
    throw StreamingError.invalidArgument(field, `${JSON.stringify(name)} may only contain letters, digits, '_', '-' and '.'`);
  }
}

function assertSafeInt(value: number, field: string): number {
  if (!Number.isSafeInteger(value)) throw StreamingError.invalidArgument(field, `must be a safe integer, got ${value}`);
  return value;
}
