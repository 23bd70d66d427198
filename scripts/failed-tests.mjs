// Prints the tests that failed, with the start of each failure message, from the vitest json reports in
// <dir> (vitest.shared.ts writes one per package when RHI_TEST_REPORT_DIR is set). scripts/test.sh calls
// it when the suite fails, so the end of a long CI log says which test failed and why.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const [dir] = process.argv.slice(2);
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g');
const LINES = 25;
const excerpt = (text) =>
  text
    .replace(ANSI, '')
    .split('\n')
    .slice(0, LINES)
    .map((l) => `    ${l}`)
    .join('\n');

let failed = 0;
for (const f of existsSync(dir)
  ? readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .sort()
  : []) {
  let report;
  try {
    report = JSON.parse(readFileSync(join(dir, f), 'utf8'));
  } catch {
    console.log(`failed-tests: unreadable vitest report ${join(dir, f)}`);
    continue;
  }
  for (const file of report.testResults ?? []) {
    const name = relative(process.cwd(), file.name);
    const tests = (file.assertionResults ?? []).filter((t) => t.status === 'failed');
    for (const t of tests) {
      failed++;
      console.log(`FAILED ${name} > ${t.fullName}`);
      for (const m of t.failureMessages ?? []) console.log(excerpt(m));
    }
    if (tests.length === 0 && file.status === 'failed') {
      failed++;
      console.log(`FAILED ${name} (the file itself)`);
      if (file.message) console.log(excerpt(file.message));
    }
  }
}
console.log(
  failed === 0 ? 'failed-tests: no failed test in the vitest reports' : `failed-tests: ${failed} failed`,
);
