import { StreamingError } from '../errors/index.js';
import type { DeliverFilter as DeliverFilterProto, DeliverFilter__Output } from '../proto/generated/milvus/proto/streaming/DeliverFilter.js';
import type { DeliverPolicy as DeliverPolicyProto, DeliverPolicy__Output } from '../proto/generated/milvus/proto/streaming/DeliverPolicy.js';
import { MessageId } from './message-id.js';
import { MessageType, isSystemMessageType, messageTypeFromProto, messageTypeName } from './message-type.js';

/**
 * Where a reader starts (Milvus `DeliverPolicy`): every retained message, only messages appended
 * after the reader opened, or from / after a message id.
 */
export type DeliverPolicy =
  | { readonly kind: 'all' }
  | { readonly kind: 'latest' }
  /** Inclusive. */
  | { readonly kind: 'startFrom'; readonly id: MessageId }
  /** Exclusive. */
  | { readonly kind: 'startAfter'; readonly id: MessageId };

/**
 * What a reader keeps (Milvus `DeliverFilter`; a list of them is AND-combined). Time tick filters
 * apply to non-txn messages and to CommitTxn; the type filter never drops system messages.
 */
export type DeliverFilter =
  | { readonly kind: 'timeTickGt'; readonly timeTick: bigint }
  | { readonly kind: 'timeTickGte'; readonly timeTick: bigint }
  | { readonly kind: 'messageType'; readonly types: readonly MessageType[] };

export const deliverAll = (): DeliverPolicy => ({ kind: 'all' });
export const deliverLatest = (): DeliverPolicy => ({ kind: 'latest' });
export const deliverStartFrom = (id: MessageId): DeliverPolicy => ({ kind: 'startFrom', id });
export const deliverStartAfter = (id: MessageId): DeliverPolicy => ({ kind: 'startAfter', id });

/** A message-type filter; system types are refused (they are never filtered, Milvus panics here). */
export function filterMessageTypes(types: readonly MessageType[]): DeliverFilter {
  for (const t of types) {
    if (isSystemMessageType(t)) {
      throw StreamingError.invalidArgument('deliver_filters.message_type', `system type ${messageTypeName(t)} cannot be filtered`);
    }
  }
  return { kind: 'messageType', types: [...types] };
}

export function deliverPolicyToProto(p: DeliverPolicy): DeliverPolicyProto {
  switch (p.kind) {
    case 'all':
      return { all: {} };
    case 'latest':
      return { latest: {} };
    case 'startFrom':
      return { start_from: p.id.toProto() };
    case 'startAfter':
      return { start_after: p.id.toProto() };
  }
}

/** Reads a proto DeliverPolicy; an empty oneof is refused. */
export function deliverPolicyFromProto(p: Partial<DeliverPolicy__Output> | null | undefined, field = 'deliver_policy'): DeliverPolicy {
  switch (p?.policy) {
    case 'all':
      return deliverAll();
    case 'latest':
      return deliverLatest();
    case 'start_from':
      return deliverStartFrom(MessageId.fromProto(p.start_from, `${field}.start_from`));
    case 'start_after':
      return deliverStartAfter(MessageId.fromProto(p.start_after, `${field}.start_after`));
    default:
      throw StreamingError.invalidArgument(field, 'no policy set (expected all, latest, start_from or start_after)');
  }
}

export function deliverFilterToProto(f: DeliverFilter): DeliverFilterProto {
  switch (f.kind) {
    case 'timeTickGt':
      return { time_tick_gt: { time_tick: f.timeTick.toString() } };
    case 'timeTickGte':
      return { time_tick_gte: { time_tick: f.timeTick.toString() } };
    case 'messageType':
      return { message_type: { message_types: f.types.map((t) => messageTypeName(t)) as never } };
  }
}

function readTimeTick(value: unknown, field: string): bigint {
  const text = String(value ?? '0');
  if (!/^\d+$/.test(text)) throw StreamingError.invalidArgument(field, `not an unsigned integer: ${text}`);
  return BigInt(text);
}

/** Reads a proto DeliverFilter; an empty oneof or a system message type is refused. */
export function deliverFilterFromProto(f: Partial<DeliverFilter__Output> | null | undefined, field = 'deliver_filter'): DeliverFilter {
  switch (f?.filter) {
    case 'time_tick_gt':
      return { kind: 'timeTickGt', timeTick: readTimeTick(f.time_tick_gt?.time_tick, `${field}.time_tick_gt`) };
    case 'time_tick_gte':
      return { kind: 'timeTickGte', timeTick: readTimeTick(f.time_tick_gte?.time_tick, `${field}.time_tick_gte`) };
    case 'message_type':
      return filterMessageTypes(
        (f.message_type?.message_types ?? []).map((t: unknown, i: number) => messageTypeFromProto(t, `${field}.message_type[${i}]`)),
      );
    default:
      throw StreamingError.invalidArgument(field, 'no filter set (expected time_tick_gt, time_tick_gte or message_type)');
  }
}
