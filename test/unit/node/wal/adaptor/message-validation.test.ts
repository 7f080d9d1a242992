/** The WAL's own input checks on top of shared's property validation: pchannel and size. */
import { describe, expect, it } from 'vitest';
import { validateAppendMessage } from '../../../../../node/wal/adaptor/index.js';
import { MutableMessage, StreamingError, vchannelName } from '../../../../../shared/index.js';
import { insert, PCHANNEL, V1 } from './fixtures.js';

describe('validateAppendMessage', () => {
  it('accepts a producer message of this pchannel within the size limit', () => {
    expect(() => validateAppendMessage(insert(V1), PCHANNEL, 1024)).not.toThrow();
  });

  it('refuses a vchannel of another pchannel, naming _vc', () => {
    expect(() => validateAppendMessage(insert(vchannelName('other-rootcoord-dml_3', 1, 0)), PCHANNEL, 1024)).toThrow(/_vc.*belongs to pchannel other-rootcoord-dml_3/);
  });

  it('refuses a message above maxMessageBytes, counting properties', () => {
    const message = insert(V1, {}, 'x'.repeat(900));
    expect(message.estimateSize()).toBeGreaterThan(900);
    expect(() => validateAppendMessage(message, PCHANNEL, message.estimateSize())).not.toThrow();
    expect(() => validateAppendMessage(message, PCHANNEL, message.estimateSize() - 1)).toThrow(/exceeds the limit/);
  });

  it('refuses what is not a MutableMessage and node-only keys', () => {
    expect(() => validateAppendMessage({}, PCHANNEL, 1024)).toThrow(StreamingError);
    expect(() => validateAppendMessage(MutableMessage.create(Buffer.alloc(0), { _t: '2', _lc: '1' }), PCHANNEL, 1024)).toThrow(/_lc/);
  });
});
