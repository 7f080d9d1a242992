import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRmqLayout, encodeRmqLayout, hasRmqMagic, RMQ_MAGIC } from '../../../../../node/wal/backend/index.js';
import { encodeRmqLayoutInto, measureRmqLayout, rmqLayoutBound } from '../../../../../node/wal/backend/rmq-layout.js';
import { StreamingCode, StreamingError } from '../../../../../shared/errors/index.js';
import { decodeProto, encodeProto } from '../../../../../shared/proto/index.js';

const TYPE = 'milvus.proto.messages.RMQMessageLayout';

interface Layout {
  payload: Buffer;
  properties: Record<string, string>;
}

const withMagic = (body: Uint8Array): Buffer => Buffer.concat([RMQ_MAGIC, body]);

const layoutArb: fc.Arbitrary<Layout> = fc.record({
  payload: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  // Unicode keys and values (including empty strings and long ones) exercise both string paths.
  properties: fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 200 }), {
    maxKeys: 12,
  }),
});

function expectInvalid(fn: () => unknown, mention: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(StreamingError);
  expect((caught as StreamingError).code).toBe(StreamingCode.INVAILD_ARGUMENT);
  expect((caught as StreamingError).message).toContain(mention);
}

describe('RMQ storage layout', () => {
  it('is the Milvus magic prefix FF FE FD FC "STREAM" followed by RMQMessageLayout', () => {
    const value = encodeRmqLayout(Buffer.from('hi'), { k: 'v' });
    expect(value.subarray(0, 10).toString('hex')).toBe('fffefdfc53545245414d');
    // payload (field 1) = "hi"; one map entry (field 2) {key "k", value "v"}.
    expect(value.subarray(10).toString('hex')).toBe('0a026869' + '1206' + '0a016b' + '120176');
    expect(hasRmqMagic(value)).toBe(true);
  });

  it('omits an empty payload, as Go does', () => {
    expect(encodeRmqLayout(Buffer.alloc(0), {}).length).toBe(10);
    expect(decodeRmqLayout(encodeRmqLayout(Buffer.alloc(0), {}))).toEqual({ payload: Buffer.alloc(0), properties: {} });
  });

  it('encodes in place at any position within the bound it gives, exactly what it measures', () => {
    fc.assert(
      fc.property(layoutArb, fc.nat({ max: 64 }), ({ payload, properties }, at) => {
        const alone = encodeRmqLayout(payload, properties);
        expect(measureRmqLayout(payload, properties)).toBe(alone.length);
        const bound = rmqLayoutBound(payload, properties);
        expect(bound).toBeGreaterThanOrEqual(alone.length);
        const out = Buffer.alloc(at + bound + 3, 0xee);
        expect(encodeRmqLayoutInto(out, at, payload, properties)).toBe(at + alone.length);
        expect(out.subarray(at, at + alone.length).equals(alone)).toBe(true);
        // Nothing before the record or past its bound was touched.
        expect([...out.subarray(0, at), ...out.subarray(at + bound)].every((b) => b === 0xee)).toBe(true);
      }),
      { numRuns: 300 },
    );
    expect(() => encodeRmqLayoutInto(Buffer.alloc(5), 0, Buffer.from('x'), {})).toThrow(RangeError);
    expect(() => encodeRmqLayoutInto(Buffer.alloc(16), 0, Buffer.alloc(0), { key: 'a value too long for the room' })).toThrow(RangeError);
    // Room for all but the last bytes, on the UTF-8 path too: refused, never silently cut short.
    fc.assert(
      fc.property(layoutArb, fc.integer({ min: 1, max: 8 }), ({ payload, properties }, short) => {
        const size = measureRmqLayout(payload, properties);
        fc.pre(size - short >= 0);
        expect(() => encodeRmqLayoutInto(Buffer.alloc(size - short), 0, payload, properties)).toThrow(RangeError);
      }),
      { numRuns: 300 },
    );
    expectInvalid(() => measureRmqLayout(Buffer.alloc(0), { k: 7 as unknown as string }), 'property "k"');
    expectInvalid(() => rmqLayoutBound(Buffer.alloc(0), { k: 7 as unknown as string }), 'property "k"');
    expectInvalid(() => encodeRmqLayoutInto(Buffer.alloc(64), 0, Buffer.alloc(0), { k: 7 as unknown as string }), 'property "k"');
  });

  it('rewrites an entry that looked ASCII but was not, and entries too long for one-byte lengths', () => {
    const cases: Record<string, string>[] = [
      { ascii: 'x'.repeat(60), late: `${'a'.repeat(50)}é` },
      { [`${'k'.repeat(20)}ü`]: 'v', after: 'plain' },
      { long: 'y'.repeat(123), longer: 'z'.repeat(124), huge: 'w'.repeat(300) },
      { emoji: '🙂'.repeat(40), surrogate: 'a\ud800b' },
    ];
    for (const properties of cases) {
      const payload = Buffer.from('p');
      const out = Buffer.alloc(rmqLayoutBound(payload, properties));
      const end = encodeRmqLayoutInto(out, 0, payload, properties);
      expect(end).toBe(measureRmqLayout(payload, properties));
      const viaProtobufjs = decodeProto<Layout>(TYPE, out.subarray(10, end));
      expect(viaProtobufjs.properties).toEqual(Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, Buffer.from(v).toString()])));
    }
  });

  it('round-trips a message with many properties', () => {
    const properties = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`key-${i}`, `value-${i}-é`]));
    const value = encodeRmqLayout(Buffer.from('p'), properties);
    expect(value.length).toBe(measureRmqLayout(Buffer.from('p'), properties));
    expect(decodeRmqLayout(value).properties).toEqual(properties);
  });

  it('round-trips any payload and properties', () => {
    fc.assert(
      fc.property(layoutArb, ({ payload, properties }) => {
        const decoded = decodeRmqLayout(encodeRmqLayout(payload, properties));
        expect(decoded.payload.equals(payload)).toBe(true);
        expect(decoded.properties).toEqual(properties);
      }),
      { numRuns: 300 },
    );
  });

  it('writes exactly what protobufjs decodes, and decodes what protobufjs writes', () => {
    fc.assert(
      fc.property(layoutArb, ({ payload, properties }) => {
        const ours = encodeRmqLayout(payload, properties);
        const viaProtobufjs = decodeProto<Layout>(TYPE, ours.subarray(10));
        expect(Buffer.from(viaProtobufjs.payload).equals(payload)).toBe(true);
        expect(viaProtobufjs.properties).toEqual(properties);

        const theirs = withMagic(encodeProto(TYPE, { payload, properties }));
        const decoded = decodeRmqLayout(theirs);
        expect(decoded.payload.equals(payload)).toBe(true);
        expect(decoded.properties).toEqual(properties);
      }),
      { numRuns: 300 },
    );
  });

  it('accepts fields in any order, repeats (last payload wins), unknown fields and partial map entries', () => {
    const body = Buffer.concat([
      Buffer.from('1203' + '0a0161', 'hex'), // entry with key "a" and no value
      Buffer.from('0a0178', 'hex'), // payload "x"
      Buffer.from('1803', 'hex'), // unknown varint field 3
      Buffer.from('2a02ffff', 'hex'), // unknown bytes field 5
      Buffer.from('3d01020304', 'hex'), // unknown fixed32 field 7
      Buffer.from('410102030405060708', 'hex'), // unknown fixed64 field 8
      Buffer.from('1203' + '120162', 'hex'), // entry with value "b" and no key
      Buffer.from('0a0179', 'hex'), // payload again: "y" wins
      Buffer.from('1208' + '0a0161' + '2000' + '12017a', 'hex'), // key "a" again, unknown field inside, value "z"
    ]);
    expect(decodeRmqLayout(withMagic(body))).toEqual({ payload: Buffer.from('y'), properties: { a: 'z', '': 'b' } });
  });

  it('returns the payload as a view into the stored value (no copy)', () => {
    const value = encodeRmqLayout(Buffer.from('payload'), {});
    expect(decodeRmqLayout(value).payload.buffer).toBe(value.buffer);
  });

  it('interns short keys without mixing them up', () => {
    const a = decodeRmqLayout(encodeRmqLayout(Buffer.alloc(0), { _t: '1', _tt: '2', t_: '3', é: '4' }));
    const b = decodeRmqLayout(encodeRmqLayout(Buffer.alloc(0), { _tt: '5', _t: '6', é: '7', t_: '8' }));
    expect(a.properties).toEqual({ _t: '1', _tt: '2', t_: '3', é: '4' });
    expect(b.properties).toEqual({ _tt: '5', _t: '6', é: '7', t_: '8' });
  });

  it('refuses values without the magic prefix (non-streaming RocksMQ messages)', () => {
    expectInvalid(() => decodeRmqLayout(Buffer.from('0a0178', 'hex')), 'magic prefix missing');
    expectInvalid(() => decodeRmqLayout(Buffer.alloc(0)), 'magic prefix missing');
  });

  it('refuses malformed protobuf with a clear error', () => {
    expectInvalid(() => decodeRmqLayout(withMagic(Buffer.from('0a05', 'hex'))), 'runs past the end');
    expectInvalid(() => decodeRmqLayout(withMagic(Buffer.from('0a', 'hex'))), 'truncated varint');
    expectInvalid(() => decodeRmqLayout(withMagic(Buffer.from('0b', 'hex'))), 'wire type');
    expectInvalid(() => decodeRmqLayout(withMagic(Buffer.from('00', 'hex'))), 'invalid field number');
    expectInvalid(() => decodeRmqLayout(withMagic(Buffer.from('ffffffffffffffffffff01', 'hex'))), 'varint');
    expectInvalid(() => decodeRmqLayout(withMagic(Buffer.from('1204' + '0a05', 'hex'))), 'runs past the end');
  });

  it('refuses non-string property values when encoding', () => {
    expectInvalid(() => encodeRmqLayout(Buffer.alloc(0), { n: 1 as unknown as string }), 'property "n"');
  });
});

describe('RMQ storage layout edge keys', () => {
  it('keeps a __proto__ property key as data', () => {
    const properties = JSON.parse('{"__proto__":"x","a":"b"}') as Record<string, string>;
    const decoded = decodeRmqLayout(encodeRmqLayout(Buffer.alloc(0), properties));
    expect(Object.keys(decoded.properties).sort()).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(decoded.properties, '__proto__')?.value).toBe('x');
  });
});
