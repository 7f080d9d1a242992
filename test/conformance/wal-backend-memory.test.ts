import { MemoryWalBackendOpener } from '../../node/wal/backend/index.js';
import { describeWalBackend } from './wal-backend.suite.js';

// One opener holds the data, so "a new opener over the same storage" is that same opener until
// it is closed; memory has nothing to remove afterwards.
describeWalBackend('memory', () => {
  let opener = new MemoryWalBackendOpener();
  let first = true;
  return {
    newOpener: () => {
      if (first) {
        first = false;
        return opener;
      }
      opener = new MemoryWalBackendOpener();
      return opener;
    },
    cleanup: () => Promise.resolve(),
  };
});
