import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MessageId,
  MessageType,
  newBeginTxnMessage,
  newBroadcastMessage,
  newCommitTxnMessage,
  newUserMessage,
  PRODUCER_PROPERTY_KEYS,
  PropertyKey,
  RESERVED_PROPERTY_KEYS,
  splitBroadcast,
  txnContext,
  validateProducerProperties,
  validateProducerVChannel,
  validateUserProperties,
  withBroadcastId,
} from '../../../../shared/message/index.js';
import { encodeBroadcastHeaderValue, encodeTxnContextValue } from '../../../../shared/message/proto-values.js';
import { expectInvalid } from './expect-invalid.js';

const VC = 'by-dev-rootcoord-dml_0_100v0';
const base = () =>
  newUserMessage({ type: MessageType.Insert, vchannel: VC, header: Buffer.from([8, 1]), payload: Buffer.from('x'), properties: { app: 'y' } })
    .properties;

/** One malformed value per reserved key a producer may set. */
const MALFORMED: Record<string, string[]> = {
  _t: ['', 'insert', '2.0', '-2', '40', '0', '1', '4', '10', '999'],
  _v: ['x', '3', '-1', '1.0'],
  _h: ['A', 'not base64!', 'AA-_'],
  _vc: ['', 'no-underscore', 'by-dev-rootcoord-dml_0', 'a b_1v0'],
  _bh: ['@@@@', 'CA=='],
  _tx: ['!', 'CA=='],
  _ch: ['%%%%', 'CA=='],
  _btt: ['', 'zzzzzzzzzzzzzzzzzz', 'a-b'],
  _rh: ['****', 'Cg=='],
  _pcl: ['x', 'true'],
  _ur: ['1'],
  _tc: ['A=A='],
  _puc: ['yes'],
};

describe('validateProducerProperties', () => {
  it('accepts what the builders produce', () => {
    expect(validateProducerProperties(base())).toEqual({ messageType: MessageType.Insert, vchannel: VC, broadcastHeader: undefined });
    const txn = txnContext(3n, 1000n);
    validateProducerProperties(newBeginTxnMessage({ vchannel: VC, keepaliveMs: 5000 }).properties);
    validateProducerProperties(newCommitTxnMessage({ vchannel: VC, txn }).properties);
    validateProducerProperties(newUserMessage({ type: MessageType.Delete, vchannel: VC, payload: Buffer.alloc(0) }).withTxnContext(txn).withBarrierTimeTick(5n).properties);
    const split = splitBroadcast(
      withBroadcastId(newBroadcastMessage({ type: MessageType.CreateCollection, vchannels: [VC, 'p_1v1'], payload: Buffer.alloc(0) }), 9n),
    );
    expect(validateProducerProperties(split[1]!.properties).broadcastHeader?.broadcastId).toBe(9n);
    // All other producer keys with good values.
    validateProducerProperties({ ...base(), _ur: '', _puc: '', _tc: '', _ik: '1:0:key', _rh: '' });
    // Cluster-level broadcast copies address a pchannel by name.
    validateProducerProperties({ ...base(), _vc: 'by-dev-rootcoord-dml_3', _pcl: '' });
  });

  it('rejects node-only keys, naming them', () => {
    const lc = MessageId.of(1n).marshal();
    for (const [key, value] of [['_tt', '1'], ['_lc', lc], ['_lcs', ''], ['_wt', '1'], ['_np', '']] as const) {
      const error = expectInvalid(() => validateProducerProperties({ ...base(), [key]: value }), key);
      expect(error.message).toContain('streaming node');
    }
  });

  it('rejects every other _-prefixed key a producer may not set', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 0, maxLength: 12 }).map((s) => `_${s}`).filter((k) => !PRODUCER_PROPERTY_KEYS.has(k)),
        fc.string({ maxLength: 8 }),
        (key, value) => {
          expectInvalid(() => validateProducerProperties({ ...base(), [key]: value }), key);
        },
      ),
    );
    expectInvalid(() => validateProducerProperties({ ...base(), _vcs: '' }), '_vcs');
    expectInvalid(() => validateProducerProperties({ ...base(), __proto__x: '' }), '__proto__x');
  });

  it('rejects every malformed reserved value, naming the key', () => {
    for (const [key, values] of Object.entries(MALFORMED)) {
      for (const value of values) expectInvalid(() => validateProducerProperties({ ...base(), [key]: value }), key);
    }
    // Every producer key but the free-form ones has a malformed example.
    for (const key of PRODUCER_PROPERTY_KEYS) if (key !== '_ik') expect(MALFORMED[key], key).toBeDefined();
  });

  it('rejects malformed values generated at random', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('_t', '_v', '_btt'),
        fc.string({ minLength: 1, maxLength: 6 }).filter((s) => /[^0-9]/.test(s) && /[^0-9a-zA-Z]/.test(s)),
        (key, value) => {
          expectInvalid(() => validateProducerProperties({ ...base(), [key]: value }), key);
        },
      ),
    );
    fc.assert(
      fc.property(
        fc.constantFrom('_h', '_bh', '_tx', '_ch', '_rh', '_tc'),
        fc.string({ minLength: 1, maxLength: 12 }).filter((s) => /[^A-Za-z0-9+/=]/.test(s)),
        (key, value) => {
          expectInvalid(() => validateProducerProperties({ ...base(), [key]: value }), key);
        },
      ),
    );
  });

  it('gives the same verdicts when the common values repeat (their checks are remembered)', () => {
    for (let round = 0; round < 3; round++) {
      expect(validateProducerProperties(base())).toEqual({ messageType: MessageType.Insert, vchannel: VC, broadcastHeader: undefined });
      // A remembered vchannel is still checked against `_pcl`, which wants a channel of its own kind.
      validateProducerProperties({ ...base(), _pcl: '' });
      expectInvalid(() => validateProducerProperties({ ...base(), _vc: `${VC} ` }), '_vc');
      // Non-canonical spellings take the long way and are judged as before.
      expect(validateProducerProperties({ ...base(), _t: '02', _v: '01' }).messageType).toBe(MessageType.Insert);
      expectInvalid(() => validateProducerProperties({ ...base(), _t: String(MessageType.TimeTick) }), '_t');
      expectInvalid(() => validateProducerProperties({ ...base(), _v: '3' }), '_v');
    }
  });

  it('requires a producible message type', () => {
    const noType: Record<string, string> = { ...base() };
    delete noType._t;
    expectInvalid(() => validateProducerProperties(noType), '_t');
    for (const type of [MessageType.TimeTick, MessageType.CreateSegment, MessageType.Flush, MessageType.Txn]) {
      expect(expectInvalid(() => validateProducerProperties({ ...base(), _t: String(type) }), '_t').message).toContain('generated');
    }
  });

  it('checks broadcast messages are split and addressed to one of their vchannels', () => {
    const header = encodeBroadcastHeaderValue({ broadcastId: 1n, vchannels: [VC], resourceKeys: [], ackSyncUp: false });
    const unsplit: Record<string, string> = { ...base(), _bh: header };
    delete unsplit._vc;
    expectInvalid(() => validateProducerProperties(unsplit), '_vc');
    expectInvalid(() => validateProducerProperties({ ...base(), _bh: header, _vc: 'other_1v0' }), '_vc');
    const empty = encodeBroadcastHeaderValue({ broadcastId: 1n, vchannels: [], resourceKeys: [], ackSyncUp: false });
    expectInvalid(() => validateProducerProperties({ ...base(), _bh: empty }), '_bh');
    const dup = encodeBroadcastHeaderValue({ broadcastId: 1n, vchannels: [VC, VC], resourceKeys: [], ackSyncUp: false });
    expectInvalid(() => validateProducerProperties({ ...base(), _bh: dup }), '_bh');
  });

  it('rejects a cipher header on a type that cannot be encrypted, and bad UTF-16', () => {
    const create = { ...base(), _t: String(MessageType.CreateCollection) };
    expectInvalid(() => validateProducerProperties({ ...create, _ch: '' }), '_ch');
    validateProducerProperties({ ...base(), _ch: '' });
    expectInvalid(() => validateProducerProperties({ ...base(), user: 'bad \uD800 value' }), 'user');
    expectInvalid(() => validateProducerProperties({ ...base(), _tx: encodeTxnContextValue(txnContext(1n, 1n)), x: 1 as unknown as string }), 'x');
  });

  it('knows every reserved key: none is silently accepted without a rule', () => {
    for (const key of RESERVED_PROPERTY_KEYS) {
      if (PRODUCER_PROPERTY_KEYS.has(key)) continue;
      expectInvalid(() => validateProducerProperties({ ...base(), [key]: '' }), key);
    }
    expect(PropertyKey.IdempotencyKey).toBe('_ik');
  });
});

describe('validateProducerVChannel', () => {
  /** The verdict of `validate` on `properties`: the vchannel, or the key its error names. */
  const verdict = (validate: () => string | undefined): string | undefined => {
    try {
      return `ok ${String(validate())}`;
    } catch (error) {
      return `invalid ${(error as { message: string }).message}`;
    }
  };

  it('judges exactly as validateProducerProperties, and each call starts afresh', () => {
    const header = encodeBroadcastHeaderValue({ broadcastId: 1n, vchannels: [VC], resourceKeys: [], ackSyncUp: false });
    const noVChannel: Record<string, string> = { ...base() };
    delete noVChannel._vc;
    const cases: Record<string, string>[] = [
      base(),
      { ...base(), _bh: header },
      // After a broadcast (and after a vchannel): nothing of the previous call may carry over.
      noVChannel,
      { ...noVChannel, _bh: header },
      { ...base(), _ch: '' },
      { ...base(), _t: String(MessageType.CreateCollection) },
      { ...base(), _t: String(MessageType.CreateCollection), _ch: '' },
      { ...base(), _vc: 'by-dev-rootcoord-dml_3', _pcl: '' },
      ...Object.entries(MALFORMED).flatMap(([key, values]) => values.map((value) => ({ ...base(), [key]: value }))),
    ];
    for (const properties of cases) {
      const expected = verdict(() => validateProducerProperties(properties).vchannel);
      expect(verdict(() => validateProducerVChannel(properties)), JSON.stringify(properties)).toBe(expected);
    }
    expect(validateProducerVChannel(noVChannel)).toBeUndefined();
    expect(validateProducerVChannel(base())).toBe(VC);
  });

  it('sees own keys only, like Object.keys, even with an enumerable Object.prototype member', () => {
    Object.defineProperty(Object.prototype, '_polluted', { value: 'x', enumerable: true, configurable: true, writable: true });
    try {
      expect(validateProducerVChannel(base())).toBe(VC);
      expect(validateProducerProperties(base()).vchannel).toBe(VC);
    } finally {
      delete (Object.prototype as Record<string, unknown>)._polluted;
    }
  });
});

describe('validateUserProperties', () => {
  it('rejects reserved keys and accepts the rest', () => {
    validateUserProperties({ a: '', 'x-y': 'z' });
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }), (suffix) => {
        expectInvalid(() => validateUserProperties({ [`_${suffix}`]: 'v' }), `_${suffix}`);
      }),
    );
  });
});
