import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkFlagProperty,
  decodeBase64Property,
  decodeDecimalProperty,
  decodeInt64Property,
  decodeUint64Property,
  encodeBase64Property,
  encodeInt64Property,
  encodeUint64Property,
  getProperty,
  hasProperty,
  isStrictBase64,
  MAX_INT64,
  MAX_UINT64,
  MIN_INT64,
  NODE_PROPERTY_KEYS,
  PRODUCER_PROPERTY_KEYS,
  PropertyKey,
  RESERVED_PROPERTY_KEYS,
  txnContext,
  userProperties,
} from '../../../../shared/message/index.js';
import {
  decodeBroadcastHeaderValue,
  decodeTxnContextValue,
  encodeBroadcastHeaderValue,
  encodeTxnContextValue,
} from '../../../../shared/message/proto-values.js';
import { hasLoneSurrogate, utf8Length } from '../../../../shared/message/properties.js';
import { ResourceDomain } from '../../../../shared/message/resource-key.js';
import { expectInvalid } from './expect-invalid.js';

describe('property keys', () => {
  it('are the reserved keys of Milvus properties.go', () => {
    expect([...RESERVED_PROPERTY_KEYS].sort()).toEqual(
      ['_t', '_v', '_h', '_vc', '_bh', '_tt', '_btt', '_wt', '_lc', '_lcs', '_tx', '_ch', '_np', '_rh', '_pcl', '_ur', '_tc', '_puc', '_ik', '_vcs'].sort(),
    );
    expect(PropertyKey.TimeTick).toBe('_tt');
    expect(PropertyKey.LastConfirmedUseMessageId).toBe('_lcs');
  });

  it('split into producer keys and node keys, disjoint, all reserved', () => {
    for (const key of PRODUCER_PROPERTY_KEYS) expect(NODE_PROPERTY_KEYS.has(key)).toBe(false);
    for (const key of [...PRODUCER_PROPERTY_KEYS, ...NODE_PROPERTY_KEYS]) expect(RESERVED_PROPERTY_KEYS.has(key)).toBe(true);
    expect([...NODE_PROPERTY_KEYS].sort()).toEqual(['_lc', '_lcs', '_np', '_tt', '_wt']);
    expect(PRODUCER_PROPERTY_KEYS.has('_vcs')).toBe(false);
  });

  it('tests presence, not truthiness, and ignores inherited members', () => {
    const props = { _np: '', a: 'x' };
    expect(hasProperty(props, '_np')).toBe(true);
    expect(getProperty(props, '_np')).toBe('');
    expect(hasProperty(props, 'constructor')).toBe(false);
    expect(getProperty(props, 'toString')).toBeUndefined();
    expect(userProperties({ _t: '1', a: 'x', b: '' })).toEqual({ a: 'x', b: '' });
  });
});

describe('property value codecs', () => {
  it('round-trip base-36 integers and name the key on bad input', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_UINT64 }), fc.bigInt({ min: MIN_INT64, max: MAX_INT64 }), (u, i) => {
        expect(decodeUint64Property('_tt', encodeUint64Property('_tt', u))).toBe(u);
        expect(decodeInt64Property('_wt', encodeInt64Property('_wt', i))).toBe(i);
      }),
    );
    expectInvalid(() => decodeUint64Property('_btt', 'not base36!'), '_btt');
    expectInvalid(() => decodeInt64Property('_wt', ''), '_wt');
  });

  it('round-trip base64 proto bytes (standard alphabet, padded) and reject anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = encodeBase64Property(bytes);
        expect(isStrictBase64(text)).toBe(true);
        expect([...decodeBase64Property('_h', text)]).toEqual([...bytes]);
      }),
    );
    expect(encodeBase64Property(new Uint8Array(0))).toBe('');
    for (const bad of ['A', 'AA', 'AAA', 'AA=', 'A===', 'AA-_', 'AA==AA==', 'AAAA\n', ' AAAA', 'AAA*']) {
      expect(isStrictBase64(bad)).toBe(false);
      expectInvalid(() => decodeBase64Property('_h', bad), '_h');
    }
  });

  it('measure UTF-8 length like Buffer.byteLength and spot lone surrogates', () => {
    fc.assert(
      fc.property(
        fc
          .array(fc.integer({ min: 0, max: 0x10ffff }).filter((cp) => cp < 0xd800 || cp > 0xdfff), { maxLength: 20 })
          .map((codePoints) => String.fromCodePoint(...codePoints)),
        (text) => {
          expect(utf8Length(text)).toBe(Buffer.byteLength(text));
          expect(hasLoneSurrogate(text)).toBe(false);
        },
      ),
    );
    expect(utf8Length('a\u{1F600}é')).toBe(1 + 4 + 2);
    expect(hasLoneSurrogate('a\uD800')).toBe(true);
    expect(hasLoneSurrogate('\uDC00a')).toBe(true);
    expect(hasLoneSurrogate('\uD83D\uDE00')).toBe(false);
  });

  it('decode decimal type and version values', () => {
    expect(decodeDecimalProperty('_v', '2')).toBe(2);
    expectInvalid(() => decodeDecimalProperty('_v', 'two'), '_v');
    expectInvalid(() => decodeDecimalProperty('_t', '-1'), '_t');
  });

  it('check flags are empty strings', () => {
    checkFlagProperty('_pcl', '');
    expectInvalid(() => checkFlagProperty('_pcl', 'true'), '_pcl');
  });

  it('encode TxnContext exactly as Go proto.Marshal does', () => {
    // TxnContext{txn_id: 7, keepalive_milliseconds: 1000} = 08 07 10 e8 07
    expect(encodeTxnContextValue(txnContext(7n, 1000n))).toBe(Buffer.from('080710e807', 'hex').toString('base64'));
    expect(encodeTxnContextValue(txnContext(0n, 0n))).toBe('');
    fc.assert(
      fc.property(fc.bigInt({ min: MIN_INT64, max: MAX_INT64 }), fc.bigInt({ min: 0n, max: MAX_INT64 }), (id, keepalive) => {
        expect(decodeTxnContextValue(encodeTxnContextValue(txnContext(id, keepalive)))).toEqual({ txnId: id, keepaliveMs: keepalive });
      }),
    );
    expectInvalid(() => decodeTxnContextValue('!!!!'), '_tx');
    expectInvalid(() => decodeTxnContextValue(Buffer.from([0x08]).toString('base64')), '_tx');
  });

  it('encode BroadcastHeader exactly as Go proto.Marshal does, and round-trip it', () => {
    const golden = Buffer.concat([
      Buffer.from('0805', 'hex'), // broadcast_id = 5
      Buffer.from('1205', 'hex'),
      Buffer.from('a_1v0'), // vchannels[0]
      Buffer.from('1a0508021201', 'hex'),
      Buffer.from('c'), // Resource_keys[0] = {domain: CollectionName, key: "c"}
      Buffer.from('2001', 'hex'), // ack_sync_up = true
    ]);
    const header = {
      broadcastId: 5n,
      vchannels: ['a_1v0'],
      resourceKeys: [{ domain: ResourceDomain.ResourceDomainCollectionName, key: 'c', shared: false }],
      ackSyncUp: true,
    };
    expect(encodeBroadcastHeaderValue(header)).toBe(golden.toString('base64'));
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: MAX_UINT64 }),
        fc.uniqueArray(fc.stringMatching(/^[a-z]{1,8}_[0-9]{1,4}v[0-9]$/), { maxLength: 8 }),
        fc.array(
          fc.record({
            domain: fc.constantFrom(...Object.values(ResourceDomain).filter((v): v is ResourceDomain => typeof v === 'number')),
            key: fc.string({ maxLength: 10 }),
            shared: fc.boolean(),
          }),
          { maxLength: 4 },
        ),
        fc.boolean(),
        (broadcastId, vchannels, resourceKeys, ackSyncUp) => {
          const value = { broadcastId, vchannels, resourceKeys, ackSyncUp };
          expect(decodeBroadcastHeaderValue(encodeBroadcastHeaderValue(value))).toEqual(value);
        },
      ),
    );
    expectInvalid(() => decodeBroadcastHeaderValue('AAA'), '_bh');
  });
});
