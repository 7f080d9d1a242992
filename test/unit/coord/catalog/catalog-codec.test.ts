/**
 * Catalog values: every domain record survives encode → decode exactly (property-based, 64-bit
 * values across their whole range), and anything that is not a trustworthy record is rejected as
 * corrupt (UNRECOVERABLE, naming the key).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamingCode } from '../../../../shared/errors/index.js';
import { pchannelInfo } from '../../../../shared/message/index.js';
import { protoTypes } from '../../../../shared/proto/index.js';
import { PChannelMetaState, type PChannelMeta, type StreamingNodeInfo, type VChannelMeta } from '../../../../coord/catalog/index.js';
import {
  decodeCChannel,
  decodePChannelMeta,
  decodeVChannelMeta,
  decodeVersion,
  encodeCChannel,
  encodePChannelMeta,
  encodeVChannelMeta,
  encodeVersion,
} from '../../../../coord/catalog/catalog-codec.js';

const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const uint64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const name = fc.stringMatching(/^[a-z0-9_-]{1,20}$/);
const mode = fc.constantFrom<'rw' | 'ro'>('rw', 'ro');
const node: fc.Arbitrary<StreamingNodeInfo> = fc.record({ serverId: int64, address: fc.string({ maxLength: 20 }) });
const state = fc.constantFrom(...([0, 1, 2, 3, 4] as PChannelMetaState[]));

const pchannelMeta: fc.Arbitrary<PChannelMeta> = fc.record({
  channel: fc.tuple(name, int64, mode).map(([n, t, m]) => pchannelInfo(n, t, m)),
  node: fc.option(node, { nil: undefined }),
  state,
  histories: fc.array(fc.record({ term: int64, node, accessMode: mode }), { maxLength: 4 }),
  lastAssignTimestampSeconds: uint64,
});

const vchannelMeta: fc.Arbitrary<VChannelMeta> = fc.record({
  vchannel: name,
  pchannel: name,
  collectionId: int64,
  state: fc.constantFrom<'normal' | 'dropped'>('normal', 'dropped'),
  createTimestamp: uint64,
  dropTimestamp: uint64,
});

function corrupt(fn: () => unknown, key: string): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toMatchObject({ code: StreamingCode.UNRECOVERABLE });
  expect((error as Error).message).toContain(key);
}

describe('catalog codec', () => {
  it('PChannelMeta and VChannelMeta round-trip exactly', () => {
    fc.assert(
      fc.property(pchannelMeta, (meta) => {
        expect(decodePChannelMeta('k', meta.channel.name, encodePChannelMeta(meta))).toEqual(meta);
      }),
    );
    fc.assert(
      fc.property(vchannelMeta, (meta) => {
        expect(decodeVChannelMeta('k', meta.vchannel, encodeVChannelMeta(meta))).toEqual(meta);
      }),
    );
    fc.assert(
      fc.property(int64, (v) => {
        expect(decodeVersion('k', encodeVersion(v))).toBe(v);
      }),
    );
    expect(decodeCChannel('k', encodeCChannel('by-dev-rootcoord-dml_0'))).toBe('by-dev-rootcoord-dml_0');
  });

  it('decoded records are frozen', () => {
    const meta = decodePChannelMeta('k', 'p', encodePChannelMeta({
      channel: pchannelInfo('p', 2n),
      node: { serverId: 1n, address: 'a' },
      state: PChannelMetaState.ASSIGNING,
      histories: [{ term: 1n, node: { serverId: 1n, address: 'a' }, accessMode: 'rw' }],
      lastAssignTimestampSeconds: 0n,
    }));
    expect(Object.isFrozen(meta)).toBe(true);
    expect(Object.isFrozen(meta.histories)).toBe(true);
    expect(Object.isFrozen(meta.histories[0])).toBe(true);
  });

  it('rejects what no Milvus peer could have written', () => {
    const P = protoTypes.streaming.PChannelMeta;
    corrupt(() => decodePChannelMeta('key/p', 'p', Buffer.from('garbage')), 'key/p');
    corrupt(() => decodePChannelMeta('key/p', 'p', P.encode({})), 'key/p');
    corrupt(() => decodePChannelMeta('key/p', 'p', P.encode({ channel: { name: 'q' } })), 'key/p');
    corrupt(() => decodePChannelMeta('key/p', 'p', P.encode({ channel: { name: 'p' }, state: 9 as never })), 'key/p');
    corrupt(() => decodePChannelMeta('key/p', 'p', P.encode({ channel: { name: 'p', access_mode: 7 as never } })), 'key/p');
    corrupt(() => decodePChannelMeta('key/p', 'p', P.encode({ channel: { name: 'p' }, histories: [{ term: 1 }] })), 'key/p');
    corrupt(() => decodeCChannel('key/c', protoTypes.streaming.CChannelMeta.encode({})), 'key/c');
    const V = protoTypes.ext.VChannelCatalogMeta;
    corrupt(() => decodeVChannelMeta('key/v', 'v', V.encode({ vchannel: 'v', pchannel: 'p' })), 'key/v');
    corrupt(() => decodeVChannelMeta('key/v', 'v', V.encode({ vchannel: 'v', state: 1 })), 'key/v');
  });

  it('refuses to encode values outside their proto ranges', () => {
    const ok: PChannelMeta = {
      channel: pchannelInfo('p', 1n),
      node: undefined,
      state: PChannelMetaState.UNINITIALIZED,
      histories: [],
      lastAssignTimestampSeconds: 0n,
    };
    const bad: PChannelMeta[] = [
      { ...ok, channel: pchannelInfo('p', 1n << 63n) },
      { ...ok, node: { serverId: -(1n << 63n) - 1n, address: '' } },
      { ...ok, state: 7 as PChannelMetaState },
      { ...ok, histories: [{ term: 1n, node: { serverId: 1n, address: '' }, accessMode: 'x' as 'rw' }] },
    ];
    for (const meta of bad) expect(() => encodePChannelMeta(meta)).toThrow(expect.objectContaining({ code: StreamingCode.INVAILD_ARGUMENT }));
    expect(() => encodeVChannelMeta({ vchannel: 'v', pchannel: 'p', collectionId: 1n, state: 'gone' as 'normal', createTimestamp: 0n, dropTimestamp: 0n })).toThrow(
      expect.objectContaining({ code: StreamingCode.INVAILD_ARGUMENT }),
    );
  });
});
