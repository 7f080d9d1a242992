#!/usr/bin/env node
// Reads vitest's JSON report and prints the plain closing line "N passed, N failed".
// Exits non-zero when the report is missing, when a test failed, or when no test ran.
import { readFileSync } from 'node:fs';

const file = process.argv[2];
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (e) {
  process.stderr.write(`test-summary: no vitest report at ${file}: ${e.message}\n`);
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
const failed = (report.numFailedTests ?? 0);
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
const suitesFailed = report.numFailedTestSuites ?? 0;
process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
if (passed === 0) {
  process.stderr.write('test-summary: no test ran\n');
  process.exit(1);
}
if (failed > 0 || suitesFailed > 0 || report.success === false) process.exit(1);
