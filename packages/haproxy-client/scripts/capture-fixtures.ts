// Re-captures test/fixtures/ from the real HAProxy on this machine: `node scripts/capture-fixtures.ts`
// (Node 24 runs this TypeScript directly). Replies are stored byte for byte, terminating empty line included.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURE_CHANGES, FIXTURE_EXPECTED, fixtureSections } from '../test/support/fixture-config.ts';
import { statsCommand, startBackends, startHaproxy, waitFor } from '@rhi/test-support';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures');

const backends = await startBackends(2);
const up = backends.ports[0]!;
const closed = backends.ports[1]!;
await backends.stop(1);
const haproxy = await startHaproxy({
  masterWorker: false,
  sections: (dir) => fixtureSections(dir, up, closed),
});
try {
  const admin = haproxy.adminSocket;
  for (const change of FIXTURE_CHANGES) {
    const reply = await statsCommand(admin, change);
    if (reply !== '\n') throw new Error(`${change}: ${reply}`);
  }
  const statuses = (csv: string): Map<string, string> =>
    new Map(
      csv
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'))
        .map((l) => l.split(','))
        .map((f) => [`${f[0]}/${f[1]}`, f[17]!]),
    );
  const expected = new Map<string, string>([
    ...Object.entries(FIXTURE_EXPECTED.frontends).map(([n, s]): [string, string] => [`${n}/FRONTEND`, s]),
    ...Object.entries(FIXTURE_EXPECTED.backends).map(([n, s]): [string, string] => [`${n}/BACKEND`, s]),
    ...Object.entries(FIXTURE_EXPECTED.servers),
  ]);
  await waitFor('the fixture state', async () => {
    const now = statuses(await statsCommand(admin, 'show stat'));
    return [...expected].every(([k, v]) => now.get(k) === v) ? true : undefined;
  });

  const files: Record<string, [socket: string, command: string]> = {
    'show-stat.txt': [admin, 'show stat'],
    'show-stat-fe-be.txt': [admin, 'show stat -1 3 -1'],
    'show-stat-up.txt': [admin, 'show stat -1 7 -1 up'],
    'show-info.txt': [admin, 'show info'],
    'show-servers-state.txt': [admin, 'show servers state'],
    'show-events.txt': [admin, 'show events events'],
    'show-event-sinks.txt': [admin, 'show events'],
    'info-and-stat.txt': [admin, 'show info;show stat -1 3 -1'],
    'version-and-level.txt': [admin, 'show version;show cli level'],
    'stat-selection.txt': [
      admin,
      'show stat fe_open 1 -1;show stat li_sockets 7 -1;show stat nosuch 2 -1;show stat be_mixed 6 -1',
    ],
    'stat-selection-wrong-type.txt': [admin, 'show stat fe_open 2 -1'],
    'stat-selection-by-id.txt': [admin, 'show stat 5 2 -1'],
    'errors/success.txt': [admin, 'set server be_mixed/up1 weight 1'],
    'errors/already-enabled.txt': [admin, 'enable frontend fe_open'],
    'errors/no-such-server.txt': [admin, 'disable server be_mixed/nosuch'],
    'errors/no-such-backend.txt': [admin, 'disable server nosuch/s1'],
    'errors/no-such-frontend.txt': [admin, 'disable frontend nosuch'],
    'errors/no-such-proxy.txt': [admin, 'show stat nosuch -1 -1'],
    'errors/cant-find-backend.txt': [admin, 'show servers state nosuch'],
    'errors/permission-denied.txt': [haproxy.operatorSocket, 'disable server be_mixed/up1'],
    'errors/permission-denied-events.txt': [haproxy.userSocket, 'show events events'],
    'errors/unknown-command.txt': [admin, 'frobnicate'],
    'errors/bad-state.txt': [admin, 'set server be_mixed/up1 state sleepy'],
    'errors/bad-weight.txt': [admin, 'set server be_mixed/up1 weight heavy'],
    'errors/no-such-event-sink.txt': [admin, 'show events nosuch'],
    'errors/not-a-ring.txt': [admin, 'show events stdout'],
  };
  await mkdir(join(out, 'errors'), { recursive: true });
  for (const [file, [socket, command]] of Object.entries(files)) {
    await writeFile(join(out, file), await statsCommand(socket, command));
  }
  const version = (await statsCommand(admin, 'show version')).trim();
  console.log(`captured ${Object.keys(files).length} fixtures from HAProxy ${version} into ${out}`);
} finally {
  await haproxy.stop();
  await backends.close();
}
