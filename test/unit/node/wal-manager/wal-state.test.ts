import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type WalState, formatWalState, isStateBefore } from '../../../../node/wal-manager/index.js';
import { WalStateCell } from '../../../../node/wal-manager/wal-state.js';
import { StreamingError } from '../../../../shared/errors/index.js';

const s = (term: number, available: boolean): WalState => ({ term: BigInt(term), available });

describe('isStateBefore', () => {
  it.each([
    [s(-1, false), s(0, true), true],
    [s(1, true), s(1, false), true], // close within a term
    [s(1, true), s(2, false), true],
    [s(1, false), s(2, true), true],
    [s(1, false), s(1, true), false], // a removed term never reopens
    [s(1, true), s(1, true), false],
    [s(1, false), s(1, false), false],
    [s(2, true), s(1, false), false],
    [s(2, false), s(1, true), false],
  ])('%o before %o is %s', (a, b, expected) => {
    expect(isStateBefore(a, b)).toBe(expected);
  });

  it('is a strict order: irreflexive, asymmetric, transitive', () => {
    const state = fc.record({ term: fc.bigInt({ min: -1n, max: 5n }), available: fc.boolean() });
    fc.assert(
      fc.property(state, state, state, (a, b, c) => {
        expect(isStateBefore(a, a)).toBe(false);
        if (isStateBefore(a, b)) expect(isStateBefore(b, a)).toBe(false);
        if (isStateBefore(a, b) && isStateBefore(b, c)) expect(isStateBefore(a, c)).toBe(true);
      }),
    );
  });

  it('formats as Milvus does', () => {
    expect(formatWalState(s(3, true))).toBe('(3,true)');
    expect(formatWalState(s(-1, false))).toBe('(-1,false)');
  });
});

describe('WalStateCell', () => {
  it('only moves forward, whatever the order of the attempts', () => {
    const state = fc.record({ term: fc.bigInt({ min: -1n, max: 6n }), available: fc.boolean() });
    fc.assert(
      fc.property(fc.array(state, { maxLength: 30 }), (attempts) => {
        const cell = new WalStateCell<WalState>(s(-1, false));
        let max: WalState = s(-1, false);
        for (const next of attempts) {
          const before = cell.get();
          const moved = cell.advance(next);
          expect(moved).toBe(isStateBefore(before, next));
          expect(isStateBefore(cell.get(), before)).toBe(false);
          if (isStateBefore(max, next)) max = next;
        }
        expect(isStateBefore(cell.get(), max) || isStateBefore(max, cell.get())).toBe(false);
      }),
    );
  });

  it('wakes every waiter on a move, at once if it already moved', async () => {
    const cell = new WalStateCell<WalState>(s(-1, false));
    const from = cell.get();
    const signal = new AbortController().signal;
    const waiters = [cell.waitChanged(from, signal), cell.waitChanged(from, signal)];
    expect(cell.advance(s(1, true))).toBe(true);
    await Promise.all(waiters);
    await cell.waitChanged(from, signal); // already moved
  });

  it('rejects a waiter with the abort reason', async () => {
    const cell = new WalStateCell<WalState>(s(-1, false));
    const controller = new AbortController();
    const wait = cell.waitChanged(cell.get(), controller.signal);
    const reason = StreamingError.onShutdown('test');
    controller.abort(reason);
    await expect(wait).rejects.toBe(reason);
  });
});
