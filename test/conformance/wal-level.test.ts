/** The WAL conformance suite on the LevelDB backend (sync writes, as in production). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LevelWalBackendOpener, type WalBackendOpener } from '../../node/wal/index.js';
import { describeWalSuite } from './wal.suite.js';

describeWalSuite('level backend', async () => {
  const dataRoot = mkdtempSync(join(tmpdir(), 'wal-suite-'));
  const openers: WalBackendOpener[] = [new LevelWalBackendOpener({ dataRoot })];
  const current = (): WalBackendOpener => openers[openers.length - 1] as WalBackendOpener;
  return {
    get backendOpener() {
      return current();
    },
    async crash() {
      // Closing the opener releases LevelDB under the WALs still open on it, as a dying process would.
      await current().close();
      openers.push(new LevelWalBackendOpener({ dataRoot }));
      return current();
    },
    async cleanup() {
      await Promise.allSettled(openers.map((o) => o.close()));
      rmSync(dataRoot, { recursive: true, force: true });
    },
  };
});
