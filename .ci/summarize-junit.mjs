// Prints the closing line CI reads ("N passed, N failed, N skipped") from vitest's JUnit report.
// A failed lint counts as one failed check.
import { existsSync, readFileSync } from 'node:fs';

const [file, lintFailed = '0'] = process.argv.slice(2);
if (!existsSync(file)) {
  console.log('no JUnit report was written (the test run crashed before reporting)');
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const xml = readFileSync(file, 'utf8');
const cases = xml.match(/<testcase\b[\s\S]*?(?:\/>|<\/testcase>)/g) ?? [];
let passed = 0;
let failed = 0;
let skipped = 0;
for (const c of cases) {
  if (/<(failure|error)\b/.test(c)) failed++;
  else if (/<skipped\b/.test(c)) skipped++;
  else passed++;
}
// Files that failed to load show up as suite-level errors without test cases.
const suiteErrors = (xml.match(/<testsuite\b[^>]*\berrors="(\d+)"/g) ?? [])
  .map((s) => Number(/errors="(\d+)"/.exec(s)[1]))
  .reduce((a, b) => a + b, 0);
const caseErrors = cases.filter((c) => /<error\b/.test(c)).length;
failed += Math.max(0, suiteErrors - caseErrors);
if (lintFailed === '1') failed += 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
