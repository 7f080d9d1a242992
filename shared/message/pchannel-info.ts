import { StreamingError } from '../errors/index.js';
import type { PChannelInfo__Output, PChannelInfo as PChannelInfoProtoInput } from '../proto/generated/milvus/proto/streaming/PChannelInfo.js';

/** How a WAL is opened: read-write (the one owner appends) or read-only (serves readers only). */
export type AccessMode = 'rw' | 'ro';

/** Milvus `types.InitialTerm`: a pchannel never assigned yet. */
export const INITIAL_TERM = -1n;

/**
 * A pchannel at a term: the unit the coordinator assigns and a node opens (Milvus `PChannelInfo`).
 * Terms grow by one on every assignment, so a higher term always wins.
 */
export interface PChannelInfo {
  readonly name: string;
  readonly term: bigint;
  readonly accessMode: AccessMode;
}

/** Builds a {@link PChannelInfo}; `accessMode` defaults to read-write. */
export function pchannelInfo(name: string, term: bigint, accessMode: AccessMode = 'rw'): PChannelInfo {
  if (name === '') throw StreamingError.invalidArgument('pchannel.name', 'must not be empty');
  return Object.freeze({ name, term, accessMode });
}

/** Log form as Milvus prints it: `name:rw@term`. */
export function formatPChannelInfo(p: PChannelInfo): string {
  return `${p.name}:${p.accessMode}@${p.term}`;
}

/** Proto form (`milvus.proto.streaming.PChannelInfo`, int64 as decimal string). */
export function pchannelInfoToProto(p: PChannelInfo): PChannelInfoProtoInput {
  return {
    name: p.name,
    term: p.term.toString(),
    access_mode: p.accessMode === 'rw' ? 'PCHANNEL_ACCESS_READWRITE' : 'PCHANNEL_ACCESS_READONLY',
  };
}

/**
 * Reads a proto `PChannelInfo` (as proto-loader decodes it: int64 as string, enum as name or number).
 * @throws StreamingError INVAILD_ARGUMENT naming the bad field.
 */
export function pchannelInfoFromProto(p: Partial<PChannelInfo__Output> | null | undefined, field = 'pchannel'): PChannelInfo {
  if (p === null || p === undefined) throw StreamingError.invalidArgument(field, 'missing');
  const name = p.name ?? '';
  if (name === '') throw StreamingError.invalidArgument(`${field}.name`, 'must not be empty');
  const termText = String(p.term ?? '0');
  if (!/^-?\d+$/.test(termText)) throw StreamingError.invalidArgument(`${field}.term`, `not an integer: ${termText}`);
  const mode = p.access_mode as unknown;
  let accessMode: AccessMode;
  if (mode === undefined || mode === 'PCHANNEL_ACCESS_READWRITE' || mode === 0) accessMode = 'rw';
  else if (mode === 'PCHANNEL_ACCESS_READONLY' || mode === 1) accessMode = 'ro';
  else throw StreamingError.invalidArgument(`${field}.access_mode`, `unknown access mode ${String(mode)}`);
  return pchannelInfo(name, BigInt(termText), accessMode);
}
