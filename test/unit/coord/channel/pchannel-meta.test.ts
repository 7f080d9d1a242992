import { describe, expect, it } from 'vitest';
import { PChannelMetaState, type PChannelMeta } from '../../../../coord/catalog/index.js';
import {
  assignHistories,
  assignToServerDone,
  currentAssignment,
  formatPChannelMeta,
  isAssigned,
  markAsUnavailable,
  newPChannelMeta,
  tryAssignToServerId,
} from '../../../../coord/channel/index.js';

const A = { serverId: 123n, address: '10.0.0.1:22222' };
const B = { serverId: 456n, address: '10.0.0.2:22222' };
const C = { serverId: 789n, address: '10.0.0.3:22222' };

function assign(meta: PChannelMeta, node = A, mode: 'rw' | 'ro' = 'rw'): PChannelMeta {
  const r = tryAssignToServerId(meta, mode, node);
  expect(r.changed).toBe(true);
  return r.meta;
}

function done(meta: PChannelMeta, now = 1_700_000_000n): PChannelMeta {
  const r = assignToServerDone(meta, now);
  expect(r.changed).toBe(true);
  return r.meta;
}

describe('PChannelMeta transitions (Milvus TestPChannel)', () => {
  it('a new meta is term 1, UNINITIALIZED, unassigned, without node or history', () => {
    const m = newPChannelMeta('dml_0', 'rw');
    expect(m.channel).toEqual({ name: 'dml_0', term: 1n, accessMode: 'rw' });
    expect(m.state).toBe(PChannelMetaState.UNINITIALIZED);
    expect(m.node).toBeUndefined();
    expect(m.histories).toEqual([]);
    expect(m.lastAssignTimestampSeconds).toBe(0n);
    expect(isAssigned(m)).toBe(false);
    expect(currentAssignment(m)).toBeUndefined();
  });

  it('the first assignment opens term 2 without history and leaves the original untouched', () => {
    const m = newPChannelMeta('dml_0', 'rw');
    const { meta, changed } = tryAssignToServerId(m, 'rw', B);
    expect(changed).toBe(true);
    expect(meta.channel.term).toBe(2n);
    expect(meta.state).toBe(PChannelMetaState.ASSIGNING);
    expect(meta.node).toEqual(B);
    expect(meta.histories).toEqual([]);
    expect(isAssigned(meta)).toBe(false);
    // copy-on-write
    expect(m.channel.term).toBe(1n);
    expect(m.state).toBe(PChannelMetaState.UNINITIALIZED);
    expect(Object.isFrozen(meta)).toBe(true);
    expect(Object.isFrozen(meta.histories)).toBe(true);
  });

  it('re-assigning while ASSIGNING bumps the term and records the previous attempt', () => {
    const t2 = assign(newPChannelMeta('dml_0', 'rw'), B);
    const t3 = assign(t2, A);
    expect(t3.channel.term).toBe(3n);
    expect(t3.state).toBe(PChannelMetaState.ASSIGNING);
    expect(t3.histories).toEqual([{ term: 2n, node: B, accessMode: 'rw' }]);
    expect(t2.histories).toEqual([]);
  });

  it('histories pile up across failed attempts, also on the same node, oldest first', () => {
    let m = assign(newPChannelMeta('dml_0', 'rw'), A); // t2@A
    m = assign(m, B); // t3@B, [t2@A]
    m = assign(m, B); // retry on the same node: t4@B, [t2@A, t3@B]
    expect(m.channel.term).toBe(4n);
    expect(m.histories.map((h) => [h.term, h.node.serverId])).toEqual([
      [2n, A.serverId],
      [3n, B.serverId],
    ]);
    expect(assignHistories(m)).toEqual([
      { channel: { name: 'dml_0', term: 2n, accessMode: 'rw' }, node: A },
      { channel: { name: 'dml_0', term: 3n, accessMode: 'rw' }, node: B },
    ]);
    expect(currentAssignment(m)).toEqual({ channel: { name: 'dml_0', term: 4n, accessMode: 'rw' }, node: B });
  });

  it('assignDone clears histories, sets ASSIGNED and the timestamp, keeps the term', () => {
    const m = done(assign(assign(newPChannelMeta('dml_0', 'rw'), B), A), 42n);
    expect(m.state).toBe(PChannelMetaState.ASSIGNED);
    expect(m.channel.term).toBe(3n);
    expect(m.histories).toEqual([]);
    expect(m.lastAssignTimestampSeconds).toBe(42n);
    expect(isAssigned(m)).toBe(true);
  });

  it('assignDone is a no-op outside ASSIGNING', () => {
    const fresh = newPChannelMeta('dml_0', 'rw');
    expect(assignToServerDone(fresh, 5n)).toEqual({ meta: fresh, changed: false });
    const assigned = done(assign(fresh), 5n);
    expect(assignToServerDone(assigned, 9n)).toEqual({ meta: assigned, changed: false });
    const unavailable = markAsUnavailable(assigned, assigned.channel.term).meta;
    expect(assignToServerDone(unavailable, 9n)).toEqual({ meta: unavailable, changed: false });
  });

  it('assigning an ASSIGNED channel to the same node and mode is a no-op', () => {
    const m = done(assign(newPChannelMeta('dml_0', 'rw'), A));
    const r = tryAssignToServerId(m, 'rw', A);
    expect(r.changed).toBe(false);
    expect(r.meta).toBe(m);
  });

  it('an ASSIGNED channel moves on a node change or an access-mode change, with history', () => {
    const m = done(assign(newPChannelMeta('dml_0', 'ro'), A, 'ro'));
    const toRw = assign(m, A, 'rw');
    expect(toRw.channel).toEqual({ name: 'dml_0', term: 3n, accessMode: 'rw' });
    expect(toRw.histories).toEqual([{ term: 2n, node: A, accessMode: 'ro' }]);
    const toC = assign(m, C, 'ro');
    expect(toC.node).toEqual(C);
    expect(toC.histories).toEqual([{ term: 2n, node: A, accessMode: 'ro' }]);
  });

  it('re-assigning the same node while ASSIGNING is not a no-op (a retry bumps the term)', () => {
    const m = assign(newPChannelMeta('dml_0', 'rw'), A);
    const r = tryAssignToServerId(m, 'rw', A);
    expect(r.changed).toBe(true);
    expect(r.meta.channel.term).toBe(3n);
  });

  it('markAsUnavailable with a stale term changes nothing; with the current term gives UNAVAILABLE', () => {
    const m = done(assign(assign(newPChannelMeta('dml_0', 'rw'), B), A)); // ASSIGNED at term 3
    expect(markAsUnavailable(m, 2n)).toEqual({ meta: m, changed: false });
    expect(markAsUnavailable(m, 4n)).toEqual({ meta: m, changed: false });
    const { meta, changed } = markAsUnavailable(m, 3n);
    expect(changed).toBe(true);
    expect(meta.state).toBe(PChannelMetaState.UNAVAILABLE);
    expect(meta.channel.term).toBe(3n);
    expect(meta.node).toEqual(A);
    expect(isAssigned(meta)).toBe(false);
  });

  it('markAsUnavailable only acts on ASSIGNED', () => {
    const fresh = newPChannelMeta('dml_0', 'rw');
    expect(markAsUnavailable(fresh, 1n).changed).toBe(false);
    const assigning = assign(fresh);
    expect(markAsUnavailable(assigning, 2n).changed).toBe(false);
    const unavailable = markAsUnavailable(done(assigning), 2n).meta;
    expect(markAsUnavailable(unavailable, 2n).changed).toBe(false);
  });

  it('an UNAVAILABLE channel is re-assigned, even to the same node, with term+1 and history', () => {
    const unavailable = markAsUnavailable(done(assign(newPChannelMeta('dml_0', 'rw'), A)), 2n).meta;
    const m = assign(unavailable, A);
    expect(m.channel.term).toBe(3n);
    expect(m.state).toBe(PChannelMetaState.ASSIGNING);
    expect(m.histories).toEqual([{ term: 2n, node: A, accessMode: 'rw' }]);
  });

  it('formats for logs with state, node and pending histories', () => {
    const m = assign(assign(newPChannelMeta('dml_0', 'rw'), B), A);
    expect(formatPChannelMeta(m)).toBe('dml_0:rw@3 ASSIGNING on 123@10.0.0.1:22222 <rw@2 on 456@10.0.0.2:22222');
    expect(formatPChannelMeta(newPChannelMeta('dml_1', 'ro'))).toBe('dml_1:ro@1 UNINITIALIZED on -');
  });
});
