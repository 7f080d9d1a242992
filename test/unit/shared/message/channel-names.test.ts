import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  controlChannelName,
  isControlChannel,
  isPChannelName,
  parseVChannelName,
  pchannelIndex,
  pchannelName,
  pchannelNames,
  pchannelOfChannel,
  pchannelOfVChannel,
  validatePChannelName,
  vchannelName,
} from '../../../../shared/message/index.js';
import { expectInvalid } from './expect-invalid.js';

describe('channel names', () => {
  it('builds Milvus-style pchannel, vchannel and control channel names', () => {
    expect(pchannelName('by-dev', 3)).toBe('by-dev-rootcoord-dml_3');
    expect(pchannelNames('by-dev', 2)).toEqual(['by-dev-rootcoord-dml_0', 'by-dev-rootcoord-dml_1']);
    expect(vchannelName('by-dev-rootcoord-dml_3', 449_000_000_000_000_001n, 0)).toBe('by-dev-rootcoord-dml_3_449000000000000001v0');
    expect(controlChannelName('by-dev-rootcoord-dml_0')).toBe('by-dev-rootcoord-dml_0_vcchan');
    expect(isControlChannel('by-dev-rootcoord-dml_0_vcchan')).toBe(true);
    expect(isControlChannel('by-dev-rootcoord-dml_0_1v0')).toBe(false);
    expect(pchannelIndex('by-dev-rootcoord-dml_12')).toBe(12);
    expect(pchannelIndex('custom')).toBeUndefined();
  });

  it('takes the pchannel of a vchannel as the part before its last _', () => {
    expect(pchannelOfVChannel('by-dev-rootcoord-dml_3_449v0')).toBe('by-dev-rootcoord-dml_3');
    expect(pchannelOfVChannel('by-dev-rootcoord-dml_0_vcchan')).toBe('by-dev-rootcoord-dml_0');
    expect(parseVChannelName('by-dev-rootcoord-dml_3_449v2')).toEqual({
      pchannel: 'by-dev-rootcoord-dml_3',
      collectionId: 449n,
      shardIndex: 2,
    });
    expect(parseVChannelName('by-dev-rootcoord-dml_0_vcchan')).toBeUndefined();
  });

  it('round-trips vchannel names', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
        fc.nat({ max: 255 }),
        fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
        fc.nat({ max: 64 }),
        (cluster, i, collection, shard) => {
          const pchannel = pchannelName(cluster, i);
          expect(isPChannelName(pchannel)).toBe(true);
          const vchannel = vchannelName(pchannel, collection, shard);
          expect(isPChannelName(vchannel)).toBe(false);
          expect(pchannelOfVChannel(vchannel)).toBe(pchannel);
          expect(pchannelOfChannel(vchannel)).toBe(pchannel);
          expect(pchannelOfChannel(pchannel)).toBe(pchannel);
          expect(parseVChannelName(vchannel)).toEqual({ pchannel, collectionId: collection, shardIndex: shard });
        },
      ),
    );
  });

  it('rejects invalid names with errors naming the field', () => {
    for (const bad of ['', 'novchannel', '_1v0', 'p_', 'p q_1v0', 'p_1v0/x', 'x'.repeat(300) + '_1v0']) {
      expectInvalid(() => pchannelOfVChannel(bad), 'vchannel');
    }
    // A pchannel name (no 'v' after the last '_') is not a vchannel.
    expect(expectInvalid(() => pchannelOfVChannel('by-dev-rootcoord-dml_3'), 'vchannel').message).toContain('pchannel name');
    expectInvalid(() => validatePChannelName('p_1v0'), 'pchannel');
    expectInvalid(() => pchannelName('', 0), 'cluster');
    expectInvalid(() => pchannelName('by-dev', -1), 'pchannel index');
    expectInvalid(() => vchannelName('p', -1, 0), 'collection id');
    expectInvalid(() => vchannelName('p', 1, 1.5), 'shard index');
    expectInvalid(() => pchannelNames('by-dev', 0), 'pchannel count');
  });
});
