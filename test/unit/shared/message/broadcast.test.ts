import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  clusterResourceKey,
  collectionNameResourceKey,
  dbNameResourceKey,
  MessageType,
  MutableMessage,
  newBroadcastMessage,
  newUserMessage,
  ResourceDomain,
  resourceKeyToString,
  splitBroadcast,
  validateProducerProperties,
  withBroadcastId,
} from '../../../../shared/message/index.js';
import { encodeBroadcastHeaderValue } from '../../../../shared/message/proto-values.js';
import { expectInvalid } from './expect-invalid.js';

const vchannelArb = fc.stringMatching(/^[a-z]{1,6}-rootcoord-dml_[0-9]{1,2}_[0-9]{1,6}v[0-9]$/);

describe('broadcast messages', () => {
  it('builds an unsplit broadcast with deduplicated vchannels and broadcast id 0', () => {
    const msg = newBroadcastMessage({
      type: MessageType.CreateCollection,
      vchannels: ['a_1v0', 'b_1v1', 'a_1v0'],
      header: Buffer.from([8, 1]),
      payload: Buffer.from('ddl'),
      properties: { u: '1' },
      resourceKeys: [collectionNameResourceKey('db', 'c'), collectionNameResourceKey('db', 'c'), dbNameResourceKey('db', true)],
      ackSyncUp: true,
    });
    expect(msg.isBroadcast).toBe(true);
    expect(msg.vchannel).toBeUndefined();
    expect(msg.broadcastHeader).toEqual({
      broadcastId: 0n,
      vchannels: ['a_1v0', 'b_1v1'],
      resourceKeys: [
        { domain: ResourceDomain.ResourceDomainCollectionName, key: 'db:c', shared: false },
        { domain: ResourceDomain.ResourceDomainDBName, key: 'db', shared: true },
      ],
      ackSyncUp: true,
    });
    expect(msg.userProperties()).toEqual({ u: '1' });
    expect(msg.broadcastHeader?.resourceKeys.map(resourceKeyToString)).toEqual(['CollectionName:db:c@X', 'DBName:db@R']);
    expect(resourceKeyToString(clusterResourceKey(true))).toBe('Cluster:@R');
  });

  it('sets the broadcast id once', () => {
    const msg = newBroadcastMessage({ type: MessageType.DropCollection, vchannels: ['a_1v0'], payload: Buffer.alloc(0) });
    const withId = withBroadcastId(msg, 42n);
    expect(withId.broadcastHeader?.broadcastId).toBe(42n);
    expect(msg.broadcastHeader?.broadcastId).toBe(0n);
    expectInvalid(() => withBroadcastId(withId, 43n), '_bh');
    expectInvalid(() => withBroadcastId(msg, 0n), 'broadcast id');
    expectInvalid(() => withBroadcastId(newUserMessage({ type: MessageType.Insert, vchannel: 'a_1v0', payload: Buffer.alloc(0) }), 1n), '_bh');
  });

  it('splits into one message per vchannel: _vc set, _bh kept, payload and properties copied', () => {
    fc.assert(
      fc.property(fc.uniqueArray(vchannelArb, { minLength: 1, maxLength: 20 }), fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }), (vchannels, id) => {
        const msg = withBroadcastId(
          newBroadcastMessage({ type: MessageType.AlterCollection, vchannels, payload: Buffer.from('p'), properties: { u: 'v' } }),
          id,
        );
        const parts = splitBroadcast(msg);
        expect(parts).toHaveLength(vchannels.length);
        parts.forEach((part, i) => {
          expect(part.vchannel).toBe(vchannels[i]);
          expect(part.property('_bh')).toBe(msg.property('_bh'));
          expect(part.broadcastHeader?.broadcastId).toBe(id);
          expect(part.payload.equals(msg.payload)).toBe(true);
          expect(part.userProperties()).toEqual({ u: 'v' });
          expect(part.messageType).toBe(MessageType.AlterCollection);
          // Each copy is a valid producer message.
          expect(validateProducerProperties(part.properties).vchannel).toBe(vchannels[i]);
        });
        expect(msg.vchannel).toBeUndefined();
      }),
    );
  });

  it('rejects splitting a broadcast with duplicate vchannels, no id, no vchannels, or twice', () => {
    const make = (vchannels: string[], broadcastId: bigint) =>
      MutableMessage.create(Buffer.alloc(0), {
        _t: '5',
        _v: '1',
        _h: '',
        _bh: encodeBroadcastHeaderValue({ broadcastId, vchannels, resourceKeys: [], ackSyncUp: false }),
      });
    fc.assert(
      fc.property(fc.uniqueArray(vchannelArb, { minLength: 1, maxLength: 5 }), fc.nat(), (vchannels, pick) => {
        const withDup = [...vchannels, vchannels[pick % vchannels.length] as string];
        expect(expectInvalid(() => splitBroadcast(make(withDup, 1n)), '_bh').message).toContain('twice');
      }),
    );
    expectInvalid(() => splitBroadcast(make(['a_1v0'], 0n)), '_bh');
    expectInvalid(() => splitBroadcast(make([], 1n)), '_bh');
    const [part] = splitBroadcast(make(['a_1v0'], 1n));
    expectInvalid(() => splitBroadcast(part as MutableMessage), '_vc');
    expectInvalid(() => splitBroadcast(newUserMessage({ type: MessageType.Insert, payload: Buffer.alloc(0) })), '_bh');
  });

  it('supports cluster-level broadcasts to pchannels (_pcl on every copy)', () => {
    const msg = newBroadcastMessage({
      type: MessageType.FlushAll,
      vchannels: ['by-dev-rootcoord-dml_0_vcchan', 'by-dev-rootcoord-dml_1'],
      payload: Buffer.alloc(0),
      pchannelLevel: true,
      resourceKeys: [clusterResourceKey()],
    });
    const parts = splitBroadcast(withBroadcastId(msg, 1n));
    expect(parts.map((p) => [p.vchannel, p.isPChannelLevel])).toEqual([
      ['by-dev-rootcoord-dml_0_vcchan', true],
      ['by-dev-rootcoord-dml_1', true],
    ]);
    for (const part of parts) validateProducerProperties(part.properties);
  });

  it('validates the broadcast request itself', () => {
    expectInvalid(() => newBroadcastMessage({ type: MessageType.Insert, vchannels: [], payload: Buffer.alloc(0) }), 'broadcast vchannels');
    expectInvalid(() => newBroadcastMessage({ type: MessageType.TimeTick, vchannels: ['a_1v0'], payload: Buffer.alloc(0) }), 'message type');
    expectInvalid(() => newBroadcastMessage({ type: MessageType.Insert, vchannels: ['by-dev-rootcoord-dml_1'], payload: Buffer.alloc(0) }), 'broadcast vchannel');
    expectInvalid(
      () => newBroadcastMessage({ type: MessageType.Insert, vchannels: ['a_1v0'], payload: Buffer.alloc(0), properties: { _x: '' } }),
      '_x',
    );
  });
});
