/**
 * Proto ↔ domain at the edge of the Consume stream (STYLE rule 4): the vchannel consumer request
 * in, message frames out.
 */
import {
  type DeliverFilter,
  deliverFilterFromProto,
  type DeliverPolicy,
  deliverPolicyFromProto,
  type ImmutableMessage,
  pchannelOfVChannel,
  type ProtoInputOf,
  type ProtoOutput,
  StreamingError,
} from '../../../shared/index.js';
import type { UndecodableFrame } from '../produce/index.js';

/** A decoded `ConsumeRequest` (or a frame that did not decode). */
export type ConsumeRequestFrame = ProtoOutput<'milvus.proto.streaming.ConsumeRequest'> | UndecodableFrame;
/** What the server writes: a `ConsumeResponse`. */
export type ConsumeResponseFrame = ProtoInputOf<'milvus.proto.streaming.ConsumeResponse'>;
/** A decoded `CreateVChannelConsumerRequest`. */
export type CreateVChannelConsumerRequest = ProtoOutput<'milvus.proto.streaming.CreateVChannelConsumerRequest'>;

/** What a `create_vchannel_consumer` request asks for, checked. */
export interface VChannelConsumerSpec {
  /** Undefined (an empty `vchannel`) reads every vchannel of the pchannel. */
  readonly vchannel: string | undefined;
  readonly deliverPolicy: DeliverPolicy;
  readonly filters: readonly DeliverFilter[];
  /** 0: one message per `consume` frame; n > 0: up to n messages per `consume_batch` frame. */
  readonly maxBatchMessages: number;
}

/** Batch settings of a consumer: what the stream asked for and the server's bound. */
export interface BatchSettings {
  /** `CreateConsumerRequest.max_batch_messages`, the default of each vchannel consumer. */
  readonly streamMaxBatchMessages: number;
  /** The server's upper bound (`HandlerLimits.maxConsumeBatchMessages`). */
  readonly limit: number;
}

/**
 * Checks a `create_vchannel_consumer` request: the vchannel must belong to `pchannel` (or be
 * empty), the deliver policy must be set, every filter valid. The batch size is the request's
 * `max_batch_messages`, else the stream's, capped at the server's limit.
 *
 * @throws StreamingError INVAILD_ARGUMENT naming the field (answered in-band by the caller).
 */
export function vchannelConsumerSpec(request: CreateVChannelConsumerRequest, pchannel: string, batch: BatchSettings): VChannelConsumerSpec {
  const field = 'create_vchannel_consumer';
  const vchannel = request.vchannel === '' ? undefined : request.vchannel;
  if (vchannel !== undefined) {
    const owner = pchannelOfVChannel(vchannel, `${field}.vchannel`);
    if (owner !== pchannel) {
      throw StreamingError.invalidArgument(`${field}.vchannel`, `${JSON.stringify(vchannel)} belongs to pchannel ${owner}, not to ${pchannel}`);
    }
  }
  const deliverPolicy = deliverPolicyFromProto(request.deliver_policy, `${field}.deliver_policy`);
  const filters = (request.deliver_filters ?? []).map((f, i) => deliverFilterFromProto(f, `${field}.deliver_filters[${i}]`));
  const asked = request.max_batch_messages > 0 ? request.max_batch_messages : batch.streamMaxBatchMessages;
  return { vchannel, deliverPolicy, filters, maxBatchMessages: Math.min(Math.max(0, asked), batch.limit) };
}

/**
 * The frame carrying `messages` (one or more, in delivery order) of consumer `consumerId`:
 * `consume` for a single message of an unbatched consumer, else `consume_batch`.
 */
export function consumeFrame(consumerId: string, messages: readonly ImmutableMessage[], batched: boolean): ConsumeResponseFrame {
  const first = messages[0];
  if (!batched && messages.length === 1 && first !== undefined) {
    return { consume: { consumer_id: consumerId, message: first.toProto() } };
  }
  return { consume_batch: { consumer_id: consumerId, messages: messages.map((m) => m.toProto()) } };
}
