import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRmqLayout, encodeRmqLayout, hasRmqMagic, RMQ_MAGIC } from '../../../../../node/wal/backend/index.js';
import { encodeRmqLayoutInto, measureRmqLayout } from '../../../../../node/wal/backend/rmq-layout.js';
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

  it('measures exactly what it encodes, and encodes in place at any position', () => {
    fc.assert(
      fc.property(layoutArb, fc.nat({ max: 64 }), ({ payload, properties }, at) => {
        const alone = encodeRmqLayout(payload, properties);
        const size = measureRmqLayout(payload, properties);
        expect(size).toBe(alone.length);
        const out = Buffer.alloc(at + size + 3, 0xee);
        expect(encodeRmqLayoutInto(out, at, payload, properties)).toBe(at + size);
        expect(out.subarray(at, at + size).equals(alone)).toBe(true);
        // Nothing outside the record was touched.
        expect([...out.subarray(0, at), ...out.subarray(at + size)].every((b) => b === 0xee)).toBe(true);
      }),
      { numRuns: 200 },
    );
    expect(() => encodeRmqLayoutInto(Buffer.alloc(5), 0, Buffer.from('x'), {})).toThrow(RangeError);
    expectInvalid(() => measureRmqLayout(Buffer.alloc(0), { k: 7 as unknown as string }), 'property "k"');
  });

  it('reuses the last measure only for the very message measured, never after a measure that failed', () => {
    fc.assert(
      fc.property(layoutArb, layoutArb, (a, b) => {
        const pa = Object.freeze({ ...a.properties });
        const pb = Object.freeze({ ...b.properties });
        const encode = (payload: Buffer, properties: Readonly<Record<string, string>>): Buffer => {
          const out = Buffer.alloc(measureRmqLayout(payload, properties) + 8);
          const end = encodeRmqLayoutInto(out, 8, payload, properties);
          return out.subarray(8, end);
        };
        const expectedA = encode(a.payload, pa);
        // Measured b, encoded a: a is measured again.
        measureRmqLayout(b.payload, pb);
        const out = Buffer.alloc(expectedA.length);
        expect(encodeRmqLayoutInto(out, 0, a.payload, pa)).toBe(expectedA.length);
        expect(out.equals(expectedA)).toBe(true);
        // Measured a, then a measure that threw halfway: a is measured again, not read from the wreck.
        measureRmqLayout(a.payload, pa);
        expect(() => measureRmqLayout(b.payload, Object.freeze({ ...pb, zz: 5 as unknown as string }))).toThrow(StreamingError);
        out.fill(0);
        encodeRmqLayoutInto(out, 0, a.payload, pa);
        expect(out.equals(expectedA)).toBe(true);
      }),
    );
  });

  it('round-trips a message with more properties than its scratch space starts with', () => {
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
