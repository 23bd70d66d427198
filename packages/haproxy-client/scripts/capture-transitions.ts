// Captures test/fixtures/ring-transitions.json from the real HAProxy on this machine:
// `node scripts/capture-transitions.ts`, after a build (it reads `show stat` with the package's parser).
// Each step is one state-change command, the lines it wrote to the events ring, and the FRONTEND/BACKEND
// statuses `show stat` reports right after: what a ring line claims about a proxy is checked against
// what HAProxy then says.
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseStat } from '../dist/index.js';
import { statsCommand, freePort, startBackends, startHaproxy } from '@rhi/test-support';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'ring-transitions.json');

const COMMANDS = [
  'set server be_app/s1 health down',
  'set server be_app/s2 health down',
  'set server be_app/b1 health down',
  'set server be_app/s1 health up',
  'set server be_app/s1 state drain',
  'set server be_app/s1 state ready',
  'set server be_app/s1 health stopping',
  'set server be_app/s1 health up',
  'set server be_app/s1 weight 0',
  'set server be_app/s1 weight 1',
  'disable server be_app/s1',
  'enable server be_app/s1',
  'set server be_app/b1 health up',
  'disable server be_app/s1',
  'disable frontend fe_web',
  'enable frontend fe_web',
  'set server be_solo/s1 state maint',
  'set server be_solo/s1 state ready',
  'set server be_solo/s1 health down',
  'set server be_solo/s1 health up',
];

const backends = await startBackends(2);
const [a, b] = backends.ports;
const port = await freePort();
const haproxy = await startHaproxy({
  masterWorker: false,
  sections: () =>
    [
      'frontend fe_web',
      `    bind 127.0.0.1:${port}`,
      '    default_backend be_app',
      'backend be_app',
      `    server s1 127.0.0.1:${a} check inter 60s`,
      `    server s2 127.0.0.1:${b} check inter 60s`,
      `    server b1 127.0.0.1:${b} check inter 60s backup`,
      'backend be_solo',
      `    server s1 127.0.0.1:${a} check inter 60s`,
    ].join('\n'),
});

const statuses = (csv: string): Record<string, string> =>
  Object.fromEntries(
    parseStat(csv)
      .rows.filter((r) => r.type === 'frontend' || r.type === 'backend')
      .map((r) => [`${r.type === 'frontend' ? 'f' : 'b'}:${r.proxy}`, r.status]),
  );
const ringLines = async (): Promise<string[]> =>
  (await statsCommand(haproxy.adminSocket, 'show events events'))
    .split('\n')
    .filter((l) => l.startsWith('<'));

try {
  const steps = [];
  const initial = statuses(await statsCommand(haproxy.adminSocket, 'show stat'));
  for (const command of COMMANDS) {
    const before = (await ringLines()).length;
    const reply = await statsCommand(haproxy.adminSocket, command);
    if (reply !== '\n') throw new Error(`${command}: ${reply}`);
    const lines = (await ringLines()).slice(before);
    steps.push({ command, lines, after: statuses(await statsCommand(haproxy.adminSocket, 'show stat')) });
  }
  const version = (await statsCommand(haproxy.adminSocket, 'show version')).trim();
  await writeFile(out, `${JSON.stringify({ haproxy: version, initial, steps }, null, 2)}\n`);
  console.log(`captured ${steps.length} transitions from HAProxy ${version} into ${out}`);
} finally {
  await haproxy.stop();
  await backends.close();
}
