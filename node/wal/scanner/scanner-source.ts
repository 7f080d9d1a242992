/**
 * What a WAL scanner reads from: the backend (catch-up) and, for read-write WALs, the
 * write-ahead buffer (tailing). The WAL adaptor provides it; the scanner depends on nothing else.
 */
import type { WalBackend } from '../backend/index.js';
import type { WriteAheadBuffer } from '../utility/index.js';

export interface ScannerSource {
  readonly backend: WalBackend;
  /** The tail buffer of a read-write WAL; undefined for read-only WALs (catch-up only). */
  readonly writeAheadBuffer: WriteAheadBuffer | undefined;
  /**
   * Asks the time tick operator for a persisted time tick soon (Milvus `TriggerSync(persisted)`),
   * so a new catch-up reader has a persisted tick to catch up to and can switch to tailing.
   */
  requestPersistedTimeTick(): void;
}
