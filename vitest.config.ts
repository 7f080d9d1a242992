import { defineConfig } from 'vitest/config';

// `.ci/run` sets VITEST_JSON_REPORT so it can count the tests that ran (and fail on none).
const jsonReport = process.env.VITEST_JSON_REPORT;

// One fork per test file: files that start a real etcd or child processes stay isolated,
// and two workers keep a 2-core machine responsive.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
    reporters: jsonReport ? ['default', 'json'] : ['default'],
    ...(jsonReport ? { outputFile: { json: jsonReport } } : {}),
  },
});
