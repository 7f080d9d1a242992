import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LevelWalBackendOpener } from '../../node/wal/backend/index.js';
import { levelOnlyTests } from './wal-backend-level-extras.js';
import { describeWalBackend } from './wal-backend.suite.js';

describeWalBackend(
  'level',
  () => {
    const dataRoot = mkdtempSync(join(tmpdir(), 'wal-backend-conformance-'));
    return {
      newOpener: () => new LevelWalBackendOpener({ dataRoot }),
      cleanup: () => Promise.resolve(rmSync(dataRoot, { recursive: true, force: true })),
    };
  },
  levelOnlyTests,
);
