/**
 * WAL conformance: bad input (DESIGN.md §9.5) gets a clear StreamingError, nothing is written, and
 * the WAL keeps serving.
 */
import { expect, it } from 'vitest';
import {
  deliverAll,
  MessageType,
  MutableMessage,
  newTimeTickMessage,
  newUserMessage,
  pchannelInfo,
  StreamingCode,
  txnContext,
  vchannelName,
} from '../../shared/index.js';
import {
  beginTxn,
  channels,
  expectCode,
  insert,
  propertyOf,
  readUntil,
  suiteOpener,
  txnBody,
  txnOf,
  type WalSuiteFactory,
} from './wal-suite-fixture.js';

const OPEN = { signal: new AbortController().signal };
const MAX_MESSAGE_BYTES = 4096;

/** Registers the bad input case. */
export function describeBadInput(factory: WalSuiteFactory): void {
  it('bad input: INVAILD_ARGUMENT or txn codes, nothing written, the WAL keeps serving', async () => {
    const env = await factory();
    try {
      const { pchannel, v1, v2 } = channels('badinput');
      const wal = await suiteOpener(env.backendOpener, { maxMessageBytes: MAX_MESSAGE_BYTES }).open(pchannelInfo(pchannel, 1n), OPEN);
      await wal.append(insert(v1, { id: 'good-1' }));
      const open = txnOf(await wal.append(beginTxn(v1)));
      const invalid = StreamingCode.INVAILD_ARGUMENT;
      const cases: [string, MutableMessage, StreamingCode][] = [
        ['missing _t', MutableMessage.create(Buffer.from('x'), { _vc: v1 }), invalid],
        ['unknown _t', MutableMessage.create(Buffer.from('x'), { _t: '987654', _vc: v1 }), invalid],
        ['a type only the WAL writes', newTimeTickMessage({ timeTick: 1n }), invalid],
        ['node-only _tt set by the user', insert(v1).withTimeTick(5n), invalid],
        ['node-only _wt set by the user', insert(v1).withWalTerm(9n), invalid],
        ['unknown reserved key', insert(v1).withProperties({ _zz: '1' }), invalid],
        ['vchannel of another pchannel', insert(vchannelName(`${pchannel}x`, 1, 0)), invalid],
        ['oversized message', insert(v1, {}, 'x'.repeat(MAX_MESSAGE_BYTES)), invalid],
        ['body of a txn that does not exist', txnBody(txnContext(123_456_789n, 10_000n), v1), StreamingCode.TRANSACTION_EXPIRED],
        ['body on another vchannel than its BeginTxn', txnBody(open, v2), invalid],
        ['exclusive message inside a txn', newUserMessage({ type: MessageType.CreateCollection, vchannel: v1, payload: Buffer.alloc(0) }).withTxnContext(open), invalid],
      ];
      for (const [name, message, code] of cases) {
        const error = await expectCode(wal.append(message), code);
        expect(error.message, name).not.toBe('');
      }
      expect(wal.isAvailable()).toBe(true);
      await wal.append(insert(v1, { id: 'good-2' }));
      const read = await readUntil(wal, { deliverPolicy: deliverAll() }, (m) => propertyOf(m, 'id') === 'good-2');
      // Only the good messages were written (the open transaction is never delivered).
      expect(read.map((m) => propertyOf(m, 'id'))).toEqual(['good-1', 'good-2']);
      await wal.close();
    } finally {
      await env.cleanup();
    }
  });
}
