/** The vchannel consumer request, checked, and the frames messages leave in. */
import { describe, expect, it } from 'vitest';
import { consumeFrame, vchannelConsumerSpec, type CreateVChannelConsumerRequest } from '../../../../../node/service/consume/index.js';
import { MessageId, StreamingCode, StreamingError } from '../../../../../shared/index.js';
import { stored } from '../produce/fakes.js';

const P = 'p-rootcoord-dml_0';
const V = `${P}_1v0`;
const batch = { streamMaxBatchMessages: 0, limit: 32 };
const request = (over: Partial<CreateVChannelConsumerRequest>): CreateVChannelConsumerRequest => ({
  vchannel: V,
  deliver_policy: { policy: 'all', all: {} },
  deliver_filters: [],
  ignore_pause_consumption: false,
  max_batch_messages: 0,
  ...over,
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return e instanceof StreamingError ? StreamingCode[e.code] ?? 'UNKNOWN' : String(e);
  }
  return 'no error';
}

describe('vchannelConsumerSpec', () => {
  it('reads vchannel, policy, filters and the batch size', () => {
    const spec = vchannelConsumerSpec(
      request({
        deliver_policy: { policy: 'start_after', start_after: MessageId.of(9n).toProto() },
        deliver_filters: [{ filter: 'time_tick_gt', time_tick_gt: { time_tick: '77' } }],
        max_batch_messages: 8,
      }),
      P,
      batch,
    );
    expect(spec).toEqual({
      vchannel: V,
      deliverPolicy: { kind: 'startAfter', id: MessageId.of(9n) },
      filters: [{ kind: 'timeTickGt', timeTick: 77n }],
      maxBatchMessages: 8,
    });
  });

  it('an empty vchannel reads the whole pchannel; the stream default and the server cap apply', () => {
    expect(vchannelConsumerSpec(request({ vchannel: '' }), P, batch).vchannel).toBeUndefined();
    expect(vchannelConsumerSpec(request({}), P, { streamMaxBatchMessages: 5, limit: 32 }).maxBatchMessages).toBe(5);
    expect(vchannelConsumerSpec(request({ max_batch_messages: 1000 }), P, batch).maxBatchMessages).toBe(32);
  });

  it('refuses a foreign or malformed vchannel, a missing policy and a bad filter', () => {
    expect(codeOf(() => vchannelConsumerSpec(request({ vchannel: 'q-rootcoord-dml_0_1v0' }), P, batch))).toBe('INVAILD_ARGUMENT');
    expect(codeOf(() => vchannelConsumerSpec(request({ vchannel: 'no-underscore' }), P, batch))).toBe('INVAILD_ARGUMENT');
    expect(codeOf(() => vchannelConsumerSpec(request({ deliver_policy: null }), P, batch))).toBe('INVAILD_ARGUMENT');
    expect(codeOf(() => vchannelConsumerSpec(request({ deliver_filters: [{}] }), P, batch))).toBe('INVAILD_ARGUMENT');
  });
});

describe('consumeFrame', () => {
  it('is a consume frame for an unbatched consumer and consume_batch otherwise', () => {
    const m = stored(3n, V);
    expect(consumeFrame('1', [m], false)).toEqual({ consume: { consumer_id: '1', message: m.toProto() } });
    expect(consumeFrame('2', [m, m], true)).toEqual({ consume_batch: { consumer_id: '2', messages: [m.toProto(), m.toProto()] } });
    expect(consumeFrame('2', [m], true)).toEqual({ consume_batch: { consumer_id: '2', messages: [m.toProto()] } });
  });
});
