import { describe, expect, it } from 'vitest';
import { type AppendFn, InterceptorChain, LockInterceptor, newAppendContext } from '../../../../../node/wal/interceptors/index.js';
import { StreamingError } from '../../../../../shared/errors/index.js';
import { type ImmutableMessage, MessageId, type MutableMessage } from '../../../../../shared/message/index.js';
import { Deferred } from '../../../../../shared/util/index.js';
import { ddl, insert, isSettled, V1, V2 } from './fixtures.js';

/** A `next` whose appends stay in flight until released, in the order they entered. */
class HeldNext {
  readonly entered: string[] = [];
  readonly #gates = new Map<string, { message: MutableMessage; stored: Deferred<ImmutableMessage> }>();

  readonly next: AppendFn = (message: MutableMessage) => {
    const name = message.property('name') ?? '?';
    this.entered.push(name);
    const stored = new Deferred<ImmutableMessage>();
    this.#gates.set(name, { message, stored });
    return stored.promise;
  };

  release(name: string): void {
    const gate = this.#gates.get(name);
    gate?.stored.resolve(gate.message.intoImmutable(MessageId.of(1)));
  }

  fail(name: string, error: Error): void {
    this.#gates.get(name)?.stored.reject(error);
  }
}

const named = (m: MutableMessage, name: string): MutableMessage => m.withProperties({ name });

interface Setup {
  lock: LockInterceptor;
  held: HeldNext;
  failed: (string | undefined)[];
  /** Appends through a chain of the lock alone onto {@link HeldNext}. */
  append: (m: MutableMessage, signal?: AbortSignal) => Promise<ImmutableMessage>;
  /** Appends through another chain of the same lock onto `next`. */
  appendOnto: (m: MutableMessage, next: AppendFn) => Promise<ImmutableMessage>;
}

/** The lock releases through the chain's settle hooks, so it is always driven by a (ready) chain. */
async function setup(): Promise<Setup> {
  const failed: (string | undefined)[] = [];
  const lock = new LockInterceptor({ txnManager: { failTxnAtVChannel: (v) => failed.push(v) } });
  const held = new HeldNext();
  const readyChain = async (append: AppendFn): Promise<InterceptorChain> => {
    const chain = new InterceptorChain({ interceptors: [lock], append });
    await chain.ready();
    return chain;
  };
  const chain = await readyChain(held.next);
  return {
    lock,
    held,
    failed,
    append: (m, signal) => chain.append(m, newAppendContext({ signal })),
    appendOnto: async (m, next) => (await readyChain(next)).append(m, newAppendContext()),
  };
}

describe('LockInterceptor', () => {
  it('serialises exclusive messages of one vchannel while other vchannels proceed', async () => {
    const { held, append, failed } = await setup();
    const first = append(named(ddl(V1), 'ddl-1'));
    const second = append(named(ddl(V1), 'ddl-2'));
    const normalV1 = append(named(insert(V1), 'insert-v1'));
    const normalV2 = append(named(insert(V2), 'insert-v2'));
    const other = append(named(ddl(V2), 'ddl-v2-after-insert'));
    await isSettled(first);
    // ddl-1 holds v1; v2's insert runs concurrently; ddl-2 and v1's insert wait.
    expect(held.entered).toEqual(['ddl-1', 'insert-v2']);

    held.release('insert-v2');
    await normalV2;
    await isSettled(other);
    expect(held.entered).toEqual(['ddl-1', 'insert-v2', 'ddl-v2-after-insert']);

    held.release('ddl-1');
    await first;
    await isSettled(second);
    expect(held.entered.at(-1)).toBe('ddl-2');
    expect(failed).toEqual([V1]);

    held.release('ddl-2');
    await second;
    await isSettled(normalV1);
    expect(held.entered.at(-1)).toBe('insert-v1');
    held.release('insert-v1');
    held.release('ddl-v2-after-insert');
    await Promise.all([normalV1, other]);
    expect(failed).toEqual([V1, V1, V2]);
  });

  it('a pchannel-wide exclusive message waits for everything and blocks everything', async () => {
    const { held, append, failed } = await setup();
    const before = append(named(insert(V1), 'before'));
    const global = append(named(ddl(), 'global'));
    const after = append(named(insert(V2), 'after'));
    await isSettled(before);
    expect(held.entered).toEqual(['before']);
    held.release('before');
    await before;
    await isSettled(global);
    expect(held.entered).toEqual(['before', 'global']);
    expect(await isSettled(after)).toBe(false);
    held.release('global');
    await global;
    expect(failed).toEqual([undefined]);
    await isSettled(after);
    held.release('after');
    await after;
    expect(held.entered).toEqual(['before', 'global', 'after']);
  });

  it('messages without a vchannel share the pchannel with normal messages', async () => {
    const { held, append } = await setup();
    const a = append(named(insert(undefined), 'all'));
    const b = append(named(insert(V1), 'v1'));
    await isSettled(b);
    expect(held.entered).toEqual(['all', 'v1']);
    held.release('all');
    held.release('v1');
    await Promise.all([a, b]);
  });

  it('uncontended shared appends go straight through, holding their locks until they settle', async () => {
    const { lock, held, append, appendOnto } = await setup();
    const a = append(named(insert(V1), 'a'));
    // No waiting at all: `next` ran synchronously, the read locks are taken.
    expect(held.entered).toEqual(['a']);
    expect(lock.lockedVChannelCount).toBe(1);
    const ddlAfter = append(named(ddl(V1), 'ddl'));
    await isSettled(ddlAfter);
    expect(held.entered).toEqual(['a']);
    held.release('a');
    expect((await a).property('name')).toBe('a');
    await isSettled(ddlAfter);
    expect(held.entered).toEqual(['a', 'ddl']);
    held.release('ddl');
    await ddlAfter;

    // Released by the time the caller resumes, after a success, a failure and a synchronous throw.
    const ok = append(named(insert(V2), 'ok'));
    held.release('ok');
    await ok;
    expect(lock.lockedVChannelCount).toBe(0);
    const failing = append(named(insert(V2), 'failing'));
    held.fail('failing', new Error('backend down'));
    await expect(failing).rejects.toThrow('backend down');
    expect(lock.lockedVChannelCount).toBe(0);
    const throwing = appendOnto(named(insert(V2), 'throwing'), () => {
      throw new Error('thrown, not rejected');
    });
    await expect(throwing).rejects.toThrow('thrown, not rejected');
    expect(lock.lockedVChannelCount).toBe(0);
    // And an exclusive message afterwards gets its lock at once.
    const exclusive = append(named(ddl(V2), 'ddl-v2'));
    await isSettled(exclusive);
    expect(held.entered.at(-1)).toBe('ddl-v2');
    held.release('ddl-v2');
    await exclusive;
  });

  it('releases the locks when the append fails, and a waiter that aborts never enters', async () => {
    const { lock, held, append, appendOnto, failed } = await setup();
    const failing = appendOnto(named(ddl(V1), 'fails'), () => Promise.reject(new Error('backend down')));
    await expect(failing).rejects.toThrow('backend down');
    expect(failed).toEqual([V1]);

    const holder = append(named(ddl(V1), 'holder'));
    const ac = new AbortController();
    const waiter = append(named(insert(V1), 'waiter'), ac.signal);
    await isSettled(waiter);
    ac.abort(StreamingError.onShutdown('caller left'));
    await expect(waiter).rejects.toThrow('caller left');
    held.release('holder');
    await holder;
    expect(held.entered).toEqual(['holder']);
    expect(lock.lockedVChannelCount).toBe(0);
  });

  it('releases an exclusive lock even when failing the vchannel\'s transactions throws', async () => {
    const lock = new LockInterceptor({
      txnManager: {
        failTxnAtVChannel: () => {
          throw new Error('txn manager bug');
        },
      },
    });
    const held = new HeldNext();
    const chain = new InterceptorChain({ interceptors: [lock], append: held.next });
    await chain.ready();
    const exclusive = chain.append(named(ddl(V1), 'ddl'), newAppendContext());
    const after = chain.append(named(insert(V1), 'after'), newAppendContext());
    await isSettled(after);
    expect(held.entered).toEqual(['ddl']);
    held.release('ddl');
    // The append itself succeeded: the hook's failure is the chain's to log, not the caller's.
    await exclusive;
    await isSettled(after);
    expect(held.entered).toEqual(['ddl', 'after']);
    held.release('after');
    await after;
    expect(lock.lockedVChannelCount).toBe(0);
  });
});
