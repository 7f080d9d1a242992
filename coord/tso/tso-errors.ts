/**
 * The errors the coordinator TSO fails with, worded once: a lost window is permanent
 * (UNRECOVERABLE: this allocator must never hand out another timestamp), a used-up window that
 * the store would not extend is transient (INNER: retry, possibly on another coordinator).
 */
import { StreamingError } from '../../shared/index.js';
import type { TsoWindow } from './tso-window.js';

/** Another allocator replaced (or someone deleted) our window at `key`. */
export function tsoWindowLost(key: string, ownerId: string, current: TsoWindow | undefined): StreamingError {
  const holder = current === undefined ? 'the key was deleted' : `now owned by ${current.owner} up to ${current.endMs} ms`;
  return StreamingError.unrecoverable(`tso: another allocator took over the window at ${key} (${holder}); ${ownerId} stops allocating`);
}

/** The window is used up and could not be renewed within `waitMs`; `last` is the store's error. */
export function tsoWindowExhausted(endMs: bigint | undefined, waitMs: number, last: unknown): StreamingError {
  const cause = last instanceof Error ? `: ${last.message}` : '';
  return StreamingError.inner(
    `tso: the persisted window (physical < ${String(endMs)} ms) is used up and could not be renewed within ${waitMs} ms${cause}`,
    last,
  );
}
