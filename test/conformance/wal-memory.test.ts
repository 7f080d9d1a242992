/** The WAL conformance suite on the in-memory backend. */
import { MemoryWalBackendOpener } from '../../node/wal/index.js';
import { describeWalSuite } from './wal.suite.js';

describeWalSuite('memory backend', async () => {
  const opener = new MemoryWalBackendOpener();
  return {
    backendOpener: opener,
    // The data lives in the opener: keep it, the next open at a higher term fences the old WAL.
    crash: () => Promise.resolve(opener),
    cleanup: () => opener.close(),
  };
});
