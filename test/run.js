// Runs every uvu suite under test/ (TypeScript through tsx) and closes with the line CI reads:
// "N passed, N failed". A pattern argument narrows the files: `npm test -- graph`.
import { spawnSync } from 'node:child_process';

const pattern = process.argv[2] ?? '.*\\.test\\.ts$';
const res = spawnSync(process.execPath, ['--import', 'tsx', 'node_modules/uvu/bin.js', 'test', pattern], {
  stdio: ['ignore', 'pipe', 'inherit'],
  encoding: 'utf8',
  maxBuffer: 1 << 28,
});
process.stdout.write(res.stdout ?? '');
const num = (label) => Number((res.stdout ?? '').match(new RegExp(`${label}:\\s+(\\d+)`))?.[1] ?? NaN);
const total = num('Total');
const passed = num('Passed');
const skipped = num('Skipped') || 0;
if (!Number.isFinite(total) || !Number.isFinite(passed)) {
  console.log(`0 passed, 1 failed`);
  console.error(`test runner: uvu exited with status ${res.status} before printing its summary`);
  process.exit(1);
}
const failed = total - passed - skipped;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(res.status === 0 && failed === 0 ? 0 : 1);
