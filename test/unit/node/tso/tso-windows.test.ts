/** The prefetched-range bookkeeping of the remote TSO client: order, clipping, staleness. */
import { describe, expect, it } from 'vitest';
import { TsoWindows } from '../../../../node/tso/tso-windows.js';

describe('TsoWindows', () => {
  it('hands out consecutive timestamps from ranges in order and drops ranges too short for a request', () => {
    const w = new TsoWindows(1_000, () => 0);
    expect(w.take(1)).toBeUndefined();
    expect(w.add(100n, 5)).toBe(5n);
    expect(w.add(200n, 10)).toBe(10n);
    expect(w.take(2)).toBe(100n);
    expect(w.take(3)).toBe(102n);
    // 100..104 used up; a request for 4 comes from the next range.
    expect(w.take(4)).toBe(200n);
    expect(w.remaining()).toBe(6n);
    // Too big for what is left: the short range is dropped, nothing is handed out.
    expect(w.take(7)).toBeUndefined();
    expect(w.remaining()).toBe(0n);
    expect(w.lastIssued).toBe(203n);
  });

  it('clips a range that does not start after everything handed out or queued', () => {
    const w = new TsoWindows(1_000, () => 0);
    w.add(100n, 10);
    expect(w.take(5)).toBe(100n);
    expect(w.add(90n, 30)).toBe(10n); // 110..119 usable: clipped to after the queued 100..109
    expect(w.add(50n, 10)).toBe(0n); // entirely in the past
    expect(w.take(5)).toBe(105n);
    expect(w.take(10)).toBe(110n);
    expect(w.take(1)).toBeUndefined();
  });

  it('drops stale ranges and clear() drops everything', () => {
    let now = 0;
    const w = new TsoWindows(50, () => now);
    w.add(10n, 10);
    now = 30;
    w.add(100n, 10);
    expect(w.oldestAgeMs()).toBe(30);
    now = 60; // the first range is 60 ms old: stale
    expect(w.take(1)).toBe(100n);
    w.clear();
    expect(w.remaining()).toBe(0n);
    expect(w.oldestAgeMs()).toBeUndefined();
    // Still strictly after what was handed out.
    w.add(95n, 10);
    expect(w.take(1)).toBe(101n);
  });
});
