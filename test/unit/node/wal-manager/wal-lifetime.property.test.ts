/**
 * Property tests of the per-pchannel state machine under random interleavings: every open and
 * close of the fake opener, every request's arrival and every caller abort is a task of a
 * fast-check scheduler, which releases them in a random order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WalLifetime, type WalState, isStateBefore } from '../../../../node/wal-manager/index.js';
import { StreamingCode, StreamingError } from '../../../../shared/errors/index.js';
import { FakeWalOpener, type FakeWal, ch } from './fake-wal-opener.js';

type Outcome = { ok: true } | { ok: false; error: unknown };

const settle = (p: Promise<unknown>): Promise<Outcome> =>
  p.then(
    () => ({ ok: true }),
    (error: unknown) => ({ ok: false, error }),
  );

const codeOf = (o: Outcome): StreamingCode | 'ok' | 'other' =>
  o.ok ? 'ok' : o.error instanceof StreamingError ? o.error.code : 'other';

/** Releases scheduled tasks until nothing is left to run (new tasks may appear as others run). */
async function drain(s: fc.Scheduler): Promise<void> {
  do await s.waitIdle();
  while (s.count() > 0);
}

describe('WalLifetime under random interleavings', () => {
  it('concurrent opens of terms 1..5 converge to term 5, closing each WAL before the next opens', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.shuffledSubarray([1, 2, 3, 4, 5], { minLength: 5 }), async (s, order) => {
        const opener = new FakeWalOpener();
        opener.delay = (label) => s.schedule(Promise.resolve(), label);
        const lifetime = new WalLifetime<FakeWal>({ channel: 'c', opener });
        const outcomes = order.map((term) =>
          settle(s.schedule(Promise.resolve(), `open c@${term}`).then(() => lifetime.open(ch('c', term)))),
        );
        await drain(s);
        const results = await Promise.all(outcomes);

        expect(lifetime.currentState).toEqual({ term: 5n, available: true });
        expect(lifetime.getWal()?.channel.term).toBe(5n);
        expect(results[order.indexOf(5)]).toEqual({ ok: true });
        for (const [i, r] of results.entries()) {
          expect([
            'ok',
            StreamingCode.IGNORED_OPERATION,
            StreamingCode.UNMATCHED_CHANNEL_TERM,
          ]).toContain(codeOf(r));
          // A successful open really opened its term.
          if (r.ok) expect(opener.events).toContain(`opened c@${order[i]}`);
        }
        // Never two open at once; opened terms only grow; every older WAL is closed.
        expect(opener.violations).toEqual([]);
        const opened = opener.wals.map((w) => Number(w.channel.term));
        expect(opened).toEqual([...opened].sort((a, b) => a - b));
        expect(opener.wals.filter((w) => !w.closed).map((w) => w.channel.term)).toEqual([5n]);

        opener.delay = undefined;
        await lifetime.close();
        expect(opener.live('c')).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });

  it('random op sequences: at most one WAL per channel, and current converges to the max expected', async () => {
    const op = fc.record({
      kind: fc.constantFrom('open', 'remove'),
      name: fc.constantFrom('a', 'b'),
      term: fc.integer({ min: 0, max: 5 }),
      abort: fc.boolean(),
    });
    const failures = fc.uniqueArray(fc.tuple(fc.constantFrom('a', 'b'), fc.integer({ min: 0, max: 5 })), {
      maxLength: 3,
      selector: ([n, t]) => `${n}@${t}`,
    });
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(op, { minLength: 1, maxLength: 12 }), failures, async (s, ops, fails) => {
        const opener = new FakeWalOpener();
        opener.delay = (label) => s.schedule(Promise.resolve(), label);
        for (const [n, t] of fails) opener.openFailures.set(`${n}@${t}`, new Error(`open ${n}@${t} fails`));
        const lifetimes = new Map(['a', 'b'].map((n) => [n, new WalLifetime<FakeWal>({ channel: n, opener })]));
        // The model: the expected state per channel, advanced in the order the calls really happen.
        const model = new Map<string, WalState>([
          ['a', { term: -1n, available: false }],
          ['b', { term: -1n, available: false }],
        ]);
        const predictedIgnored: boolean[] = [];

        const outcomes = ops.map((o, i) => {
          const controller = new AbortController();
          if (o.abort) {
            void s.schedule(Promise.resolve(), `abort #${i}`).then(() => controller.abort(StreamingError.onShutdown(`abort #${i}`)));
          }
          const call = s.schedule(Promise.resolve(), `${o.kind} ${o.name}@${o.term}`).then(() => {
            const lifetime = lifetimes.get(o.name) as WalLifetime<FakeWal>;
            const wanted: WalState = { term: BigInt(o.term), available: o.kind === 'open' };
            const before = model.get(o.name) as WalState;
            predictedIgnored[i] = !isStateBefore(before, wanted);
            if (!predictedIgnored[i]) model.set(o.name, wanted);
            const options = { signal: controller.signal };
            return o.kind === 'open' ? lifetime.open(ch(o.name, o.term), options) : lifetime.remove(BigInt(o.term), options);
          });
          return settle(call);
        });
        await drain(s);
        const results = await Promise.all(outcomes);

        expect(opener.violations).toEqual([]);
        for (const [i, r] of results.entries()) {
          if (predictedIgnored[i]) expect(codeOf(r)).toBe(StreamingCode.IGNORED_OPERATION);
          else expect(codeOf(r)).not.toBe(StreamingCode.IGNORED_OPERATION);
        }
        for (const [name, lifetime] of lifetimes) {
          const expected = model.get(name) as WalState;
          expect(lifetime.expectedState).toEqual(expected);
          const failed = expected.available && opener.openFailures.has(`${name}@${expected.term}`);
          expect(lifetime.currentState).toEqual(failed ? { term: expected.term, available: false } : expected);
          // The one WAL left open is the current one.
          const live = opener.live(name).map((w) => w.channel.term);
          expect(live).toEqual(lifetime.currentState.available ? [expected.term] : []);
        }

        opener.delay = undefined;
        await Promise.all([...lifetimes.values()].map((l) => l.close()));
        expect(opener.wals.every((w) => w.closed && w.closeCalls === 1)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
