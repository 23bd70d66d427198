// The tables of scripts/soak-tests.sh: `soak-summary.mjs <dir> line <i>` prints run <i>'s one-line
// result; `soak-summary.mjs <dir> all` prints the tables and writes <dir>/summary.md.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';

const [dir, mode, arg] = process.argv.slice(2);
const root = process.cwd();
const read = (file) => readFileSync(join(dir, file), 'utf8').trim();
const label = read('command');
const suite = label === 'scripts/test.sh';
// Terminal colour codes (ESC [ ... letter) out of the logs.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g');
const plain = (s) => s.replace(ANSI, '');

const packages = new Map();
/** The name in the package.json nearest above a file of the repository, `-` for the root's own files. */
function packageOf(file) {
  for (let d = dirname(resolve(root, file)); d.startsWith(root + '/'); d = dirname(d)) {
    if (!packages.has(d)) {
      const p = join(d, 'package.json');
      packages.set(d, existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')).name ?? null) : null);
    }
    if (packages.get(d)) return packages.get(d);
  }
  return '-';
}

/** test.sh's phases, by the message of its `log` line, as they show in the table. */
const phases = [
  [/^prettier --check/, 'step: prettier --check'],
  [/^eslint scripts/, 'step: eslint scripts'],
  [/^nx run-many/, 'step: nx run-many (no failed task in its output)'],
];

function analyze({ run, rc, ms }) {
  const failures = new Map();
  const add = (pkg, file, test, message = '') => {
    const key = [pkg, file, test].join('\t');
    if (!failures.has(key)) failures.set(key, { pkg, file, test, message: plain(message) });
  };
  const warnings = [];
  let tests = 0;
  let failedTests = 0;
  const reported = new Set();
  const testFailed = new Set();

  // 1. vitest's json reports, one per package.
  const reports = join(dir, `run-${run}`);
  for (const f of existsSync(reports) ? readdirSync(reports).filter((f) => f.endsWith('.json')) : []) {
    let report;
    try {
      report = JSON.parse(readFileSync(join(reports, f), 'utf8'));
    } catch {
      warnings.push(`unreadable vitest report ${join(reports, f)}`);
      continue;
    }
    const byName = join(root, 'packages', basename(f, '.json'), 'package.json');
    const reportPkg = existsSync(byName)
      ? JSON.parse(readFileSync(byName, 'utf8')).name
      : basename(f, '.json');
    reported.add(reportPkg);
    tests += report.numPassedTests + report.numFailedTests;
    failedTests += report.numFailedTests;
    for (const file of report.testResults) {
      const pkg = packageOf(file.name);
      reported.add(pkg);
      const rel = relative(root, file.name);
      let any = false;
      for (const t of file.assertionResults) {
        if (t.status !== 'failed') continue;
        any = true;
        testFailed.add(pkg);
        add(pkg, rel, [...t.ancestorTitles, t.title].join(' > '), t.failureMessages?.[0] ?? '');
      }
      if (file.status === 'failed' && !any) {
        testFailed.add(pkg);
        add(pkg, rel, '(the file failed outside its tests: import, hook or timeout)', file.message);
      }
    }
  }

  // 2. The log: nx's failed tasks, and test.sh's phases (its `log` lines, `[rhi] <what>`).
  const lines = plain(readFileSync(join(dir, `run-${run}.log`), 'utf8')).split('\n');
  const ran = new Set();
  let phase = null;
  for (let j = 0; j < lines.length; j++) {
    const line = lines[j];
    const marker = /^\[rhi\] (.*)$/.exec(line);
    if (marker) phase = marker[1];
    const task = /^> nx run (\S+?):(\S+)(.*)$/.exec(line);
    if (task?.[2] === 'test') ran.add(task[1]);
    if (phase?.startsWith('prettier --check')) {
      const m = /^\[warn\] (.+)$/.exec(line);
      if (m && !/^Code style issues/.test(m[1])) add(packageOf(m[1]), m[1], 'step: prettier --check');
    }
    if (phase?.startsWith('eslint scripts') && line.startsWith(root + '/')) {
      add(packageOf(line.trim()), relative(root, line.trim()), 'step: eslint scripts');
    }
    if (/^\s*Failed tasks:\s*$/.test(line)) {
      for (let k = j + 1; k < lines.length; k++) {
        if (!lines[k].trim()) continue;
        const m = /^\s*-\s+(\S+)\s*$/.exec(lines[k]);
        if (!m) break;
        const [project, target] = m[1].split(':');
        if (target !== 'test') add(project, '-', `step: ${target}`);
        else if (!testFailed.has(project)) {
          add(
            project,
            '-',
            reported.has(project)
              ? 'step: test (vitest failed but no test did, e.g. an unhandled error: see the log)'
              : 'step: test (no vitest report: vitest did not start or crashed: see the log)',
          );
        }
      }
    }
  }
  for (const project of ran) {
    if (!reported.has(project) && !testFailed.has(project)) {
      warnings.push(
        `${project}:test ran but wrote no vitest report (from nx's cache? a vitest.config.ts that drops sharedConfig.test?)`,
      );
    }
  }
  if (rc !== 0 && failures.size === 0) {
    const known = phase && phases.find(([re]) => re.test(phase));
    const what = known ? known[1] : suite && !phase ? 'step: set-up (scripts/setup.sh)' : `step: ${label}`;
    add('-', '-', `${what} (exit ${rc})`);
  }
  if (rc === 0 && reported.size === 0) warnings.push('it passed but wrote no vitest report: no test count');
  return { run, rc, ms, tests: reported.size ? tests : null, failedTests, failures, warnings };
}

const runs = read('runs.tsv')
  .split('\n')
  .filter(Boolean)
  .map((l) => {
    const [run, rc, ms] = l.split('\t').map(Number);
    return { run, rc, ms };
  });
const log = (run) => join(dir, `run-${run}.log`);
const seconds = (ms) => (ms / 1000).toFixed(1);
const result = (r) => (r.rc === 0 ? 'pass' : `FAIL (exit ${r.rc})`);

if (mode === 'line') {
  const r = analyze(runs.find((r) => r.run === Number(arg)));
  const counts = r.tests === null ? 'no vitest report' : `${r.tests} tests, ${r.failedTests} failed`;
  const keys = [...r.failures.values()].map((f) => `${f.pkg} ${f.file} ${f.test}`);
  const more = keys.length > 2 ? ` and ${keys.length - 2} more` : '';
  const what = keys.length ? `: ${keys.slice(0, 2).join('; ')}${more}` : '';
  console.log(`${result(r)} in ${seconds(r.ms)} s, ${counts}${what}`);
  for (const w of r.warnings) console.log(`  warning: ${w}`);
  process.exit(0);
}

// mode === 'all'
const analyzed = runs.map(analyze);
const byTest = new Map();
for (const r of analyzed) {
  for (const [key, f] of r.failures) {
    if (!byTest.has(key)) byTest.set(key, { ...f, runs: [] });
    byTest.get(key).runs.push(r.run);
  }
}
const failures = [...byTest.values()].sort(
  (a, b) =>
    b.runs.length - a.runs.length ||
    a.pkg.localeCompare(b.pkg) ||
    a.file.localeCompare(b.file) ||
    a.test.localeCompare(b.test),
);
const n = analyzed.length;
const failedRuns = analyzed.filter((r) => r.rc !== 0);
const inRuns = (f) => `${f.runs.length}/${n} (run${f.runs.length > 1 ? 's' : ''} ${f.runs.join(', ')})`;
const failureRows = failures.map((f) => [f.pkg, f.file, f.test, inRuns(f)]);
const failureHead = ['package', 'file', 'test', 'failed in'];
const runRows = analyzed.map((r) => [
  String(r.run),
  result(r),
  seconds(r.ms),
  r.tests === null ? '-' : String(r.tests),
  r.tests === null ? '-' : String(r.failedTests),
  r.rc === 0 ? '' : log(r.run),
]);
const runHead = ['run', 'result', 'seconds', 'tests', 'failed tests', 'log'];
const commit = read('commit');
const planned = Number(read('planned'));
const stopped = n < planned ? ` (stopped after ${n} of ${planned})` : '';
const title = `${n} run${n > 1 ? 's' : ''} of ${label}${stopped}: ${
  failedRuns.length ? `${failedRuns.length} failed` : 'all passed'
}`;
const warnings = analyzed.flatMap((r) => r.warnings.map((w) => `run ${r.run}: ${w}`));

const tty = process.stdout.isTTY;
const bold = (s) => (tty ? `\x1b[1m${s}\x1b[0m` : s);
const red = (s) => (tty ? `\x1b[31m${s}\x1b[0m` : s);
function text(head, rows) {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const fmt = (cells) =>
    '  ' +
    cells
      .map((s, c) => s.padEnd(widths[c]))
      .join('  ')
      .trimEnd();
  return [bold(fmt(head)), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n');
}
const out = [bold(`soak: ${title}`), `  ${commit}; started ${basename(dir)}; everything in ${dir}/`, ''];
if (failures.length) out.push(red(bold('Failures by test')), text(failureHead, failureRows), '');
else out.push(`No failures in ${n} run${n > 1 ? 's' : ''}.`, '');
out.push(bold('Runs'), text(runHead, runRows));
if (warnings.length) out.push('', bold('Warnings'), ...warnings.map((w) => `  ${w}`));
out.push('', `summary: ${join(dir, 'summary.md')}`);
console.log(out.join('\n'));

const cell = (s) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const md = (head, rows) =>
  [head, head.map(() => '---'), ...rows].map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n');
const code = (s) => (s && s !== '-' ? `\`${s}\`` : s);
const doc = [
  `# Soak: ${title}`,
  '',
  `Command \`${label}\`, ${commit}, started ${basename(dir)}, logs in \`${dir}/\`.`,
];
doc.push('', '## Failures by test', '');
if (failures.length)
  doc.push(
    md(
      failureHead,
      failures.map((f) => [code(f.pkg), code(f.file), f.test, inRuns(f)]),
    ),
  );
else doc.push(`None in ${n} run${n > 1 ? 's' : ''}.`);
doc.push(
  '',
  '## Runs',
  '',
  md(
    runHead,
    runRows.map((r) => [...r.slice(0, 5), code(r[5])]),
  ),
);
if (warnings.length) doc.push('', '## Warnings', '', ...warnings.map((w) => `- ${w}`));
const messages = failures.filter((f) => f.message.trim());
if (messages.length) {
  doc.push('', '## First failure messages');
  for (const f of messages) {
    const frames = /^\s+at .*(node_modules|node:internal|<anonymous>)/;
    const lines = f.message.trim().split('\n');
    const first = lines
      .filter((l) => !frames.test(l))
      .slice(0, 8)
      .join('\n');
    doc.push('', `${f.pkg} \`${f.file}\` ${f.test} (run ${f.runs[0]}):`, '', '```', first, '```');
  }
}
writeFileSync(join(dir, 'summary.md'), doc.join('\n') + '\n');
